# netqos developer entry points. A fresh machine needs only python3.11, java 17, mvn, go and apt:
#   make demo    install what is missing, then run the end-to-end demo
#   make test    install what is missing, lint + type-check, then run every test (what CI runs)
# Install steps live in scripts/bootstrap.sh and are stamped: a second run is instant and offline.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
BOOTSTRAP := bash scripts/bootstrap.sh
# Only folders that exist: git drops empty ones, and ruff fails on a missing path.
LINT_PATHS := $(wildcard netqos tests jobs dags benchmarks scripts ml)
PYTEST_ARGS ?=

# --- environment for everything make runs -------------------------------------------------------
CACHE_HOME := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)
# uv's download cache outside the repo, so CI's fresh clone reuses it.
export UV_CACHE_DIR ?= $(CACHE_HOME)/uv
# Where `make jars` puts the Spark jars; exported so Settings.spark.jars_dir reads the same folder.
NETQOS_SPARK__JARS_DIR ?= $(if $(NETQOS_HOME),$(NETQOS_HOME)/jars,$(CACHE_HOME)/netqos/jars)
export NETQOS_SPARK__JARS_DIR
# Spark's Python workers must be the venv's interpreter, not whatever `python3` is on PATH.
export PYSPARK_PYTHON := $(CURDIR)/$(PY)
export PYSPARK_DRIVER_PYTHON := $(CURDIR)/$(PY)
# Bind Spark to loopback: no hostname lookups, no "resolves to a loopback address" warning.
export SPARK_LOCAL_IP ?= 127.0.0.1
# Spark wants JAVA_HOME; derive it from `java` on PATH when the user has not set it.
ifeq ($(JAVA_HOME),)
JAVA_HOME := $(shell j=$$(command -v java 2>/dev/null) && dirname "$$(dirname "$$(readlink -f "$$j")")")
endif
ifneq ($(JAVA_HOME),)
export JAVA_HOME
endif

.PHONY: help venv deps jars tools minio landing bootstrap lint test test-unit demo bench check-delta airflow lock clean distclean

help:  ## list targets
	@grep -E '^[a-z-]+( [a-z-]+)*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

# --- installs (each is a no-op when its stamp matches) ------------------------------------------
venv deps:  ## .venv with requirements.txt + netqos (editable)
	@$(BOOTSTRAP) venv

jars:  ## Delta + hadoop-aws jars into $NETQOS_SPARK__JARS_DIR (~/.cache/netqos/jars)
	@$(BOOTSTRAP) jars

tools:  ## tshark, tcpdump, chromium, postgresql, redis (apt), MinIO and checkov for the tests, only if missing
	@$(BOOTSTRAP) tools minio checkov

landing: minio  ## a local MinIO landing zone on 127.0.0.1:9000 (foreground; credentials in .cache/minio/env)
	@bash scripts/minio-local.sh

minio:  ## MinIO server binary (go install, ~7 min once) into $NETQOS_HOME/bin (~/.cache/netqos/bin)
	@$(BOOTSTRAP) minio

bootstrap: deps jars tools  ## everything above

# --- checks ---------------------------------------------------------------------------------------
lint: deps  ## ruff + mypy --strict (config in pyproject.toml)
	$(PY) -m ruff check $(LINT_PATHS)
	$(PY) -m mypy

# CI runs every marker (unit, integration, spark, oracle, slow); narrow locally with PYTEST_ARGS="-m unit".
# The suite runs on PYTEST_WORKERS processes (files stay whole on one worker; each has its own Spark session and
# servers), then the `serial` tests (live traffic) alone. PYTEST_ARGS set: one plain pytest run with those args.
PYTEST_WORKERS ?= 2
test: bootstrap lint  ## lint, then the whole pytest suite
ifeq ($(strip $(PYTEST_ARGS)),)
	rc=0; $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not serial" || rc=$$?; \
	$(PY) -m pytest -m serial || rc=$$?; exit $$rc
else
	$(PY) -m pytest $(PYTEST_ARGS)
endif

test-unit: deps  ## fast loop: unit tests only, no jars/tshark needed
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

check-delta: deps jars  ## smoke: Spark + Delta write/read with the cached jars
	$(PY) scripts/check_delta.py

# --- running --------------------------------------------------------------------------------------
demo: bootstrap  ## end-to-end demo on the sample captures
	$(VENV)/bin/netqos demo

bench: bootstrap  ## decoder benchmark
	$(PY) benchmarks/decode.py

airflow: bootstrap  ## local Airflow on http://127.0.0.1:8080 (PostgreSQL + MinIO; `netqos airflow down` stops it)
	$(VENV)/bin/netqos airflow up

# --- housekeeping ---------------------------------------------------------------------------------
lock: deps  ## recompile requirements.txt from requirements.in (needs network)
	$(VENV)/bin/uv pip compile requirements.in -o requirements.txt --python-version 3.11

clean:  ## remove generated files in the repo (tables, caches); keeps .venv and ~/.cache
	rm -rf warehouse spark-warehouse metastore_db derby.log out build dist *.egg-info \
		.pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean  ## clean + remove .venv (the jar and uv caches in ~/.cache stay)
	rm -rf $(VENV)
