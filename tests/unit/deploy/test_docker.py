"""docker/: the Compose file, the images and their scripts, checked without a Docker engine.

What a typo there would break only at `docker compose up` time is checked here: the structure of compose.yaml,
its variables against docker/.env.example, its NETQOS_* variables against netqos.settings.Settings, buckets and
ports against the local stack, every command against the real CLI parsers (netqos, airflow, mlflow) and the
Spark jars, every mounted or copied path against the repository, and every Dockerfile against hadolint."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from netqos.orchestration import local_airflow
from netqos.settings import S3Settings, Settings

REPO = Path(__file__).resolve().parents[3]
DOCKER = REPO / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILES = sorted(DOCKER.glob("*/Dockerfile"))
HADOLINT = Path(sys.executable).with_name("hadolint")
VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY\b|_KEY_ID\b|TOKEN|FERNET|_AUTH$|CONN_", re.IGNORECASE)
# Matched by SECRET_NAME but hold no secret.
NOT_SECRETS = {"AIRFLOW_CONN_SPARK_DEFAULT", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"}
# Keys of a Compose service this file may use (a subset of the Compose specification's service properties).
SERVICE_KEYS = {
    "image", "build", "command", "entrypoint", "environment", "env_file", "ports", "volumes", "depends_on",
    "healthcheck", "restart", "profiles", "deploy", "cap_add", "cap_drop", "network_mode", "security_opt",
    "stop_grace_period", "stop_signal", "user", "working_dir", "init", "labels", "networks", "expose", "extra_hosts",
}  # fmt: skip
BUILD_KEYS = {"context", "dockerfile", "args", "target", "additional_contexts", "labels"}
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "start_interval", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
CONTAINER_PORTS = {"minio": 9000, "mlflow": 5000, "airflow-api-server": 8080}
SPARK_MAIN_CLASSES = {"spark-master": "org.apache.spark.deploy.master.Master",
                      "spark-worker": "org.apache.spark.deploy.worker.Worker"}  # fmt: skip
# airflow_env() variables the Compose deployment sets differently on purpose, and why.
AIRFLOW_ENV_DIFFERENCES = {
    "AIRFLOW__CORE__PARALLELISM",  # local: 2 on a laptop; here Airflow's default, bounded by worker concurrency
    "AIRFLOW__API__HOST",  # local: 127.0.0.1; in a container the default 0.0.0.0, published on NETQOS_BIND_ADDRESS
    "AIRFLOW__API__PORT",  # the default, 8080
    "AIRFLOW__API__WORKERS",  # the default
    "AIRFLOW__LOGGING__DAG_PROCESSOR_CHILD_PROCESS_LOG_DIRECTORY",  # the default, under AIRFLOW_HOME
}


# --- loading ---------------------------------------------------------------------------------------------------
def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


def env_example_names(path: Path = ENV_EXAMPLE) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line.split("=", 1)[0])
    return names


def strings(node: Any) -> Iterator[str]:
    """Every string value (and mapping key) in a parsed YAML tree."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)


def interpolate(value: str) -> str:
    """Compose interpolation with stand-in values: defaults where given, `x<name>` for required ones."""

    def sub(m: re.Match[str]) -> str:
        name, rest = m.group(1), m.group(0)[len(m.group(1)) + 2 : -1]
        if rest.startswith((":-", "-")):
            return rest.split("-", 1)[1]
        return "x" + name.lower()

    return VAR.sub(sub, value).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def argv(value: Any) -> list[str]:
    if value is None:
        return []
    return [interpolate(str(v)) for v in value] if isinstance(value, list) else shlex.split(interpolate(value))


def healthcheck_argv(service: dict[str, Any]) -> list[str]:
    test = (service.get("healthcheck") or {}).get("test") or []
    if not test:
        return []
    if test[0] == "CMD":
        return [interpolate(t) for t in test[1:]]
    assert test[0] == "CMD-SHELL", test
    return shlex.split(interpolate(" ".join(test[1:])))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        buf = f"{buf} {line[:-1]}" if line.endswith("\\") else f"{buf} {line}"
        if not line.endswith("\\"):
            word, _, rest = buf.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def image_entrypoint(dockerfile: Path) -> list[str]:
    entry = [json.loads(a) for i, a in dockerfile_instructions(dockerfile) if i == "ENTRYPOINT"]
    ep: list[str] = entry[-1] if entry else []
    return [a for a in ep if a not in ("tini", "--")]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


# --- structure ---------------------------------------------------------------------------------------------------
def structure_errors(data: dict[str, Any]) -> list[str]:
    errors = []
    for key in data:
        if key not in ("name", "services", "volumes", "networks", "configs", "secrets") and not key.startswith("x-"):
            errors.append(f"unknown top-level key {key}")
    services = data.get("services") or {}
    volumes = set(data.get("volumes") or {})
    for name, svc in services.items():
        if not re.fullmatch(r"[a-zA-Z0-9._-]+", name):
            errors.append(f"bad service name {name}")
        errors += [f"{name}: unknown key {k}" for k in svc if k not in SERVICE_KEYS]
        if "image" not in svc and "build" not in svc:
            errors.append(f"{name}: neither image nor build")
        build = svc.get("build")
        if isinstance(build, dict):
            errors += [f"{name}: unknown build key {k}" for k in build if k not in BUILD_KEYS]
        hc = svc.get("healthcheck")
        if hc is not None:
            errors += [f"{name}: unknown healthcheck key {k}" for k in hc if k not in HEALTHCHECK_KEYS]
            if hc.get("test", [None])[0] not in ("CMD", "CMD-SHELL", "NONE"):
                errors.append(f"{name}: healthcheck test must be a CMD or CMD-SHELL list")
        for dep, cond in (svc.get("depends_on") or {}).items():
            if dep not in services or dep == name:
                errors.append(f"{name}: depends_on {dep}, which is not another service")
                continue
            condition = cond.get("condition")
            if condition not in CONDITIONS:
                errors.append(f"{name}: depends_on {dep} with condition {condition}")
            if condition == "service_healthy" and "healthcheck" not in services[dep]:
                errors.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and services[dep].get("restart") != "no":
                errors.append(f"{name}: waits for {dep} to complete, but {dep} restarts")
            if services[dep].get("profiles") and not set(services[dep]["profiles"]) & set(svc.get("profiles", [])):
                errors.append(f"{name}: depends on {dep}, which only runs in profiles {services[dep]['profiles']}")
        for vol in svc.get("volumes") or []:
            source = str(vol).split(":", 1)[0]
            if not source.startswith((".", "/")) and source not in volumes:
                errors.append(f"{name}: volume {source} is not declared under volumes:")
        if svc.get("network_mode") == "host" and svc.get("ports"):
            errors.append(f"{name}: ports are meaningless with network_mode host")
    return errors


def test_compose_structure(compose: dict[str, Any]) -> None:
    assert structure_errors(compose) == []
    assert compose["services"]["airflow-worker"]["command"] == ["airflow", "celery", "worker"]


def test_structure_check_catches_mistakes(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["mlflow"]["depends_on"]["postgress"] = {"condition": "service_healthy"}
    broken["services"]["redis"]["healthchek"] = {}
    broken["services"]["mlflow"]["depends_on"]["minio-init"]["condition"] = "service_healthy"
    errors = structure_errors(broken)
    assert any("postgress" in e for e in errors)
    assert any("healthchek" in e for e in errors)
    assert any("minio-init has no healthcheck" in e for e in errors)


def test_every_service_that_others_wait_on_or_that_serves_has_a_healthcheck(services: dict[str, Any]) -> None:
    one_shots = {n for n, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"minio-init", "airflow-init"}
    long_running = set(services) - one_shots - {"capture-agent", "prometheus", "grafana"}
    assert {n for n in long_running if "healthcheck" not in services[n]} == set()


# --- variables and secrets ---------------------------------------------------------------------------------------
def undeclared_variables(data: dict[str, Any], declared: set[str]) -> set[str]:
    used = {m.group(1) for s in strings(data) for m in VAR.finditer(s)}
    return used - declared


def literal_secrets(data: dict[str, Any]) -> list[str]:
    """Secret-looking settings whose value is not (only) an interpolated variable."""
    found = []
    for name, svc in data["services"].items():
        for key, value in environment(svc).items():
            if SECRET_NAME.search(key) and key not in NOT_SECRETS and not VAR.search(value):
                found.append(f"{name}: {key}")
        for value in environment(svc).values():  # user:password@ in URLs must be a variable
            m = re.search(r"://[^/@\s:]*:([^/@\s]+)@", VAR.sub("VAR", value))
            if m and m.group(1) != "VAR":
                found.append(f"{name}: password in URL {value!r}")
    return found


def test_every_variable_is_in_env_example(compose: dict[str, Any]) -> None:
    declared = env_example_names()
    assert undeclared_variables(compose, declared) == set()
    assert undeclared_variables(compose, declared - {"REDIS_PASSWORD"}) == {"REDIS_PASSWORD"}
    used = {m.group(1) for s in strings(compose) for m in VAR.finditer(s)}
    assert declared - used == set(), "stale variables in .env.example"


def test_env_example_holds_no_secret_values() -> None:
    for line in ENV_EXAMPLE.read_text().splitlines():
        name, _, value = line.partition("=")
        if not line.startswith("#") and (SECRET_NAME.search(name) or name.endswith("_USER")):
            assert value == "", f"{name} has a value in .env.example"


def test_no_literal_secrets(compose: dict[str, Any]) -> None:
    assert literal_secrets(compose) == []
    broken = json.loads(json.dumps(compose))
    broken["services"]["minio"]["environment"]["MINIO_ROOT_PASSWORD"] = "minioadmin"
    broken["services"]["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"] = "postgresql://m:hunter2@postgres/m"
    assert len(literal_secrets(broken)) == 2


def test_secrets_are_required_not_defaulted(compose: dict[str, Any]) -> None:
    """A secret never falls back to a default value: `${VAR:?}` stops compose when it is unset or empty."""
    for s in strings(compose):
        for m in VAR.finditer(s):
            if SECRET_NAME.search(m.group(1)) or m.group(1).endswith("_USER"):
                assert ":?" in m.group(0), f"{m.group(0)} must be required (${{{m.group(1)}:?}})"


def test_docker_env_is_ignored() -> None:
    r = subprocess.run(["git", "check-ignore", "-q", "docker/.env"], cwd=REPO, check=False)
    assert r.returncode == 0, "docker/.env (real secrets) must be ignored by git"


# --- consistency with netqos ------------------------------------------------------------------------------------
def unknown_netqos_variables(names: set[str]) -> list[str]:
    """NETQOS_* names that are not a field path of Settings (NETQOS_<FIELD>[__<FIELD>])."""
    bad = []
    for name in sorted(n for n in names if n.startswith("NETQOS_")):
        model: Any = Settings
        for part in name.removeprefix("NETQOS_").lower().split("__"):
            fields = getattr(model, "model_fields", None)
            if not fields or part not in fields:
                bad.append(name)
                break
            model = fields[part].annotation
    return bad


def test_netqos_variables_are_settings_fields(services: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # no netqos.toml
    monkeypatch.delenv("NETQOS_CONFIG", raising=False)
    for name, svc in services.items():
        env = {k: interpolate(v) for k, v in environment(svc).items() if k.startswith("NETQOS_")}
        assert unknown_netqos_variables(set(env)) == [], name
        with monkeypatch.context() as m:
            for k in [k for k in os.environ if k.startswith("NETQOS_")]:
                m.delenv(k)
            for k, v in env.items():
                m.setenv(k, v)
            Settings()  # values validate too (e.g. the metastore URL's form)
    assert unknown_netqos_variables({"NETQOS_S3__ENDPOINT", "NETQOS_LAKE__WAREHOUSE"}) == [
        "NETQOS_LAKE__WAREHOUSE", "NETQOS_S3__ENDPOINT"]  # fmt: skip


def test_buckets_are_the_ones_netqos_uses(services: dict[str, Any]) -> None:
    buckets = set(environment(services["minio-init"])["BUCKETS"].split())
    assert buckets == {local_airflow.LANDING_BUCKET, local_airflow.MLFLOW_BUCKET, local_airflow.REPORTS_BUCKET}
    assert S3Settings().landing_bucket == local_airflow.LANDING_BUCKET
    assert environment(services["capture-agent"])["NETQOS_S3__LANDING_BUCKET"] == local_airflow.LANDING_BUCKET
    assert environment(services["mlflow"])["MLFLOW_ARTIFACTS_DESTINATION"] == f"s3://{local_airflow.MLFLOW_BUCKET}"
    assert environment(services["airflow-worker"])["NETQOS_REPORT__BUCKET"] == local_airflow.REPORTS_BUCKET
    policy = (DOCKER / "minio" / "sensor-policy.json").read_text()
    assert set(re.findall(r"arn:aws:s3:::([a-z0-9-]+)", policy)) == {local_airflow.LANDING_BUCKET}


def published_container_ports(service: dict[str, Any]) -> set[int]:
    return {int(interpolate(str(p)).rsplit(":", 1)[-1].split("/")[0]) for p in service.get("ports") or []}


def test_ports(services: dict[str, Any]) -> None:
    defaults = local_airflow.LocalAirflowConfig()
    assert (defaults.minio_port, defaults.mlflow_port, defaults.api_port) == (9000, 5000, 8080)
    for name, port in CONTAINER_PORTS.items():
        assert port in published_container_ports(services[name]), name
    assert "--port" in services["spark-master"]["command"]
    assert services["spark-master"]["command"][services["spark-master"]["command"].index("--port") + 1] == "7077"
    worker = environment(services["airflow-worker"])
    spark_conn = json.loads(worker["AIRFLOW_CONN_SPARK_DEFAULT"])
    assert (spark_conn["host"], spark_conn["port"]) == ("spark://spark-master", 7077)
    assert worker["NETQOS_SPARK__MASTER"] == "spark://spark-master:7077"
    assert "spark://spark-master:7077" in services["spark-worker"]["command"]
    s3_conn = json.loads(interpolate(worker["AIRFLOW_CONN_NETQOS_S3"]))
    assert s3_conn["extra"]["endpoint_url"] == "http://minio:9000"
    assert worker["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert worker["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-api-server:8080/execution/"
    assert environment(services["spark-worker"])["NETQOS_S3__ENDPOINT_URL"] == "http://minio:9000"
    agent_endpoint = interpolate(environment(services["capture-agent"])["NETQOS_S3__ENDPOINT_URL"])
    assert agent_endpoint == "http://127.0.0.1:9000"  # host network: MinIO's published port


def test_airflow_env_mirrors_the_local_stack(services: dict[str, Any], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """Every Airflow/MLflow/netqos variable `netqos airflow up` sets is set here too, unless listed as different."""
    for k in [k for k in os.environ if k.startswith(("NETQOS_", "MLFLOW_"))]:
        monkeypatch.delenv(k)  # airflow_env() passes the caller's environment through
    config = local_airflow.LocalAirflowConfig(state_dir=tmp_path)
    secrets = local_airflow.load_or_create_secrets(tmp_path / "secrets.json")
    local = local_airflow.airflow_env(config, secrets, "postgresql://u:p@127.0.0.1:1/airflow")
    wanted = {k for k in local if k.startswith(("AIRFLOW", "NETQOS_", "MLFLOW_"))} - AIRFLOW_ENV_DIFFERENCES
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                 "airflow-worker", "airflow-init"):  # fmt: skip
        env = environment(services[name])
        assert wanted - set(env) == set(), name
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/netqos/src/dags"
        assert "SPARK_LOCAL_IP" not in env  # executors on other containers must reach the driver
    assert (REPO / "dags").is_dir()


def test_shared_lake_volume(services: dict[str, Any]) -> None:
    """Drivers (Airflow workers) and executors (Spark workers) must see the warehouse at the same path."""
    warehouse = Path(environment(services["spark-worker"])["NETQOS_LAKE__WAREHOUSE_DIR"])
    for name in ("spark-worker", "airflow-worker"):
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts.get(str(warehouse.parent)) == "lake", name
        assert environment(services[name])["NETQOS_LAKE__WAREHOUSE_DIR"] == str(warehouse), name
        assert environment(services[name])["NETQOS_SPARK__JARS_DIR"] == "/opt/netqos/jars", name


def test_mounted_paths_exist(services: dict[str, Any]) -> None:
    observability = REPO / "infra" / "observability"
    for name, svc in services.items():
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0]
            if not source.startswith("."):
                continue
            path = (DOCKER / source).resolve()
            if observability in path.parents and not observability.is_dir():
                continue  # written by the observability work; checked once the folder exists
            assert path.exists(), f"{name} mounts {source}, which does not exist"


def test_capture_agent_capabilities(services: dict[str, Any]) -> None:
    agent = services["capture-agent"]
    assert agent["profiles"] == ["capture"]
    assert agent["cap_drop"] == ["ALL"]
    assert sorted(agent["cap_add"]) == ["NET_ADMIN", "NET_RAW"]
    assert agent["network_mode"] == "host"
    assert "privileged" not in agent
    # file capabilities on dumpcap/tcpdump do not survive no-new-privileges
    assert not any("no-new-privileges" in o for o in agent.get("security_opt", []))
    others = [n for n, s in services.items() if n != "capture-agent" and (s.get("cap_add") or s.get("privileged"))]
    assert others == []
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["observability"]


def test_images_are_pinned(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        image = interpolate(svc["image"])
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), f"{name}: {image}"


# --- commands ------------------------------------------------------------------------------------------------------
def service_argv(name: str, svc: dict[str, Any]) -> list[str]:
    """What the container runs: the service's entrypoint (or its image's) + its command."""
    if "entrypoint" in svc:
        return argv(svc["entrypoint"]) + argv(svc.get("command"))
    dockerfile = {"capture-agent": DOCKER / "agent" / "Dockerfile"}.get(name)
    entry = image_entrypoint(dockerfile) if dockerfile else []
    return entry + argv(svc.get("command"))


def all_argvs(services: dict[str, Any]) -> list[tuple[str, list[str]]]:
    out = []
    for name, svc in services.items():
        out.append((name, service_argv(name, svc)))
        if hc := healthcheck_argv(svc):
            out.append((f"{name} healthcheck", hc))
    return out


def test_netqos_commands_parse(services: dict[str, Any]) -> None:
    from netqos.cli.main import build_parser

    agent = service_argv("capture-agent", services["capture-agent"])
    assert agent[:2] == ["netqos", "capture"]
    commands = [a for _, a in all_argvs(services) if a and a[0] == "netqos"]
    for a in commands:
        build_parser().parse_args(a[1:])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["capture", "--interfaces", "eth0"])


AIRFLOW_CHECK = """
import json, sys
from airflow.cli.cli_parser import get_parser
from airflow.configuration import conf
import airflow.providers.celery.executors.celery_executor as celery_executor
assert celery_executor.app is not None
asked = json.loads(sys.argv[1])
rejected = []
for argv in asked["commands"]:
    try:
        get_parser().parse_args(argv)
    except SystemExit:
        rejected.append(argv)
described = conf.configuration_description  # core + every installed provider's sections
unknown = [o for o in asked["options"] if o[1] not in described.get(o[0], {}).get("options", {})]
print(json.dumps({"rejected": rejected, "unknown_options": unknown}))
"""
BAD_COMMANDS = [["celery", "wroker"], ["jobs", "check", "--job-type"]]
BAD_OPTIONS = [["core", "executer"], ["celery", "broker"]]


def airflow_commands(services: dict[str, Any]) -> list[list[str]]:
    """Every `airflow ...` a container or a healthcheck runs, and those in docker/airflow/init.sh."""
    commands = [a[1:] for _, a in all_argvs(services) if a and a[0] == "airflow"]
    init = (DOCKER / "airflow" / "init.sh").read_text()
    return commands + [shlex.split(line)[1:] for line in init.splitlines() if line.startswith("airflow ")]


def airflow_options(services: dict[str, Any]) -> list[list[str]]:
    """[section, key] of every AIRFLOW__SECTION__KEY variable."""
    names = {k for svc in services.values() for k in environment(svc) if k.startswith("AIRFLOW__")}
    return sorted([n.removeprefix("AIRFLOW__").lower().split("__", 1) for n in names])


@pytest.fixture(scope="module")
def airflow_verdict(services: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What Airflow 3 itself says of our commands (its CLI parser) and options (its config description), plus
    known-bad ones that must be rejected. In a subprocess: Airflow reads its config on import."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(tmp_path_factory.mktemp("airflow")), AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
               AIRFLOW__CORE__LOAD_EXAMPLES="False")  # fmt: skip
    asked = {"commands": airflow_commands(services) + BAD_COMMANDS,
             "options": airflow_options(services) + BAD_OPTIONS}  # fmt: skip
    r = subprocess.run([sys.executable, "-c", AIRFLOW_CHECK, json.dumps(asked)], env=env, capture_output=True,
                       text=True, timeout=120, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    verdict: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return verdict


def test_airflow_commands_parse(services: dict[str, Any], airflow_verdict: dict[str, Any]) -> None:
    commands = airflow_commands(services)
    assert {c[0] for c in commands} >= {"api-server", "scheduler", "dag-processor", "triggerer", "celery", "jobs"}
    assert ["db", "migrate"] in commands and ["celery", "worker"] in commands
    assert airflow_verdict["rejected"] == BAD_COMMANDS


def test_airflow_options_exist(airflow_verdict: dict[str, Any]) -> None:
    """Every AIRFLOW__SECTION__KEY is an option of Airflow 3.3 or of an installed provider (a misspelt one is
    silently ignored by Airflow)."""
    assert airflow_verdict["unknown_options"] == BAD_OPTIONS


def test_celery_healthcheck_names_the_celery_app(services: dict[str, Any]) -> None:
    hc = healthcheck_argv(services["airflow-worker"])
    assert hc[:3] == ["celery", "--app", "airflow.providers.celery.executors.celery_executor.app"]


def test_mlflow_command(services: dict[str, Any]) -> None:
    """`mlflow server` exists and reads every MLFLOW_* variable given (read from mlflow's source: importing
    mlflow takes ~10 s)."""
    spec = importlib.util.find_spec("mlflow")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    assert re.search(r"^def server\(", (package / "cli" / "__init__.py").read_text(), re.MULTILINE)
    envvars = set(re.findall(r'envvar="(MLFLOW_[A-Z_]+)"', (package / "utils" / "cli_args.py").read_text()))
    envvars |= set(re.findall(r'envvar="(MLFLOW_[A-Z_]+)"', (package / "cli" / "__init__.py").read_text()))
    mlflow_svc = services["mlflow"]
    assert mlflow_svc["command"] == ["mlflow", "server"]
    given = {k for k in environment(mlflow_svc) if k.startswith("MLFLOW_")} - {"MLFLOW_S3_ENDPOINT_URL"}  # boto's
    assert given - envvars == set()
    assert "MLFLOW_BACKEND_STOR_URI" not in envvars


def spark_classes() -> set[str]:
    import pyspark

    classes = set()
    for jar in (Path(pyspark.__file__).parent / "jars").glob("spark-core_*.jar"):
        with zipfile.ZipFile(jar) as z:
            classes |= {n.removesuffix(".class").replace("/", ".") for n in z.namelist() if "/deploy/" in n}
    return classes


def test_spark_main_classes_exist(services: dict[str, Any]) -> None:
    classes = spark_classes()
    for name, main in SPARK_MAIN_CLASSES.items():
        cmd = services[name]["command"]
        assert cmd[:2] == ["spark-class", main], name
        assert main in classes
    assert "org.apache.spark.deploy.worker.Wroker" not in classes


def test_scripts_exist(services: dict[str, Any]) -> None:
    scripts = [DOCKER / "airflow" / "init.sh", DOCKER / "minio" / "init.sh", DOCKER / "postgres" / "init-databases.sh"]
    for script in scripts:
        assert script.is_file() and os.access(script, os.X_OK), script
        r = subprocess.run(["bash" if "bash" in script.read_text().splitlines()[0] else "sh", "-n", str(script)],
                           capture_output=True, text=True, check=False)  # fmt: skip
        assert r.returncode == 0, r.stderr
    assert services["airflow-init"]["command"] == ["netqos-airflow-init"]
    copies = dockerfile_instructions(DOCKER / "airflow" / "Dockerfile")
    assert ("COPY", "docker/airflow/init.sh /usr/local/bin/netqos-airflow-init") in copies


# --- Dockerfiles ----------------------------------------------------------------------------------------------------
def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(HADOLINT), "--no-color", "-c", str(DOCKER / ".hadolint.yaml"), str(path)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def test_dockerfiles_found() -> None:
    assert {p.parent.name for p in DOCKERFILES} == {"agent", "spark", "airflow"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint(dockerfile: Path) -> None:
    r = hadolint(dockerfile)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\n")
    r = hadolint(bad)
    assert r.returncode != 0 and "DL3007" in r.stdout


def dockerignore_allows(dockerfile: Path, source: str) -> bool:
    """Whether the allow-list in <Dockerfile>.dockerignore lets `source` into the build context."""
    allowed = False
    for line in (dockerfile.parent / f"{dockerfile.name}.dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line.removeprefix("!").rstrip("/")
        if pattern == "*" or source == pattern or source.startswith(pattern + "/"):
            allowed = line.startswith("!")
    return allowed


def copy_errors(dockerfile: Path) -> list[str]:
    errors = []
    for instr, args in dockerfile_instructions(dockerfile):
        if instr != "COPY" or args.startswith("--from="):
            continue
        for source in args.split()[:-1]:
            if not (REPO / source).exists():
                errors.append(f"{dockerfile.parent.name}: COPY {source} does not exist")
            elif not dockerignore_allows(dockerfile, source):
                errors.append(f"{dockerfile.parent.name}: COPY {source} is excluded by its .dockerignore")
    return errors


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_copy_sources_exist_and_are_in_the_context(dockerfile: Path) -> None:
    assert copy_errors(dockerfile) == []


def test_copy_check_catches_missing_and_ignored(tmp_path: Path) -> None:
    fake = tmp_path / "Dockerfile"
    fake.write_text("FROM python:3.11-slim-bookworm\nCOPY no-such-file /x\nCOPY requirements.txt /y\n")
    (tmp_path / "Dockerfile.dockerignore").write_text("*\n!netqos/\n")
    errors = copy_errors(fake)
    assert len(errors) == 2 and "no-such-file does not exist" in errors[0] and "excluded" in errors[1]


def test_base_images_and_build_contexts(services: dict[str, Any]) -> None:
    """External bases are pinned by tag; the Airflow image's base is the spark-master service's image."""
    for dockerfile in DOCKERFILES:
        for instr, args in dockerfile_instructions(dockerfile):
            if instr != "FROM":
                continue
            image = args.split()[0]
            if image == "netqos-spark":
                additional = services["airflow-init"]["build"]["additional_contexts"]
                assert additional == {"netqos-spark": "service:spark-master"}
            else:
                assert ":" in image and not image.endswith(":latest"), f"{dockerfile}: {image}"
    for name in ("spark-master", "airflow-init", "capture-agent"):
        build = services[name]["build"]
        assert build["context"] == ".." and (DOCKER / build["context"] / build["dockerfile"]).is_file()


def test_spark_image_caches_the_jars_where_settings_look() -> None:
    instructions = dockerfile_instructions(DOCKER / "spark" / "Dockerfile")
    runs = " ".join(a for i, a in instructions if i == "RUN")
    assert "mvn -B -ntp -f pom.xml dependency:copy-dependencies -Dnetqos.jars.dir=/opt/netqos/jars" in runs
    env = " ".join(a for i, a in instructions if i == "ENV")
    assert "NETQOS_SPARK__JARS_DIR=/opt/netqos/jars" in env
    assert ("COPY", "--from=jars /opt/netqos/jars /opt/netqos/jars") in instructions
    assert unknown_netqos_variables(set(re.findall(r"\b(NETQOS_[A-Z_]+)=", env)) - {"NETQOS_HOME"}) == []
    # the editable install keeps PROJECT_ROOT a checkout: jobs/spark and expectations/ beside netqos/
    assert {("COPY", "jobs ./jobs"), ("COPY", "expectations ./expectations")} <= set(instructions)


def test_images_run_as_non_root() -> None:
    for dockerfile in DOCKERFILES:
        users = [a for i, a in dockerfile_instructions(dockerfile) if i == "USER"]
        assert users and users[-1].split(":")[0] not in ("0", "root"), dockerfile


def test_airflow_init_creates_the_writer_pools() -> None:
    """The DAGs' writing tasks name single-slot pools; without them the scheduler never queues those tasks."""
    from netqos.orchestration.defaults import LAKE_POOLS

    init = (DOCKER / "airflow" / "init.sh").read_text()
    assert LAKE_POOLS and "LAKE_POOLS.items()" in init and '"airflow", "pools", "set"' in init
