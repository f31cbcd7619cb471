"""The capture agent's loop: backend -> closed files -> spool (finalized, fsync'd) -> landing bucket -> delete.

Nothing is deleted before the store confirms it (Landing.upload verifies size and sha256). A store outage only
grows the spool; when the spool quota fills, the oldest files are evicted with an ERROR log and counted in the
heartbeat. On restart, files a killed agent left behind are finalized and uploaded first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from netqos import __version__
from netqos.capture.health import Health, publish
from netqos.capture.model import SpoolEntry
from netqos.capture.upload import Landing, UploadConflict
from netqos.observability.capture_metrics import capture_registry
from netqos.observability.export import serve, write_textfile
from netqos.observability.logs import configure_logging
from netqos.settings import Settings

log = logging.getLogger("netqos.capture")

# A file whose upload cycle failed (Landing already retried inside it) waits 1, 2, 4 ... 30 s before the next.
RETRY_BASE_S = 1.0
RETRY_CAP_S = 30.0


def end_process(pid: int, timeout_s: float = 10.0) -> bool:
    """SIGINT (a capture tool then closes its file), SIGKILL after `timeout_s`. False if it was not running or is
    not a capture process (the pid may have been reused)."""
    import os
    import signal

    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    if not any(tool in cmdline for tool in (b"dumpcap", b"tcpdump", b"netqos", b"scapy")):
        return False

    def running() -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state != "Z"

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    if running():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return True


class Agent:
    def __init__(
        self,
        settings: Settings,
        landing: Landing | None,
        *,
        backend: Any = None,
        netns: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from netqos.capture.backends import make_backend
        from netqos.capture.spool import Spool

        self.settings, self.cfg, self.landing, self.clock = settings, settings.capture, landing, clock
        self.sensor = settings.sensor_id
        self.spool = Spool(self.cfg.spool_dir, self.cfg.spool_quota_mb << 20)
        self.backend = backend or make_backend(self.cfg, self.spool.incoming, self.sensor, netns=netns)
        self.health = Health(self.sensor, socket.gethostname(), __version__, self.backend.name, started_at=clock())
        self.metrics = capture_registry(self.health, self.cfg.spool_quota_mb << 20)
        self._pool = ThreadPoolExecutor(max_workers=self.cfg.upload_concurrency, thread_name_prefix="netqos-upload")
        self._in_flight: dict[Path, Future[Any]] = {}
        self._retry_at: dict[Path, float] = {}
        self._failures: dict[Path, int] = {}
        self._conflicts: set[Path] = set()
        self._next_heartbeat = 0.0
        self._lock = threading.Lock()

    # --- files ------------------------------------------------------------------------------------------------

    def finalize(self, paths: list[Path], *, recovered: bool = False) -> list[SpoolEntry]:
        entries = []
        for path in paths:
            try:
                entries.append(self._finalize_one(path, recovered))
            except Exception as exc:  # one bad file must not stop the capture; it stays where it is
                self.health.error(f"could not finalize {path.name}: {exc}")
                log.error("could not finalize %s: %s", path, exc)
        return entries

    def _finalize_one(self, path: Path, recovered: bool) -> SpoolEntry:
        from netqos.capture.filemeta import describe, isb_drops

        # Cumulative counters since the backend (re)started; the spool keeps the last value per sensor and hands
        # back this file's share (it notices a backend restart).
        span = self.spool.file_drops(self.sensor, isb_drops(path) or self.backend.drops())
        meta = describe(
            path, sensor_id=self.sensor, seq=self.spool.next_seq(self.sensor), backend=self.backend.name,
            drops=span, recovered=recovered,
        )  # fmt: skip
        meta = dataclasses.replace(meta, closed_ns=int(self.clock() * 1e9))
        entry = self.spool.finalize(path, meta)
        self.health.files_finalized += 1
        self.health.packets_captured += meta.packets
        log.info("closed %s: %d packets, %d bytes", entry.path.name, meta.packets, meta.size)
        return entry

    def _uploaded(self, entry: SpoolEntry, future: Future[Any]) -> None:
        with self._lock:
            # Everything below happens under the lock, before the path leaves _in_flight, so upload_pending never
            # sees a landed file as pending and uploads it twice.
            try:
                result = future.result()
            except UploadConflict as exc:
                self._in_flight.pop(entry.path, None)
                self._conflicts.add(entry.path)
                self.health.error(str(exc))
                log.error("%s", exc)
                return
            except Exception as exc:  # UploadFailed or anything else: the file stays spooled and is retried
                self._in_flight.pop(entry.path, None)
                self.health.upload_failures += 1
                self.health.error(f"upload of {entry.path.name}: {exc}")
                tries = self._failures[entry.path] = self._failures.get(entry.path, 0) + 1
                self._retry_at[entry.path] = self.clock() + min(RETRY_CAP_S, RETRY_BASE_S * 2 ** min(tries - 1, 10))
                log.warning("upload of %s failed: %s", entry.path.name, exc)
                return
            self.spool.remove(entry)
            self._in_flight.pop(entry.path, None)
            self._retry_at.pop(entry.path, None)
            self._failures.pop(entry.path, None)
            self.health.files_uploaded += 1
            self.health.bytes_uploaded += entry.meta.size
            end_ns = entry.meta.last_ts_ns or entry.meta.closed_ns
            if end_ns:
                self.health.landed_lag_s = max(0.0, self.clock() - end_ns / 1e9)
            log.info("landed %s as %s (%s)", entry.path.name, result.key, result.status)

    def upload_pending(self) -> None:
        if self.landing is None:
            return
        now = self.clock()
        for entry in self.spool.pending():
            with self._lock:
                if entry.path in self._in_flight or entry.path in self._conflicts or not entry.path.exists():
                    continue
                if self._retry_at.get(entry.path, 0.0) > now:
                    continue
                future = self._pool.submit(self.landing.upload, entry)
                self._in_flight[entry.path] = future
            future.add_done_callback(functools.partial(self._uploaded, entry))

    def idle(self) -> bool:
        with self._lock:
            return not self._in_flight and all(e.path in self._conflicts for e in self.spool.pending())

    # --- health -----------------------------------------------------------------------------------------------

    def heartbeat(self, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now < self._next_heartbeat:
            return
        self._next_heartbeat = now + self.cfg.heartbeat_seconds
        h = self.health
        stats = self.spool.stats()
        pending = self.spool.pending()
        h.files_pending, h.bytes_pending = len(pending), sum(e.meta.size for e in pending)
        oldest = min((e.meta.closed_ns or 0 for e in pending), default=0)
        h.upload_lag_s = max(0.0, now - oldest / 1e9) if pending else 0.0
        h.evicted_files, h.evicted_bytes = stats.evicted_files, stats.evicted_bytes
        drops = self.backend.drops()
        h.kernel_received, h.kernel_dropped, h.kernel_if_dropped = drops.received, drops.dropped, drops.if_dropped
        h.updated_at = now
        write_textfile(self.metrics, self.cfg.spool_dir / "metrics.prom")
        if self.landing is not None:
            try:
                publish(self.landing.client, self.landing.bucket, self.landing.prefix, h)
            except Exception as exc:  # the store may be down; the text file still has the numbers
                log.warning("heartbeat not published: %s", exc)

    # --- loop -------------------------------------------------------------------------------------------------

    def _enforce_quota(self) -> None:
        for entry in self.spool.enforce_quota():
            self.health.error(f"spool quota full: evicted {entry.path.name} ({entry.meta.packets} packets lost)")

    # --- the capture tool outlives a SIGKILLed agent (own session): remember its pid, end it on the next start ---

    @property
    def _pid_file(self) -> Path:
        return self.cfg.spool_dir / "backend.pid"

    def _start_backend(self) -> None:
        self.spool.reset_drops(self.sensor)
        self.backend.start()
        pid = getattr(self.backend, "pid", None)
        if pid:
            self._pid_file.write_text(str(pid))

    def _end_orphan(self) -> None:
        try:
            pid = int(self._pid_file.read_text())
        except (OSError, ValueError):
            return
        if end_process(pid):
            log.warning("ended capture process %d left running by a previous agent", pid)
        self._pid_file.unlink(missing_ok=True)

    def run(self, stop: threading.Event, *, drain_timeout_s: float = 60.0) -> int:
        if self.settings.observability.log_format == "json":  # text: the CLI's console logging stays
            configure_logging(self.settings, sensor=self.sensor)
        metrics_server = serve(self.metrics, self.settings)
        try:
            return self._run(stop, drain_timeout_s)
        finally:
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()

    def _run(self, stop: threading.Event, drain_timeout_s: float) -> int:
        self._end_orphan()
        recovered = self.spool.recover(self.sensor, self.backend.name)
        if recovered:
            log.warning("recovered %d files a previous agent left behind", len(recovered))
        if self.landing is not None:
            try:
                self.landing.ensure_bucket()
            except Exception as exc:  # a put-only sensor may not create buckets; uploads will say what is wrong
                log.warning("could not check or create bucket %s: %s", self.landing.bucket, exc)
            try:
                self.landing.sweep_incomplete_uploads()
            except Exception as exc:
                log.warning("could not sweep incomplete multipart uploads: %s", exc)
        self._start_backend()
        restarts = 0
        try:
            while not stop.is_set():
                self.finalize(self.backend.poll())
                self._enforce_quota()
                self.upload_pending()
                if not self.backend.alive:
                    restarts += 1
                    self.health.error(f"capture backend {self.backend.name} exited; restart {restarts}")
                    log.error("capture backend exited; restarting (%d)", restarts)
                    self.finalize(self.backend.poll())
                    stop.wait(min(30.0, 2.0**restarts))
                    if not stop.is_set():
                        self._start_backend()
                self.heartbeat()
                stop.wait(0.2)
        finally:
            self.backend.stop()
            self._pid_file.unlink(missing_ok=True)
            self.finalize(self.backend.poll())
            deadline = time.monotonic() + drain_timeout_s
            while time.monotonic() < deadline:
                self.upload_pending()
                if self.idle():
                    break
                time.sleep(0.2)
            self.heartbeat(force=True)
            self._pool.shutdown(wait=True, cancel_futures=False)
        return 0
