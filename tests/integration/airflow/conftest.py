"""A real local Airflow (netqos.orchestration.local_airflow) for these tests; tests/ on sys.path for shared_pcaps."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))
