"""netqos.sql.query without Spark: statement splitting, CSV/JSON rendering, the Derby-lock check; the CLI's
argument handling."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pytest

from netqos.cli.main import build_parser, main
from netqos.sql.query import Answer, is_derby_locked, query_error_text, split_statements, to_csv, to_json

pytestmark = pytest.mark.unit


def test_split_statements():
    text = """
    -- a comment; not a statement
    SELECT 'a;b' AS x, "c;d" AS `e;f`;  /* block; comment */
    SELECT 1 -- trailing; comment
    ;
    ;
    SELECT 'it\\'s; fine'
    """
    assert split_statements(text) == [
        "SELECT 'a;b' AS x, \"c;d\" AS `e;f`",
        "SELECT 1",
        "SELECT 'it\\'s; fine'",
    ]
    assert split_statements(" ; -- nothing\n") == []


def answer() -> Answer:
    from pyspark.sql import Row

    ts = dt.datetime(2026, 11, 26, 23, 59, 59, 123456)
    rows = [
        ("10.0.0.1", 1500, 0.25, ts, decimal.Decimal("1.50"), [Row(feature="pps", z=4.5)], None),
        ('a,"b"', 0, None, None, None, None, b"\x01\xff"),
    ]
    return Answer("SELECT ...", ["host", "bytes", "share", "ts", "dec", "top", "raw"], rows, truncated=False)


def test_csv_and_json():
    csv_text = to_csv(answer())
    assert csv_text.splitlines()[0] == "host,bytes,share,ts,dec,top,raw"
    top = '"[{""feature"": ""pps"", ""z"": 4.5}]"'
    assert csv_text.splitlines()[1] == f"10.0.0.1,1500,0.25,2026-11-26T23:59:59.123456,1.5,{top},"
    assert csv_text.splitlines()[2] == '"a,""b""",0,,,,,01ff'
    rows = json.loads(to_json(answer()))
    assert rows[0] == {
        "host": "10.0.0.1", "bytes": 1500, "share": 0.25, "ts": "2026-11-26T23:59:59.123456", "dec": 1.5,
        "top": [{"feature": "pps", "z": 4.5}], "raw": None,
    }  # fmt: skip
    assert rows[1]["raw"] == "01ff" and rows[1]["share"] is None


def test_derby_lock_is_recognised_through_causes():
    try:
        try:
            raise RuntimeError("ERROR XSDB6: Another instance of Derby may have already booted the database /x.")
        except RuntimeError as inner:
            raise ValueError("Unable to instantiate SessionHiveMetaStoreClient") from inner
    except ValueError as outer:
        assert is_derby_locked(outer)
    assert not is_derby_locked(ValueError("TABLE_OR_VIEW_NOT_FOUND"))


def test_query_errors_keep_the_message_and_drop_the_plan():
    analysis = (
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `service_class` "
        "cannot be resolved. Did you mean one of the following? [`src_addr`, `bytes`]. SQLSTATE: 42703; line 1 pos 7;\n"
        "'Aggregate ['service_class], ['service_class, count(1) AS flows#0L]\n"
        "+- SubqueryAlias spark_catalog.netqos.flows\n"
    )
    text = query_error_text(analysis)
    assert text.startswith("[UNRESOLVED_COLUMN") and "Did you mean" in text and "SubqueryAlias" not in text
    assert not text.endswith(";")
    parse = "\n[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601\n\n== SQL ==\nSELEC 1\n^^^\n"
    shown = query_error_text(parse)
    assert shown.startswith("[PARSE_SYNTAX_ERROR]") and shown.endswith("== SQL ==\nSELEC 1\n^^^")
    assert query_error_text("  ") == "the query failed"


def test_cli_arguments():
    parser = build_parser()
    args = parser.parse_args(["sql", "--shell", "--", "-e", "SELECT 1"])
    assert args.shell and args.sql == ["-e", "SELECT 1"]
    args = parser.parse_args(["sql", "--thrift", "start", "--port", "10001"])
    assert args.thrift == "start" and args.port == 10001
    args = parser.parse_args(["sql", "--format", "csv", "SELECT", "1"])
    assert args.format == "csv" and args.sql == ["SELECT", "1"]
    with pytest.raises(SystemExit):
        parser.parse_args(["sql", "--shell", "--thrift", "stop"])


def test_cli_without_sql_is_a_usage_error(capsys):
    assert main(["sql"]) == 2
    assert "give SQL text" in capsys.readouterr().err
