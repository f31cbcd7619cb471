"""Shared by every test folder. Keep it tiny: fixtures belong in the sub-folder conftest files."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent
# A test's top-level folder gives it a marker, so `pytest -m unit` works without decorating every test.
FOLDER_MARKERS = {"unit": "unit", "integration": "integration", "oracle": "oracle"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS_DIR).parts[0]
        except ValueError:
            continue
        marker = FOLDER_MARKERS.get(folder)
        if marker and item.get_closest_marker(marker) is None:
            item.add_marker(marker)
