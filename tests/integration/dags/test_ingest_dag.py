"""netqos_ingest end to end with dag.test(): captures landed in a real MinIO, every Spark task through
spark-submit, S3 from an Airflow connection, Delta tables checked afterwards.

The batch holds three clean captures and one corrupted copy of a fourth (a record whose captured length exceeds
its original length). The corrupted file must fail the packets suite and land in quarantine with the failed
expectation; the clean files in the same run must reach every table; the run's `validate` task must fail
explicitly, holding back `score`. A second run of the DAG must change nothing (no duplicates).
"""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from s3server import MinioServer
from shared_pcaps import SHARED_PCAPS

from netqos.orchestration import dag_test

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[3]
CLEAN = ("zeek-5-pings.pcap", "dpkt-dns_icmp.pcap", "zeek-get-to-ssh-server.pcap")
CORRUPTED_FROM = "dpkt-http.pcap"
BUCKET = "netqos-landing"
SENSOR = "lab1"


def corrupted_copy(src: Path, dst: Path) -> Path:
    """src with its first record's orig_len 10 bytes below incl_len: decodes, but wire_len < cap_len."""
    data = bytearray(src.read_bytes())
    incl = struct.unpack_from("<I", data, 24 + 8)[0]
    struct.pack_into("<I", data, 24 + 12, incl - 10)
    dst.write_bytes(data)
    return dst


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with MinioServer(tmp_path_factory.mktemp("ingest-dag-minio")) as server:
        server.make_bucket(BUCKET)
        s3 = server.client()
        for name in CLEAN:
            s3.upload_file(str(SHARED_PCAPS / name), BUCKET, f"sensor={SENSOR}/{name}")
        bad = corrupted_copy(SHARED_PCAPS / CORRUPTED_FROM, tmp_path_factory.mktemp("bad") / "corrupted-http.pcap")
        s3.upload_file(str(bad), BUCKET, f"sensor={SENSOR}/{bad.name}")
        yield server


@pytest.fixture(scope="module")
def airflow_env(landing: MinioServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dag_test.test_env(
        tmp_path_factory.mktemp("ingest-dag"),
        s3_endpoint=landing.endpoint_url,
        s3_access_key=landing.access_key,
        s3_secret_key=landing.secret_key,
        spark_master="local[2]",
        extra={"NETQOS_SPARK__SHUFFLE_PARTITIONS": "2", "NETQOS_SPARK__DRIVER_MEMORY": "1g"},
    )
    dag_test.migrate(env)
    return env


def run_dag(env: dict[str, str], logical_date: datetime) -> dict[str, Any]:
    result: dict[str, Any] = dag_test.run_subprocess(env, REPO / "dags" / "netqos_ingest.py", logical_date, 900)
    result["states"] = {task: t["state"] for task, t in result["tasks"].items()}
    return result


@pytest.fixture(scope="module")
def runs(airflow_env: dict[str, str]) -> list[dict[str, Any]]:
    # A data interval after the uploads: parse takes objects landed before the interval's end, never now().
    first = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return [run_dag(airflow_env, first), run_dag(airflow_env, first + timedelta(minutes=10))]


@pytest.fixture(scope="module")
def tables(spark: Any, airflow_env: dict[str, str], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The DAG's Delta tables, read by path (the jobs' metastore belongs to their warehouse)."""
    db = Path(airflow_env["NETQOS_LAKE__WAREHOUSE_DIR"]) / "netqos.db"
    names = ("packets", "ingest_ledger", "tcp_analysis", "flows", "qos_windows", "quarantine_packets")
    return {name: spark.read.format("delta").load(str(db / name)) for name in names}


def test_first_run_quarantines_the_corrupted_file_and_lets_the_clean_ones_through(
    runs: list[dict[str, Any]], tables: dict[str, Any], manifest: dict[str, int]
) -> None:
    first = runs[0]
    assert first["states"] == {
        "ingest": "success",  # parse → build_flows → qos_windows in one Spark session
        "validate": "failed",  # explicit: the batch had a bad file
        "score": "upstream_failed",  # a person looks first; the next run scores the clean windows
        "alerts": "upstream_failed",  # the next run's alerts look a day back: nothing is missed
    }, first["log"][-6000:]
    assert first["state"] == "failed"
    assert "wire_len" in first["log"]  # the failed expectation is in the task log

    ledger = {r.path.rsplit("/", 1)[1]: r for r in tables["ingest_ledger"].collect()}
    assert {name: r.status for name, r in ledger.items()} == {
        **{name: "ingested" for name in CLEAN},
        "corrupted-http.pcap": "quarantined",
    }
    assert "expect_column_pair_values_a_to_be_greater_than_b" in ledger["corrupted-http.pcap"].error

    packets = tables["packets"]
    assert packets.count() == sum(manifest[name] for name in CLEAN)
    assert {r.sensor_id for r in packets.select("sensor_id").distinct().collect()} == {SENSOR}
    quarantined = tables["quarantine_packets"].collect()
    assert len(quarantined) == manifest[CORRUPTED_FROM]
    assert {r.quarantine_run_id for r in quarantined} == {first["run_id"]}
    assert "wire_len" in quarantined[0].quarantine_reason

    # Downstream tables hold exactly the clean files: one tcp_analysis row per packet, flows and windows exist.
    assert tables["tcp_analysis"].count() == packets.count()
    clean_shas = {ledger[name].sha256 for name in CLEAN}
    assert {r.file_sha256 for r in tables["tcp_analysis"].select("file_sha256").distinct().collect()} == clean_shas
    assert tables["flows"].count() > 0 and tables["qos_windows"].count() > 0


def test_data_docs_and_quality_records_are_published(airflow_env: dict[str, str], runs: list[dict[str, Any]]) -> None:
    lake = Path(airflow_env["NETQOS_LAKE__WAREHOUSE_DIR"]).parent
    assert (lake / "data_docs" / "index.html").is_file()
    records = list((lake / "quality_runs").glob("*/packets.json"))
    assert len(records) == 1
    outcome = json.loads(records[0].read_text())
    assert not outcome["success"] and len(outcome["bad_files"]) == 1
    assert "Data Docs:" in runs[0]["log"]


def test_second_run_changes_nothing(runs: list[dict[str, Any]], tables: dict[str, Any]) -> None:
    second = runs[1]
    assert second["state"] == "success", second["log"][-6000:]
    assert set(second["states"].values()) == {"success"}
    keys = {
        "packets": ["file_sha256", "frame_no"],
        "tcp_analysis": ["file_sha256", "frame_no"],
        "ingest_ledger": ["path", "sha256"],
        "quarantine_packets": ["file_sha256", "frame_no"],
    }
    for name, key in keys.items():
        df = tables[name]
        assert df.count() == df.select(*key).distinct().count(), f"{name} has duplicate {key}"


def test_train_dag_registers_a_challenger_that_scores_once_promoted(
    spark: Any, airflow_env: dict[str, str], runs: list[dict[str, Any]]
) -> None:
    """netqos_train (spark-submit) -> challenger; a person promotes it; the next ingest run's `score` task scores
    the windows the earlier runs left unscored (there was no champion then)."""
    from netqos.ml import registry
    from netqos.settings import ModelSettings, Settings

    assert runs[1]["states"]["score"] == "success" and "nothing scored" in runs[1]["log"]  # no champion yet
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    trained: dict[str, Any] = dag_test.run_subprocess(airflow_env, REPO / "dags" / "netqos_train.py", when, 900)
    assert trained["state"] == "success", trained["log"][-6000:]
    assert "as 'challenger'" in trained["log"]

    settings = Settings(models=ModelSettings(tracking_uri=airflow_env["NETQOS_MODELS__TRACKING_URI"]))
    client = registry.client(settings)
    challenger = registry.by_alias(client, settings.models.registered_name, registry.CHALLENGER)
    assert challenger is not None
    registry.promote(client, settings)

    third = run_dag(airflow_env, when + timedelta(minutes=10))
    assert third["state"] == "success", third["log"][-6000:]
    assert f"v{challenger.version} scored" in third["log"]
    db = Path(airflow_env["NETQOS_LAKE__WAREHOUSE_DIR"]) / "netqos.db"
    anomalies = spark.read.format("delta").load(str(db / "anomalies"))
    windows = spark.read.format("delta").load(str(db / "qos_windows")).where("window_s = 10 AND dimension = 'all'")
    assert anomalies.count() > 0
    # the alerts task ran on those windows (no notifier configured here: alerts are only logged and recorded)
    assert third["states"]["alerts"] == "success"
    assert (
        spark.read.format("delta").load(str(db / "alerts")).where("status NOT IN ('logged', 'deduplicated')").count()
        == 0
    )
    assert {r.model_version for r in anomalies.select("model_version").distinct().collect()} == {challenger.version}
    assert {r.scoring_run_id for r in anomalies.select("scoring_run_id").distinct().collect()} == {third["run_id"]}
    # every closed window of every sensor (the latest one per sensor stays open), plus filled gaps
    per_sensor = windows.groupBy("sensor_id").count().collect()
    assert anomalies.count() >= sum(r["count"] - 1 for r in per_sensor)
