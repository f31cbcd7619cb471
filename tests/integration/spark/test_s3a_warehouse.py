"""The lakehouse in an object store: jobs/spark/ingest.py with `lake.warehouse_uri = s3a://…` writes every Delta
table into a real MinIO bucket through S3A (keys only in the environment), and a rerun adds nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from s3server import MinioServer

pytestmark = [pytest.mark.spark, pytest.mark.integration]

SCRIPT = Path(__file__).resolve().parents[3] / "jobs" / "spark" / "ingest.py"
BUCKET = "netqos-lakehouse"
CAPTURE = "zeek-get-to-ssh-server.pcap"


def _delta_rows(s3: Any, table: str) -> int:
    """Rows of a Delta table from its log alone (the add actions' numRecords minus the removed files'): read with
    boto3, an oracle independent of Spark."""
    prefix = f"warehouse/netqos.db/{table}/_delta_log/"
    live: dict[str, int] = {}
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))
    for key in (k for k in keys if k.endswith(".json")):
        for line in s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines():
            action = json.loads(line)
            if "add" in action:
                live[action["add"]["path"]] = json.loads(action["add"]["stats"])["numRecords"]
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    return sum(live.values())


def test_ingest_writes_the_lakehouse_to_s3a(pcaps: Path, manifest: dict[str, int], tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    captures.mkdir()
    shutil.copyfile(pcaps / CAPTURE, captures / CAPTURE)
    with MinioServer(tmp_path / "minio") as server:
        server.make_bucket(BUCKET)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NETQOS_S3__", "NETQOS_LAKE__", "AWS_"))}
        env.update(
            NETQOS_LAKE__WAREHOUSE_DIR=str(tmp_path / "lake" / "warehouse"),
            NETQOS_LAKE__WAREHOUSE_URI=f"s3a://{BUCKET}/warehouse",
            NETQOS_S3__ENDPOINT_URL=server.endpoint_url,
            NETQOS_S3__ACCESS_KEY_ID=server.access_key,
            NETQOS_S3__SECRET_ACCESS_KEY=server.secret_key,
            NETQOS_SPARK__SHUFFLE_PARTITIONS="2",
        )
        for run in (1, 2):
            cmd = [sys.executable, str(SCRIPT), str(captures), "--sensor", "edge1", "--run-id", f"s3a-{run}"]
            proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
            assert proc.returncode == 0, proc.stderr[-4000:]
            assert server.secret_key not in proc.stdout + proc.stderr
        s3 = server.client()
        assert _delta_rows(s3, "packets") == manifest[CAPTURE]
        assert _delta_rows(s3, "tcp_analysis") == manifest[CAPTURE]
        assert _delta_rows(s3, "ingest_ledger") == 1
        assert _delta_rows(s3, "flows") > 0 and _delta_rows(s3, "qos_windows") > 0
        data = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="warehouse/netqos.db/packets/")["Contents"]]
        assert any(k.endswith(".parquet") for k in data)
    # Only the side files stay local: no table folder in the local warehouse.
    assert not (tmp_path / "lake" / "warehouse" / "netqos.db" / "packets").exists()
