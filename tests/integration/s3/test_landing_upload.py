"""netqos.capture.upload.Landing against a real MinIO: keys, metadata, checksums, idempotence, conflicts,
multipart, TLS, outages."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from s3server import MinioServer

from netqos.capture import upload as up
from netqos.capture.model import CaptureFileMeta, DropCounters, SpoolEntry
from netqos.settings import S3Settings
from netqos.storage.s3 import s3_client

T0 = 1_764_237_600_000_000_000  # 2025-11-27T10:00:00Z


def entry(path: Path, data: bytes, seq: int = 1, sensor: str = "edge-1") -> SpoolEntry:
    path.write_bytes(data)
    meta = CaptureFileMeta(
        sensor_id=sensor, seq=seq, sha256=hashlib.sha256(data).hexdigest(), size=len(data), format="pcapng",
        packets=7, first_ts_ns=T0 + seq * 10**9, last_ts_ns=T0 + seq * 10**9 + 5, link_types=[1],
        capture_host="h1", agent_version="0.1.0", backend="dumpcap", drops=DropCounters(100, 2, 1),
    )  # fmt: skip
    return SpoolEntry(path, meta)


def landing_for(server: MinioServer, bucket: str, **kw) -> up.Landing:
    s3 = S3Settings(endpoint_url=server.endpoint_url, access_key_id=server.access_key,
                    secret_access_key=server.secret_key, ca_bundle=server.ca_path)  # fmt: skip
    return up.Landing(s3_client(s3), bucket, **kw)


def test_key_layout_metadata_and_idempotent_reupload(minio, bucket, tmp_path) -> None:
    landing = landing_for(minio, bucket)
    e = entry(tmp_path / "f.pcapng", b"\x0a\x0d\x0d\x0a" + b"x" * 1000)
    first = landing.upload(e)
    assert first.key == "sensor=edge-1/date=2025-11-27/hour=10/edge-1_20251127T100001Z_000001.pcapng"
    assert first.status == "uploaded"
    head = minio.client().head_object(Bucket=bucket, Key=first.key)
    assert head["ContentLength"] == 1004
    meta = head["Metadata"]
    assert meta["sha256"] == e.meta.sha256 and meta["packets"] == "7" and meta["ps-drop"] == "2"
    assert meta["ps-ifdrop"] == "1" and meta["capture-host"] == "h1" and meta["first-ts-ns"] == str(T0 + 10**9)
    assert not any(minio.secret_key in v or minio.access_key in v for v in meta.values())
    again = landing.upload(e)
    assert again.status == "already_present" and again.key == first.key
    keys = [o["Key"] for o in minio.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [first.key]


def test_other_content_under_the_same_key_is_a_conflict(minio, bucket, tmp_path) -> None:
    landing = landing_for(minio, bucket)
    landing.upload(entry(tmp_path / "a.pcapng", b"A" * 100))
    with pytest.raises(up.UploadConflict, match="holds other content"):
        landing.upload(entry(tmp_path / "b.pcapng", b"B" * 100))


def test_land_existing_takes_the_next_free_sequence_number(minio, bucket, tmp_path) -> None:
    landing = landing_for(minio, bucket)
    a = landing.upload(entry(tmp_path / "a.pcapng", b"A" * 100, seq=0))
    b = up.land_existing(landing, entry(tmp_path / "b.pcapng", b"B" * 100, seq=0))
    assert a.key.endswith("_000000.pcapng") and b.key.endswith("_000001.pcapng") and b.status == "uploaded"
    assert up.land_existing(landing, entry(tmp_path / "b2.pcapng", b"B" * 100, seq=0)).status == "already_present"


def test_multipart_upload_is_verified(minio, bucket, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(up, "MULTIPART_THRESHOLD", 5 << 20)
    monkeypatch.setattr(up, "MULTIPART_CHUNK", 5 << 20)
    data = bytes(range(256)) * (12 * 4096)  # 12 MiB: three parts
    result = landing_for(minio, bucket).upload(entry(tmp_path / "big.pcapng", data))
    body = minio.client().get_object(Bucket=bucket, Key=result.key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(data).hexdigest()
    assert minio.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_incomplete_multipart_uploads_are_swept(minio, bucket) -> None:
    client = minio.client()
    client.create_multipart_upload(Bucket=bucket, Key="sensor=edge-1/x.pcapng")
    landing = landing_for(minio, bucket)
    assert landing.sweep_incomplete_uploads(older_than=__import__("datetime").timedelta(0)) == 1
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_tls_endpoint(minio_tls, tmp_path) -> None:
    bucket = minio_tls.make_bucket("tls-landing")
    result = landing_for(minio_tls, bucket).upload(entry(tmp_path / "t.pcapng", b"T" * 64))
    assert result.status == "uploaded"


def test_outage_is_retried_until_the_store_is_back(tmp_path) -> None:
    with MinioServer(tmp_path / "minio") as server:
        bucket = server.make_bucket("outage")
        landing = landing_for(server, bucket, retries=30, backoff_s=0.2, max_backoff_s=1.0)
        server.kill()
        results: list[up.UploadResult] = []
        # The upload runs in a thread; the server restarts from the main thread (MinIO dies with the thread that
        # started it: PR_SET_PDEATHSIG).
        uploader = threading.Thread(
            target=lambda: results.append(landing.upload(entry(tmp_path / "o.pcapng", b"O" * 500)))
        )
        started = time.monotonic()
        uploader.start()
        time.sleep(2.0)
        server.start()
        uploader.join(timeout=60)
        assert results and results[0].status == "uploaded" and results[0].attempts > 1
        assert time.monotonic() - started >= 2.0
