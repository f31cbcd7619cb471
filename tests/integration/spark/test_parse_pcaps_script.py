"""jobs/spark/parse_pcaps.py as a user runs it: its own JVM, a fresh warehouse, a different working directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.integration]

SCRIPT = Path(__file__).resolve().parents[3] / "jobs" / "spark" / "parse_pcaps.py"


def test_script_ingests_and_keeps_metastore_out_of_cwd(pcaps, tmp_path):
    captures, cwd, warehouse = tmp_path / "captures", tmp_path / "cwd", tmp_path / "lake" / "warehouse"
    captures.mkdir()
    cwd.mkdir()
    shutil.copyfile(pcaps / "zeek-5-pings.pcap", captures / "zeek-5-pings.pcap")
    (captures / "broken.pcap").write_bytes(b"\xd4\xc3")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(captures), "--sensor", "edge-1", "--warehouse", str(warehouse)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ingested 1, failed 1, conflict 0, quarantined 0, already in the ledger 0" in " ".join(result.stdout.split())
    assert sorted(p.name for p in cwd.iterdir()) == []  # no metastore_db / derby.log / spark-warehouse here
    assert (warehouse.parent / "metastore_db").is_dir()
    assert (warehouse / "netqos.db" / "packets" / "_delta_log").is_dir()
