"""The stored suites (expectations/*.json) against the TableSpecs: they cannot drift apart."""

from __future__ import annotations

import dataclasses

import pytest
from pyspark.sql.types import LongType, StructField, StructType

from netqos.quality import suites
from netqos.quality.attribution import ROW_LEVEL
from netqos.quality.suites import SCHEMA_TYPES, SPECS, TABLES, generate_suite_dict, load_suite, read_suite_dict


@pytest.mark.parametrize("table", TABLES)
def test_stored_suite_is_what_the_spec_and_rules_generate(table):
    assert read_suite_dict(table) == generate_suite_dict(table), (
        f"expectations/{table}.json is stale: run `python -m netqos.quality` and review the diff"
    )


@pytest.mark.parametrize("table", TABLES)
def test_stored_schema_expectations_match_the_table_spec(table):
    spec = SPECS[table]
    exps = read_suite_dict(table)["expectations"]
    (columns,) = [e for e in exps if e["type"] == "expect_table_columns_to_match_ordered_list"]
    assert columns["kwargs"]["column_list"] == spec.column_names
    types = {
        e["kwargs"]["column"]: e["kwargs"]["type_"] for e in exps if e["type"] == "expect_column_values_to_be_of_type"
    }
    assert types == {f.name: type(f.dataType).__name__ for f in spec.schema.fields}


def _with_extra_column(monkeypatch, table: str) -> None:
    spec = SPECS[table]
    wider = dataclasses.replace(spec, schema=StructType([*spec.schema.fields, StructField("new_col", LongType())]))
    monkeypatch.setitem(suites.SPECS, table, wider)


def test_a_column_added_to_the_spec_is_drift(monkeypatch):
    _with_extra_column(monkeypatch, "flows")
    assert read_suite_dict("flows") != generate_suite_dict("flows")


def test_a_column_dropped_from_the_spec_is_drift(monkeypatch):
    spec = SPECS["packets"]
    narrower = dataclasses.replace(spec, schema=StructType([f for f in spec.schema.fields if f.name != "ip_ttl"]))
    monkeypatch.setitem(suites.SPECS, "packets", narrower)
    with pytest.raises(ValueError, match="ip_ttl"):  # a rule still names it
        generate_suite_dict("packets")


def test_a_type_change_is_drift(monkeypatch):
    spec = SPECS["packets"]
    fields = [StructField(f.name, LongType()) if f.name == "cap_len" else f for f in spec.schema.fields]
    monkeypatch.setitem(suites.SPECS, "packets", dataclasses.replace(spec, schema=StructType(fields)))
    assert read_suite_dict("packets") != generate_suite_dict("packets")


def test_a_rule_on_an_unknown_column_is_rejected(monkeypatch):
    from netqos.quality import rules

    bad = {**rules.VALUE_RULES, "flows": [("expect_column_values_to_be_between", {"column": "nope", "min_value": 0})]}
    monkeypatch.setattr(suites, "VALUE_RULES", bad)
    with pytest.raises(ValueError, match="nope"):
        generate_suite_dict("flows")


@pytest.mark.parametrize("table", TABLES)
def test_every_expectation_is_schema_or_attributable_to_files(table):
    kinds = {e["type"] for e in read_suite_dict(table)["expectations"]}
    assert kinds <= set(SCHEMA_TYPES) | ROW_LEVEL


def test_load_suite_builds_gx_expectations():
    suite = load_suite("packets")
    assert suite.name == "packets"
    assert len(suite.expectations) == len(read_suite_dict("packets")["expectations"])
    assert {type(e).__name__ for e in suite.expectations} >= {
        "ExpectTableColumnsToMatchOrderedList",
        "ExpectColumnValuesToBeOfType",
        "ExpectColumnValuesToNotBeNull",
        "ExpectColumnValuesToBeBetween",
        "ExpectColumnPairValuesAToBeGreaterThanB",
    }


def test_unknown_table_is_an_error():
    with pytest.raises(ValueError, match="no expectation suite"):
        suites.file_column("ingest_ledger")
