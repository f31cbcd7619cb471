"""`netqos upload` and `netqos status` against a real MinIO."""

from __future__ import annotations

import json

from netqos.capture.health import Health, publish
from netqos.cli.main import main


def env(monkeypatch, minio) -> None:
    monkeypatch.setenv("NETQOS_S3__ENDPOINT_URL", minio.endpoint_url)
    monkeypatch.setenv("NETQOS_S3__ACCESS_KEY_ID", minio.access_key)
    monkeypatch.setenv("NETQOS_S3__SECRET_ACCESS_KEY", minio.secret_key)


def test_upload_is_idempotent_and_rejects_non_captures(minio, bucket, tmp_path, monkeypatch, capsys) -> None:
    from shared_pcaps import SHARED_PCAPS

    env(monkeypatch, minio)
    (tmp_path / "x.pcap").write_text("not a capture")
    files = [str(SHARED_PCAPS / "zeek-5-pings.pcap"), str(SHARED_PCAPS / "zeek-ssh.pcap")]
    argv = ["upload", *files, "--bucket", bucket, "--sensor", "lab-1", "--spool", str(tmp_path / "spool")]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert first.count("(uploaded)") == 2
    assert main(argv) == 0
    assert capsys.readouterr().out.count("(already_present)") == 2
    keys = [o["Key"] for o in minio.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert len(keys) == 2 and all(k.startswith("sensor=lab-1/date=") for k in keys)
    assert main([*argv[:1], str(tmp_path / "x.pcap"), *argv[3:]]) == 1
    assert "x.pcap" in capsys.readouterr().err


def test_status_lists_every_sensor(minio, bucket, monkeypatch, capsys) -> None:
    env(monkeypatch, minio)
    client = minio.client()
    for sensor in ("edge-1", "edge-2"):
        h = Health(sensor, "host-" + sensor, "0.1.0", "dumpcap", started_at=0.0, updated_at=1.0, kernel_dropped=3)
        h.error("store unreachable")
        publish(client, bucket, "", h)
    assert main(["status", "--bucket", bucket]) == 0
    out = capsys.readouterr().out
    assert "edge-1" in out and "edge-2" in out and "store unreachable" in out
    body = client.get_object(Bucket=bucket, Key="_health/sensor=edge-1.json")["Body"].read()
    assert json.loads(body)["kernel_dropped"] == 3 and minio.secret_key not in body.decode()
