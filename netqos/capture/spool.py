"""The on-disk spool between the capture backend and the uploader; it survives crashes and power loss.

    root/incoming/   backends write here (a file is complete once the backend reports it closed)
    root/ready/      finalized files `<sensor>_<YYYYmmddTHHMMSSZ>_<seq:06d>.<ext>` + `<file>.json` sidecars
    root/state.json  next seq per sensor, last cumulative drop counters per sensor, eviction counters

Every write is tmp -> fsync -> rename -> fsync(dir), so a crash leaves either the old or the new version.
A file is renamed into ready/ before its sidecar is written; `recover` repairs each half-done step.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netqos.capture import filemeta
from netqos.capture.model import CaptureFileMeta, DropCounters, SpoolEntry

log = logging.getLogger("netqos.capture")

READY_NAME = re.compile(r"^(?P<sensor>.+)_(?P<stamp>\d{8}T\d{6}Z)_(?P<seq>\d{6,})\.(?P<ext>pcapng|pcap)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


@dataclass
class SpoolStats:
    pending_files: int
    pending_bytes: int
    evicted_files: int  # since the spool was created (persisted)
    evicted_bytes: int


@dataclass
class _State:
    next_seq: dict[str, int] = field(default_factory=dict)
    last_drops: dict[str, dict[str, int]] = field(default_factory=dict)
    evicted_files: int = 0
    evicted_bytes: int = 0


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def safe_sensor(sensor_id: str) -> str:
    """The sensor id as it appears in file names: '_' separates name fields, '/' would make a directory."""
    return _UNSAFE.sub("-", sensor_id) or "sensor"


def _stamp(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y%m%dT%H%M%SZ")


class Spool:
    """Thread-safe: the capture loop finalizes while uploader threads list and remove."""

    def __init__(self, root: Path, quota_bytes: int) -> None:
        if quota_bytes <= 0:
            raise ValueError(f"spool quota must be positive, got {quota_bytes}")
        self.root = Path(root)
        self.quota_bytes = quota_bytes
        self.incoming = self.root / "incoming"
        self.ready = self.root / "ready"
        self.state_path = self.root / "state.json"
        self._lock = threading.RLock()
        for d in (self.root, self.incoming, self.ready):
            d.mkdir(parents=True, exist_ok=True)
        self._state = self._load_state()

    # -- state -----------------------------------------------------------------------------------------
    def _load_state(self) -> _State:
        state = _State()
        if self.state_path.exists():
            try:
                raw: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
                state = _State(
                    next_seq={str(k): int(v) for k, v in raw.get("next_seq", {}).items()},
                    last_drops={str(k): dict(v) for k, v in raw.get("last_drops", {}).items()},
                    evicted_files=int(raw.get("evicted_files", 0)),
                    evicted_bytes=int(raw.get("evicted_bytes", 0)),
                )
            except (ValueError, TypeError, AttributeError) as e:
                log.error("spool state %s is unreadable (%s); seq numbers rebuilt from ready/", self.state_path, e)
        # A lost or stale state.json must never reuse a sequence number still present in ready/.
        for name, seq in self._ready_seqs():
            state.next_seq[name] = max(state.next_seq.get(name, 1), seq + 1)
        return state

    def _ready_seqs(self) -> Iterator[tuple[str, int]]:
        for p in self.ready.iterdir():
            m = READY_NAME.match(p.name)
            if m:
                yield m["sensor"], int(m["seq"])

    def _save_state(self) -> None:
        atomic_write(self.state_path, json.dumps(asdict(self._state), sort_keys=True, indent=1))

    def next_seq(self, sensor_id: str) -> int:
        """The next sequence number of this sensor (starting at 1); persisted before it is returned."""
        key = safe_sensor(sensor_id)
        with self._lock:
            seq = self._state.next_seq.get(key, 1)
            self._state.next_seq[key] = seq + 1
            self._save_state()
            return seq

    def file_drops(self, sensor_id: str, cumulative: DropCounters) -> DropCounters:
        """This file's drops: `cumulative` minus the previous file's (persisted). Counters that went down mean
        the backend restarted, so the new values are the span since then."""
        key = safe_sensor(sensor_id)
        with self._lock:
            prev = DropCounters(**self._state.last_drops.get(key, {}))
            restarted = (
                cumulative.received < prev.received
                or cumulative.dropped < prev.dropped
                or cumulative.if_dropped < prev.if_dropped
            )
            self._state.last_drops[key] = asdict(cumulative)
            self._save_state()
            return cumulative if restarted else cumulative.since(prev)

    def reset_drops(self, sensor_id: str) -> None:
        """Call when a new backend process starts: its counters begin at zero."""
        with self._lock:
            self._state.last_drops.pop(safe_sensor(sensor_id), None)
            self._save_state()

    # -- files -----------------------------------------------------------------------------------------
    def finalize(self, path: Path, meta: CaptureFileMeta) -> SpoolEntry:
        """Move a closed file into ready/ under its final name and write its sidecar."""
        path = Path(path)
        when = meta.first_ts_ns
        if when is None:  # no packets: name it by its close time
            when = meta.closed_ns if meta.closed_ns is not None else path.stat().st_mtime_ns
        name = f"{safe_sensor(meta.sensor_id)}_{_stamp(when)}_{meta.seq:06d}.{meta.extension}"
        target = self.ready / name
        with self._lock:
            if target.exists():
                raise FileExistsError(f"{target} already exists: sequence number {meta.seq} was used twice")
            _fsync_file(path)  # the backend closed it but may not have synced it
            os.replace(path, target)
            fsync_dir(self.ready)
            if path.parent != self.ready:
                fsync_dir(path.parent)
            entry = SpoolEntry(target, meta)
            atomic_write(entry.sidecar, meta.to_json())
        return entry

    def pending(self) -> list[SpoolEntry]:
        """Finalized files with their sidecars, oldest first: by seq, which follows the closing order (the name
        stamp does not: a file without packets is stamped with its close time, later than its successor's
        first packet)."""
        entries: list[tuple[tuple[int, str, str], SpoolEntry]] = []
        for sidecar in self.ready.glob("*.json"):
            data = sidecar.with_name(sidecar.name[: -len(".json")])
            try:
                meta = CaptureFileMeta.from_json(sidecar.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue  # removed meanwhile by another thread
            except (ValueError, TypeError) as e:
                log.error("spool sidecar %s is unreadable (%s); recover() rebuilds it", sidecar, e)
                continue
            if not data.exists():
                continue
            m = READY_NAME.match(data.name)
            key = (meta.seq, m["stamp"] if m else "", data.name)
            entries.append((key, SpoolEntry(data, meta)))
        return [e for _, e in sorted(entries, key=lambda t: t[0])]

    def remove(self, entry: SpoolEntry) -> None:
        """Delete a file and its sidecar (after upload). The file goes first: a lone sidecar is cleaned up."""
        with self._lock:
            entry.path.unlink(missing_ok=True)
            entry.sidecar.unlink(missing_ok=True)
            fsync_dir(self.ready)

    # -- start-up --------------------------------------------------------------------------------------
    def recover(self, sensor_id: str, backend: str = "unknown") -> list[SpoolEntry]:
        """Repair what a crash left behind. Call before the backend starts (incoming/ must be quiet).

        - files in incoming/: finalized with recovered=True (a cut tail is counted up to the damage);
          empty files hold nothing and are deleted;
        - a ready/ file without sidecar gets one (recovered=True, seq taken from its name);
        - a sidecar without its file, and leftover temporary files, are deleted.
        Drop counters of recovered files are unknown and recorded as zero.
        """
        out: list[SpoolEntry] = []
        with self._lock:
            for p in sorted(self.incoming.iterdir(), key=lambda q: (q.stat().st_mtime_ns, q.name)):
                if not p.is_file() or p.name.startswith("."):
                    continue  # backends keep helpers (e.g. tcpdump's -z script) as dotfiles
                if p.stat().st_size == 0:
                    log.warning("spool: deleting empty leftover %s", p)
                    p.unlink()
                    continue
                meta = replace(
                    filemeta.describe(
                        p,
                        sensor_id=sensor_id,
                        seq=self.next_seq(sensor_id),
                        backend=backend,
                        drops=DropCounters(),
                        recovered=True,
                    ),
                    closed_ns=p.stat().st_mtime_ns,  # the last write before the crash
                )
                entry = self.finalize(p, meta)
                log.warning("spool: recovered %s as %s (%s)", p.name, entry.path.name, meta.decode_error or "whole")
                out.append(entry)
            for p in sorted(self.ready.iterdir()):
                if p.name.startswith(".") and p.name.endswith(".tmp"):
                    p.unlink()
                elif p.suffix == ".json":
                    if not p.with_name(p.name[: -len(".json")]).exists():
                        log.warning("spool: deleting sidecar %s without its file", p.name)
                        p.unlink()
                elif p.is_file() and not p.with_name(p.name + ".json").exists():
                    out.append(self._rebuild_sidecar(p, sensor_id, backend))
            fsync_dir(self.ready)
        return out

    def _rebuild_sidecar(self, path: Path, sensor_id: str, backend: str) -> SpoolEntry:
        m = READY_NAME.match(path.name)
        if m is None:  # not one of ours (copied in by hand?): give it a proper name
            seq = self.next_seq(sensor_id)
            meta = filemeta.describe(
                path, sensor_id=sensor_id, seq=seq, backend=backend, drops=DropCounters(), recovered=True
            )
            return self.finalize(path, replace(meta, closed_ns=path.stat().st_mtime_ns))
        meta = filemeta.describe(
            path, sensor_id=m["sensor"], seq=int(m["seq"]), backend=backend, drops=DropCounters(), recovered=True
        )
        meta = replace(meta, closed_ns=path.stat().st_mtime_ns)
        entry = SpoolEntry(path, meta)
        atomic_write(entry.sidecar, meta.to_json())
        log.warning("spool: rebuilt the sidecar of %s", path.name)
        return entry

    # -- quota -----------------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        total = 0
        for d in (self.incoming, self.ready):
            for p in d.iterdir():
                try:
                    total += p.stat().st_size
                except FileNotFoundError:
                    continue
        return total

    def enforce_quota(self) -> list[SpoolEntry]:
        """Evict the oldest ready files while incoming/ + ready/ exceed the quota; each eviction is an ERROR."""
        evicted: list[SpoolEntry] = []
        with self._lock:
            used = self.used_bytes()
            if used <= self.quota_bytes:
                return evicted
            for entry in self.pending():
                if used <= self.quota_bytes:
                    break
                size = entry.path.stat().st_size + entry.sidecar.stat().st_size
                self.remove(entry)
                used -= size
                self._state.evicted_files += 1
                self._state.evicted_bytes += entry.meta.size
                self._save_state()
                evicted.append(entry)
                log.error(
                    "spool over quota (%d > %d bytes): evicted %s (%d bytes, %d packets, seq %d) without uploading it",
                    used + size,
                    self.quota_bytes,
                    entry.path.name,
                    entry.meta.size,
                    entry.meta.packets,
                    entry.meta.seq,
                )
            if used > self.quota_bytes:
                log.error(
                    "spool still over quota (%d > %d bytes) with nothing left to evict: files being written exceed it",
                    used,
                    self.quota_bytes,
                )
        return evicted

    def stats(self) -> SpoolStats:
        pend = self.pending()
        with self._lock:
            return SpoolStats(
                pending_files=len(pend),
                pending_bytes=sum(e.meta.size for e in pend),
                evicted_files=self._state.evicted_files,
                evicted_bytes=self._state.evicted_bytes,
            )
