"""Frame fields as tshark reads them (the oracle the inspect tests compare cut pcaps with)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def tshark_rows(path: Path, fields: Sequence[str], display_filter: str | None = None) -> list[tuple[str, ...]]:
    cmd = ["tshark", "-n", "-r", str(path), "-o", "frame.generate_md5_hash:TRUE", "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    if display_filter:
        cmd += ["-Y", display_filter]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [tuple(line.split("\t")) for line in out.splitlines()]
