"""pytest wiring for the tshark oracle (the logic is in oracle_run.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import oracle_run  # noqa: E402


@pytest.fixture(scope="session")
def oracle(request: pytest.FixtureRequest) -> Iterator[oracle_run.OracleRun]:
    if not oracle_run.HAVE_TSHARK:
        pytest.skip("tshark not installed")
    if not oracle_run.PCAP_FILES:
        pytest.skip("no captures found (set NETQOS_PCAP_DIR)")
    yield oracle_run.get_oracle_run()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    run = oracle_run.current_run()
    if run is None:
        return
    tr = terminalreporter
    tr.section("netqos vs tshark: agreement per field")
    for line in oracle_run.agreement_table(run):
        tr.write_line(line)
    tr.write_line(f"report: {oracle_run.REPORT_MD}")
