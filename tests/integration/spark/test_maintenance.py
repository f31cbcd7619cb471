"""The maintenance job on a real lake and a real MinIO: quarantine rows and ingested landed captures past their
retention are removed (counting back from `as_of`, not the clock), the rest stays, every table is compacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pcapgen import Record, pcap_file
from s3server import bucket_name

from netqos.jobs import maintenance, parse_pcaps
from netqos.settings import RetentionSettings, S3Settings

pytestmark = [pytest.mark.spark, pytest.mark.integration]


def test_retention_and_compaction(spark, settings, pcaps, lake_minio) -> None:
    client = lake_minio.client()
    bucket = lake_minio.make_bucket(bucket_name("maint"))
    client.put_object(Bucket=bucket, Key="sensor=s1/a.pcap", Body=(pcaps / "zeek-5-pings.pcap").read_bytes())
    bad = pcap_file([Record(bytes(60), ts_sec=1_700_000_000 + i, orig_len=40) for i in range(3)])
    client.put_object(Bucket=bucket, Key="sensor=s1/bad.pcap", Body=bad)
    s3 = S3Settings(endpoint_url=lake_minio.endpoint_url, access_key_id=lake_minio.access_key,
                    secret_access_key=lake_minio.secret_key, landing_bucket=bucket)  # fmt: skip
    settings = settings.model_copy(
        update={"s3": s3, "retention": RetentionSettings(quarantine_days=10, raw_capture_days=5)}
    )
    report = parse_pcaps.run(spark, [f"s3://{bucket}/"], settings, run_id="r1")
    assert sorted(e.status for e in report.entries) == ["ingested", "quarantined"]
    db = settings.lake.database

    # Compaction of two tables is enough to show it runs (all ten take minutes on two cores).
    soon = maintenance.run(
        spark, settings, datetime.now(UTC) + timedelta(days=1), tables=("packets", "quarantine_packets")
    )
    assert soon.quarantine_rows_expired == 0 and soon.captures_deleted == []
    assert f"{db}.packets" in soon.optimized and f"{db}.quarantine_packets" in soon.vacuumed

    later = maintenance.run(spark, settings, datetime.now(UTC) + timedelta(days=11), compact=False)
    assert later.quarantine_rows_expired == 3
    assert later.captures_deleted == [f"s3://{bucket}/sensor=s1/a.pcap"]  # the quarantined one is kept
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["sensor=s1/bad.pcap"]
    assert spark.sql(f"SELECT count(*) FROM {db}.packets").first()[0] == 10  # the lake keeps what it ingested
