"""Shared by every test folder. Keep it tiny: fixtures belong in the sub-folder conftest files."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent
# A test's top-level folder gives it a marker, so `pytest -m unit` works without decorating every test.
FOLDER_MARKERS = {"unit": "unit", "integration": "integration", "oracle": "oracle"}
# Live traffic with timing or loss assertions: `make test` runs these alone, after the parallel part, so a busy
# neighbour (Spark on the other worker) cannot make the kernel drop packets or the lab's shaping drift.
SERIAL_PATHS = ("integration/capture", "integration/lab", "oracle/test_live_tcp_vs_tshark.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS_DIR).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker and item.get_closest_marker(marker) is None:
            item.add_marker(marker)
        if item.path.relative_to(TESTS_DIR).as_posix().startswith(SERIAL_PATHS):
            item.add_marker("serial")
