"""Settings whose metrics and logs stay in the test's folder; the root logger restored after each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from netqos.settings import LakeSettings, ObservabilitySettings, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        sensor_id="edge-1",
        lake=LakeSettings(warehouse_dir=tmp_path / "lake" / "warehouse"),
        observability=ObservabilitySettings(metrics_dir=tmp_path / "metrics"),
    )


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """configure_logging changes the root logger; give the next test the one it had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
