"""A real MinIO for the S3 tests: the fixtures live in tests/s3server.py so any test folder can import them."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

from s3server import bucket, minio, minio_tls  # noqa: E402, F401  (pytest finds fixtures by name)
