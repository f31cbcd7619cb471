"""Decide, from the ledger alone, what the ingest job does with each file. Pure: no Spark, no I/O.

Per file, first match wins:
  1. the ledger has an 'ingested', 'conflict' or 'quarantined' row for this (path, sha256) -> skipped
  2. the path was ingested before with other content                         -> 'conflict', not read
  3. the decoder cannot open it                                               -> 'failed' (retried next run)
  4. the same content was ingested from another path                          -> 'ingested', stats copied, not read
  5. otherwise                                                                 -> read; 'ingested' after the write
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from netqos.jobs.capture_files import CaptureFile
from netqos.lake.ledger import LedgerEntry, LedgerStatus

# The landing zone's key layout (netqos.capture.upload.object_key) names the sensor.
_SENSOR_IN_KEY = re.compile(r"(?:^|/)sensor=([^/]+)/")


@dataclass
class IngestPlan:
    to_ingest: list[CaptureFile] = field(default_factory=list)  # decoded this run
    entries: list[LedgerEntry] = field(default_factory=list)  # rows to write as they are: failed, conflict, copies
    skipped: list[CaptureFile] = field(default_factory=list)

    @property
    def to_read(self) -> dict[str, str]:
        """sha256 -> the one path decoded for that content (two paths with equal bytes are read once)."""
        out: dict[str, str] = {}
        for f in self.to_ingest:
            out.setdefault(f.sha256, f.path)
        return out


def new_entry(
    f: CaptureFile, status: LedgerStatus, *, sensor_id: str, now: datetime, error: str | None = None
) -> LedgerEntry:
    """A ledger row for `f` with no packet statistics yet."""
    return LedgerEntry(
        path=f.path,
        size=f.size,
        sha256=f.sha256,
        mtime=f.mtime,
        format=f.format,
        packets=None,
        first_ts=None,
        last_ts=None,
        link_types=None,
        status=status,
        error=error,
        ingested_at=now,
        sensor_id=sensor_id,
    )


def conflict_message(f: CaptureFile, previous: Sequence[LedgerEntry]) -> str:
    old = ", ".join(sorted({e.sha256 for e in previous}))
    return f"content changed under the same path: ledger has sha256 {old}, file now has sha256 {f.sha256}; not ingested"


def sensor_of(path: str, default: str) -> str:
    """The sensor a landed object belongs to (`.../sensor=<id>/...` in its key), else `default`."""
    match = _SENSOR_IN_KEY.search(path)
    return match.group(1) if match else default


def plan_ingest(
    files: Sequence[CaptureFile], ledger: Sequence[LedgerEntry], *, sensor_id: str, now: datetime
) -> IngestPlan:
    plan = IngestPlan()
    sensor = {f.path: sensor_of(f.path, sensor_id) for f in files}
    done = {(e.path, e.sha256) for e in ledger if e.status in ("ingested", "conflict", "quarantined")}
    for f in files:
        ingested_here = [e for e in ledger if e.path == f.path and e.status == "ingested"]
        same_content = [e for e in ledger if e.sha256 == f.sha256 and e.status == "ingested"]
        if (f.path, f.sha256) in done:
            plan.skipped.append(f)
        elif ingested_here:
            plan.entries.append(
                new_entry(f, "conflict", sensor_id=sensor[f.path], now=now, error=conflict_message(f, ingested_here))
            )
        elif f.error is not None:
            plan.entries.append(new_entry(f, "failed", sensor_id=sensor[f.path], now=now, error=f.error))
        elif same_content:
            stats = same_content[0]
            copied = dataclasses.replace(
                new_entry(f, "ingested", sensor_id=sensor[f.path], now=now),
                packets=stats.packets,
                first_ts=stats.first_ts,
                last_ts=stats.last_ts,
                link_types=stats.link_types,
            )
            plan.entries.append(copied)
        else:
            plan.to_ingest.append(f)
    return plan


def quarantine_files(plan: IngestPlan, reasons: dict[str, str], *, sensor_id: str, now: datetime) -> IngestPlan:
    """Move the files whose content (sha256) failed validation out of the files to ingest, into 'quarantined'
    ledger rows carrying the reason: their rows never reach `packets`, and later runs skip them."""
    bad = [f for f in plan.to_ingest if f.sha256 in reasons]
    plan.to_ingest = [f for f in plan.to_ingest if f.sha256 not in reasons]
    plan.entries += [
        new_entry(f, "quarantined", sensor_id=sensor_of(f.path, sensor_id), now=now, error=reasons[f.sha256])
        for f in bad
    ]
    return plan
