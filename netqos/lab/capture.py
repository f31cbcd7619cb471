"""The capture agent (netqos.capture.Agent) on the router, spooling rotated files into <out>/captures.

The full agent runs, not just its backend: the files get the same finalizing, names and sidecars as a sensor's,
only nothing is uploaded (landing=None). It captures the router's server-side veth: every client<->server packet
crosses it once (capturing both router legs would record each forwarded packet twice), and the relay's output
there shows the RTP-like stream *after* the relay's loss/latency/jitter.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from netqos.capture.agent import Agent
from netqos.settings import CaptureSettings, Settings

LAB_FILTER = "net 10.203.0.0/16"  # the lab's own range only


class LabCapture:
    def __init__(self, netns: str, interface: str, spool_dir: Path, sensor_id: str, *, rotate_seconds: int,
                 backend: str = "dumpcap") -> None:  # fmt: skip
        capture = CaptureSettings(
            interfaces=[interface], bpf_filter=LAB_FILTER, rotate_seconds=rotate_seconds, backend=backend,  # type: ignore[arg-type]
            spool_dir=spool_dir, heartbeat_seconds=5.0,
            file_format="pcap" if backend == "tcpdump" else "pcapng",  # tcpdump writes classic pcap only
        )  # fmt: skip
        self.spool_dir = spool_dir
        self.agent = Agent(Settings(sensor_id=sensor_id, capture=capture), None, netns=netns)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="lab-capture", daemon=True)

    def _run(self) -> None:
        try:
            self.agent.run(self._stop, drain_timeout_s=0.0)  # nothing to upload: do not wait for a drain
        except BaseException as exc:  # reported by start()/stop() in the runner's thread
            self._error = exc

    def start(self, timeout_s: float = 20.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.agent.backend.alive:
            if self._error is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"capture agent did not start: {self._error or 'timeout'}")
            time.sleep(0.05)
        time.sleep(0.3)  # dumpcap reports "Capturing on" just before its first packet is written

    def stop(self) -> list[Path]:
        """Closes the current file; returns every finalized capture file, in order."""
        self._stop.set()
        self._thread.join(60.0)
        if self._error is not None:
            raise RuntimeError(f"capture agent failed: {self._error}") from self._error
        return self.files()

    def files(self) -> list[Path]:
        ready = self.spool_dir / "ready"
        return sorted(p for p in ready.glob("*.pcap*") if not p.name.endswith(".json")) if ready.is_dir() else []
