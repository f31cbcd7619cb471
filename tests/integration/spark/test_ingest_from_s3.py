"""parse_pcaps reads the landing bucket of a real MinIO: exactly-once per object (key + sha256), new listings pick
up only new objects, and the packets equal those of the same files ingested from disk (capinfos counts)."""

from __future__ import annotations

import hashlib

import pytest
from s3server import bucket_name

from netqos.jobs.parse_pcaps import run
from netqos.settings import S3Settings

pytestmark = [pytest.mark.spark, pytest.mark.integration]

FILES = ["zeek-5-pings.pcap", "zeek-ftp-ipv6.pcap", "zeek-linux_dlt_sll2.pcap"]


def test_ingest_from_s3_exactly_once(spark, settings, pcaps, manifest, lake_minio) -> None:
    minio = lake_minio  # its endpoint and credentials are in the environment of the driver and the workers
    bucket = minio.make_bucket(bucket_name("landing"))
    client = minio.client()
    s3 = S3Settings(endpoint_url=minio.endpoint_url, access_key_id=minio.access_key,
                    secret_access_key=minio.secret_key, landing_bucket=bucket)  # fmt: skip
    settings = settings.model_copy(update={"s3": s3})

    def put(name: str, key: str, with_sha: bool = True) -> None:
        data = (pcaps / name).read_bytes()
        meta = {"sha256": hashlib.sha256(data).hexdigest()} if with_sha else {}
        client.put_object(Bucket=bucket, Key=key, Body=data, Metadata=meta)

    put(FILES[0], "sensor=s1/date=2026-11-27/hour=10/a.pcap")
    put(FILES[1], "sensor=s1/date=2026-11-27/hour=10/b.pcap", with_sha=False)  # sha256 computed by streaming
    client.put_object(Bucket=bucket, Key="_health/sensor=s1.json", Body=b"{}")  # not a capture: never listed
    root = f"s3://{bucket}/"

    first = run(spark, [root], settings)
    assert sorted(e.path for e in first.entries) == [
        f"s3://{bucket}/sensor=s1/date=2026-11-27/hour=10/a.pcap",
        f"s3://{bucket}/sensor=s1/date=2026-11-27/hour=10/b.pcap",
    ]
    assert {e.packets for e in first.entries} == {manifest[FILES[0]], manifest[FILES[1]]}

    again = run(spark, [root], settings)  # same listing: nothing read, nothing written
    assert again.entries == [] and len(again.skipped) == 2

    put(FILES[2], "sensor=s1/date=2026-11-27/hour=11/c.pcap")
    put(FILES[0], "sensor=s1/date=2026-11-27/hour=11/a-copy.pcap")  # same bytes under another key
    third = run(spark, [root], settings)
    by_key = {e.path.rsplit("/", 1)[1]: e for e in third.entries}
    assert set(by_key) == {"c.pcap", "a-copy.pcap"} and len(third.skipped) == 2
    assert by_key["c.pcap"].packets == manifest[FILES[2]]
    db = settings.lake.database
    total = spark.sql(f"SELECT count(*) FROM {db}.packets").first()[0]
    assert total == sum(manifest[f] for f in FILES)  # the copy's packets are not stored twice
