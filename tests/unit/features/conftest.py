"""Fixtures of the netqos.features tests: shared real captures, decoded and featurized once per session."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest
from shared_pcaps import SHARED_PCAPS

from netqos.decode import decode_file
from netqos.features import FeatureConfig, featurize
from netqos.features.pipeline import Features

PCAPS = SHARED_PCAPS


@pytest.fixture(scope="session")
def capture() -> Callable[[str], pa.Table]:
    """Decoded packets of a file of the shared captures (skips when the shared captures are absent)."""
    cache: dict[str, pa.Table] = {}

    def load(name: str) -> pa.Table:
        path = PCAPS / name
        if not path.exists():
            pytest.skip(f"shared capture {path} not present")
        if name not in cache:
            cache[name] = decode_file(path)
        return cache[name]

    return load


@pytest.fixture(scope="session")
def featurized(capture: Callable[[str], pa.Table]) -> Callable[[str], tuple[pa.Table, Features]]:
    """(packets, featurize(packets, FeatureConfig())) of a shared capture, computed once."""
    cache: dict[str, tuple[pa.Table, Features]] = {}

    def run(name: str) -> tuple[pa.Table, Features]:
        if name not in cache:
            packets = capture(name)
            cache[name] = (packets, featurize(packets, FeatureConfig()))
        return cache[name]

    return run
