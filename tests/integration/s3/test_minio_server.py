"""The test MinIO itself, and the S3 calls the uploader relies on, against a real server (no mocks).

Also pins MinIO behaviour that differs from AWS S3 (list_multipart_uploads prefixes, lifecycle rules), so a
MinIO upgrade that changes it shows up here first.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError
from s3server import MinioNotInstalledError, MinioServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

MiB = 1024 * 1024


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def error_code(exc: ClientError) -> tuple[str, int]:
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def test_put_get_head_with_sha256(minio: MinioServer, bucket: str) -> None:
    s3 = minio.client()
    body = os.urandom(300_000)
    put = s3.put_object(Bucket=bucket, Key="a/obj.bin", Body=body, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == sha256_b64(body)

    head = s3.head_object(Bucket=bucket, Key="a/obj.bin", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(body)
    assert head["ChecksumSHA256"] == sha256_b64(body)
    assert head["ETag"] == put["ETag"]
    # Without ChecksumMode the checksum is not returned (same as AWS).
    assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="a/obj.bin")

    got = s3.get_object(Bucket=bucket, Key="a/obj.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got["ChecksumSHA256"] == sha256_b64(body)


def test_server_rejects_a_wrong_sha256(minio: MinioServer, bucket: str) -> None:
    s3 = minio.client()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"payload", ChecksumSHA256=sha256_b64(b"something else"))
    assert error_code(e.value)[1] == 400  # MinIO: XAmzContentChecksumMismatch (AWS says BadDigest)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="bad")
    assert error_code(e.value)[1] == 404


def test_multipart_upload_file(minio: MinioServer, bucket: str, tmp_path: Path) -> None:
    s3 = minio.client()
    data = os.urandom(11 * MiB)  # 5 + 5 + 1 MiB parts (5 MiB is S3's smallest non-final part)
    src = tmp_path / "capture.pcap"
    src.write_bytes(data)
    small = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    s3.upload_file(str(src), bucket, "big/capture.pcap", ExtraArgs={"ChecksumAlgorithm": "SHA256"}, Config=small)

    head = s3.head_object(Bucket=bucket, Key="big/capture.pcap", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")
    # A multipart SHA256 is the checksum of the part checksums ("<b64>-<parts>"), not the file's SHA256.
    assert head["ChecksumType"] == "COMPOSITE"
    assert head["ChecksumSHA256"].endswith("-3")
    assert head["ChecksumSHA256"] != sha256_b64(data)
    assert s3.head_object(Bucket=bucket, Key="big/capture.pcap", PartNumber=1)["PartsCount"] == 3

    dst = tmp_path / "back.pcap"
    s3.download_file(bucket, "big/capture.pcap", str(dst))
    assert dst.read_bytes() == data
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_list_objects(minio: MinioServer, bucket: str) -> None:
    s3 = minio.client()
    keys = ["raw/s1/a.pcap", "raw/s1/b.pcap", "raw/s2/c.pcap", "raw/top.pcap", "other/x"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="raw/", PaginationConfig={"PageSize": 2})
    listed = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert listed == sorted(k for k in keys if k.startswith("raw/"))

    top = s3.list_objects_v2(Bucket=bucket, Prefix="raw/", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["raw/top.pcap"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["raw/s1/", "raw/s2/"]
    sizes = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert sizes == {k: len(k) for k in keys}


def test_conditional_writes(minio: MinioServer, bucket: str) -> None:
    s3 = minio.client()
    s3.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"second", IfNoneMatch="*")
    assert error_code(e.value) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"

    # IfMatch: compare-and-swap on the ETag.
    etag = s3.head_object(Bucket=bucket, Key="once")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="once", Body=b"x", IfMatch='"00000000000000000000000000000000"')
    assert error_code(e.value) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="once", Body=b"third", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"third"

    # IfNoneMatch on CompleteMultipartUpload: the upload runs, the commit is refused.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="once", ChecksumAlgorithm="SHA256")["UploadId"]
    part = s3.upload_part(
        Bucket=bucket, Key="once", UploadId=upload, PartNumber=1, Body=b"mp", ChecksumAlgorithm="SHA256"
    )
    parts = [{"PartNumber": 1, "ETag": part["ETag"], "ChecksumSHA256": part["ChecksumSHA256"]}]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="once", UploadId=upload, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
        )
    assert error_code(e.value) == ("PreconditionFailed", 412)
    s3.abort_multipart_upload(Bucket=bucket, Key="once", UploadId=upload)
    assert s3.get_object(Bucket=bucket, Key="once")["Body"].read() == b"third"


def test_list_and_abort_multipart_uploads(minio: MinioServer, bucket: str) -> None:
    s3 = minio.client()
    ids = {key: s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in ("in/a", "in/b", "top")}
    s3.upload_part(Bucket=bucket, Key="in/a", UploadId=ids["in/a"], PartNumber=1, Body=b"x" * 100)

    def pending(**kw: str) -> list[str]:
        return sorted(u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, **kw).get("Uploads", []))

    assert pending() == ["in/a", "in/b", "top"]
    assert pending(Prefix="in/a") == ["in/a"]
    # MinIO differs from AWS: a Prefix that is not a whole object key lists nothing.
    assert pending(Prefix="in/") == []
    # Delimiter and MaxUploads are ignored: one page, no CommonPrefixes.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1, Delimiter="/")
    assert len(page["Uploads"]) == 3 and not page["IsTruncated"] and "CommonPrefixes" not in page

    for key, upload in ids.items():
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload)
    assert pending() == []
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="in/a", UploadId=ids["in/a"])
    assert error_code(e.value) == ("NoSuchUpload", 404)
    # Aborting again succeeds on MinIO (AWS: 404 NoSuchUpload); list_parts is the way to ask if an upload exists.
    s3.abort_multipart_upload(Bucket=bucket, Key="in/a", UploadId=ids["in/a"])


def test_lifecycle_abort_incomplete_multipart_is_not_supported(minio: MinioServer, bucket: str) -> None:
    """MinIO has no AbortIncompleteMultipartUpload: alone it is rejected, next to Expiration it is dropped.

    Stale uploads are removed server-wide instead (MINIO_API_STALE_UPLOADS_EXPIRY, default 24h).
    """
    s3 = minio.client()
    abort_rule = {"ID": "abort-mpu", "Status": "Enabled", "Filter": {"Prefix": ""},
                  "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}  # fmt: skip
    with pytest.raises(ClientError) as e:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [abort_rule]})
    assert error_code(e.value) == ("InvalidArgument", 400)

    both = {**abort_rule, "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [both]})
    (stored,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert stored["Expiration"] == {"Days": 1}
    assert "AbortIncompleteMultipartUpload" not in stored


def test_kill_and_restart_keep_objects(tmp_path: Path) -> None:
    with MinioServer(tmp_path / "srv") as server:
        s3 = server.client()
        name = server.make_bucket()
        body = os.urandom(64 * 1024)
        s3.put_object(Bucket=name, Key="k", Body=body, ChecksumAlgorithm="SHA256")
        endpoint, old_pid = server.endpoint_url, server.pid
        assert old_pid is not None

        server.kill()
        assert not server.running
        assert not Path(f"/proc/{old_pid}").exists()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{endpoint}/minio/health/live", timeout=2)

        server.start()
        assert server.endpoint_url == endpoint and server.pid != old_pid
        # The client made before the crash still works: same port, same credentials.
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == body
        assert s3.head_object(Bucket=name, Key="k", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256_b64(body)

        server.restart()  # graceful this time
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["k"]
    assert not server.running


def test_tls_needs_the_test_ca(minio_tls: MinioServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    assert minio_tls.endpoint_url.startswith("https://127.0.0.1:")
    assert minio_tls.ca_path is not None and minio_tls.ca_path.is_file()

    s3 = minio_tls.client(verify=str(minio_tls.ca_path))
    name = minio_tls.make_bucket()
    s3.put_object(Bucket=name, Key="k", Body=b"over tls", ChecksumAlgorithm="SHA256")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"over tls"

    # Without the CA (the system bundle) verification fails: boto3 and a plain TLS client alike.
    untrusted = minio_tls.client(verify=True, config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    with pytest.raises(SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.list_buckets()
    with pytest.raises(urllib.error.URLError) as e:
        urllib.request.urlopen(f"{minio_tls.endpoint_url}/minio/health/live", timeout=5)
    assert isinstance(e.value.reason, ssl.SSLCertVerificationError)
    # The certificate names localhost too.
    ctx = ssl.create_default_context(cafile=str(minio_tls.ca_path))
    with urllib.request.urlopen(f"https://localhost:{minio_tls.port}/minio/health/live", context=ctx) as r:
        assert r.status == 200


def test_credentials_stay_out_of_the_process_list(minio: MinioServer, minio_tls: MinioServer) -> None:
    for server in (minio, minio_tls):
        assert server.pid is not None
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes().decode()
        assert "minio" in cmdline and str(server.port) in cmdline
        assert server.access_key not in cmdline and server.secret_key not in cmdline
        # They are in its environment, which only the owner (and root) can read.
        environ = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
        assert f"MINIO_ROOT_PASSWORD={server.secret_key}".encode() in environ
        assert os.stat(f"/proc/{server.pid}/environ").st_mode & 0o077 == 0

    ps = shutil.which("ps")
    if ps:
        listing = subprocess.run([ps, "-eww", "-o", "args"], capture_output=True, text=True, check=True).stdout
        assert str(minio.port) in listing
        for server in (minio, minio_tls):
            assert server.access_key not in listing and server.secret_key not in listing


def test_missing_binary_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(MinioNotInstalledError, match=r"make tools"):
        MinioServer(tmp_path / "srv", binary=tmp_path / "no-minio").start()


def test_failed_start_reports_the_log(tmp_path: Path) -> None:
    fake = tmp_path / "fake-minio"
    fake.write_text("#!/bin/sh\necho 'FATAL cannot start: drive is on fire'\nexit 3\n")
    fake.chmod(0o755)
    server = MinioServer(tmp_path / "srv", binary=fake)
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*drive is on fire"):
        server.start()
    assert not server.running
