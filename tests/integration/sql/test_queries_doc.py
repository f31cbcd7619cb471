"""Every ```sql block of docs/queries.md runs against a lake with real rows and answers with rows, and the
answers agree with the same numbers computed another way (DataFrame API on the tables), so the doc cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netqos.sql.query import MissingTableError, QueryError, run_statements, split_statements

pytestmark = [pytest.mark.spark, pytest.mark.integration]

DOC = Path(__file__).resolve().parents[3] / "docs" / "queries.md"
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)


def doc_statements() -> list[str]:
    blocks = SQL_BLOCK.findall(DOC.read_text())
    return [s for block in blocks for s in split_statements(block)]


def in_db(statement: str, database: str) -> str:
    return re.sub(r"\bnetqos\.", f"{database}.", statement)


def test_the_doc_has_the_promised_examples():
    text = " ".join(doc_statements())
    for table in ("flows", "tcp_analysis", "qos_windows", "anomalies"):
        assert f"netqos.{table}" in text
    for phrase in ("TIMESTAMP AS OF", "VERSION AS OF", "DESCRIBE HISTORY", "percentile(tcp_ack_rtt, 0.95)"):
        assert phrase in text
    assert len(doc_statements()) >= 10


@pytest.mark.parametrize("index", range(len(doc_statements())))
def test_doc_example_answers(spark, sql_lake, index):
    statement = doc_statements()[index]
    settings = sql_lake.settings
    [answer] = run_statements(spark, in_db(statement, settings.lake.database), settings)
    assert answer.columns and answer.rows, f"no rows from:\n{statement}"
    row = dict(zip(answer.columns, answer.rows[0], strict=True))
    db = settings.lake.database
    if "bytes_sent" in row:  # top talkers: every byte of every IP flow is sent by one of its two ends
        total = spark.sql(f"SELECT sum(bytes) FROM {db}.flows WHERE flow_kind = 'ip'").first()[0]
        sent = spark.sql(in_db(statement.replace("LIMIT 10", ""), db)).groupBy().sum("bytes_sent").first()[0]
        assert sent == total and row["bytes_sent"] > 0
    if "rtt_p95_ms" in row:
        assert row["rtt_samples"] > 0 and row["rtt_p95_ms"] >= row["rtt_p50_ms"] > 0
    if "retransmitted_share" in row:  # the top hot spot is the conversation with the most retransmissions
        top = spark.sql(
            f"SELECT max(r) FROM (SELECT sum(tcp_retransmissions) AS r FROM {db}.flows WHERE protocol = 6 "
            "GROUP BY sensor_id, src_addr, dst_addr, dst_port)"
        ).first()[0]
        assert row["retransmissions"] == top > 0
    if "top_feature" in row:  # flagged window joined to a flow that overlaps it
        assert row["top_feature"] == "pps"
    if "flagged_windows" in row:
        assert sum(r[answer.columns.index("flagged_windows")] for r in answer.rows) > 0
    if statement.startswith("DESCRIBE HISTORY"):
        assert {"version", "timestamp", "operation"} <= set(answer.columns) and len(answer.rows) >= 2


def test_time_travel_sees_yesterday(spark, sql_lake):
    """The lake fixture backdated the ingest to yesterday and scored the windows today."""
    db = sql_lake.settings.lake.database
    sql = (
        f"SELECT count(*) FROM {db}.flows TIMESTAMP AS OF current_date(); "
        f"SELECT count(*) FROM {db}.anomalies TIMESTAMP AS OF current_date(); "
        f"SELECT count(*) FROM {db}.anomalies"
    )
    flows, anomalies_yesterday, anomalies_now = run_statements(spark, sql, sql_lake.settings)
    assert flows.rows[0][0] == sql_lake.flows > 0
    assert anomalies_yesterday.rows[0][0] == 0 < anomalies_now.rows[0][0]


def test_missing_table_lists_the_tables(spark, sql_lake):
    with pytest.raises(MissingTableError) as e:
        run_statements(spark, "SELECT * FROM netqos_no_such_db.flowz", sql_lake.settings)
    with pytest.raises(MissingTableError) as e:
        run_statements(spark, "SELECT * FROM flowz", sql_lake.settings)
    message = str(e.value)
    assert "flowz" in message and "flows" in message and "qos_windows" in message and "anomalies" in message


def test_a_query_error_is_spark_s_message_without_the_plan(spark, sql_lake):
    with pytest.raises(QueryError) as e:
        run_statements(spark, "SELECT tcp_retransmission FROM flows", sql_lake.settings)
    message = str(e.value)
    assert message.startswith("[UNRESOLVED_COLUMN") and "`tcp_retransmissions`" in message  # Spark's suggestion
    assert "\n" not in message and "Relation" not in message
    with pytest.raises(QueryError, match="PARSE_SYNTAX_ERROR"):
        run_statements(spark, "SELEC 1", sql_lake.settings)
