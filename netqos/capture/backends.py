"""Capture backends: a process that writes rotating capture files into incoming/ and reports each closed file.

    backend = make_backend(settings.capture, spool.incoming, sensor_id)   # checks binary, interfaces, privileges
    backend.start()                 # returns once the capture is running (raises CaptureError otherwise)
    closed = backend.poll()         # files closed since the last call, in order
    backend.stop()                  # closes the current file; the next poll() returns it
    backend.drops()                 # cumulative DropCounters of the current process

Every backend is a child process (scapy too: its per-packet Python would otherwise hold the agent's GIL), so
the same code runs it inside a network namespace (`netns=`, via `ip netns exec`) and a crash cannot take the
agent down. A process that dies leaves its last file in incoming/; poll() then reports it (the decoder copes with
a cut tail). Counters restart at zero with each start().
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from netqos.capture.model import DropCounters
from netqos.settings import CaptureSettings

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0
INSTALL_HINT = {
    "dumpcap": "install it: apt-get install wireshark-common (Debian/Ubuntu), dnf install wireshark-cli (Fedora/RHEL)",
    "tcpdump": "install it: apt-get install tcpdump (Debian/Ubuntu) or dnf install tcpdump (Fedora/RHEL)",
    "ip": "install iproute2 (needed to run the capture inside a network namespace)",
}
PERMISSION_HINT = (
    "capturing needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN "
    "(e.g. `setcap cap_net_raw,cap_net_admin=eip /usr/bin/dumpcap`, or run the agent as root)"
)


class CaptureError(RuntimeError):
    """The capture cannot start or run; the message says what to do about it."""


# -- environment checks ------------------------------------------------------------------------------------


def list_interfaces(netns: str | None = None) -> list[str]:
    """Interface names of this host (or of a network namespace)."""
    if netns is None:
        return sorted(name for _, name in socket.if_nameindex())
    out = subprocess.run(["ip", "-n", netns, "-o", "link", "show"], capture_output=True, text=True, check=True)
    # "2: eth0@if5: <BROADCAST,...>": the name is the second field, without a veth's "@peer".
    return sorted(line.split(":")[1].strip().split("@")[0] for line in out.stdout.splitlines() if ":" in line)


def check_interfaces(wanted: Sequence[str], netns: str | None = None) -> None:
    if not wanted:
        raise CaptureError('no interface to capture on: set capture.interfaces, e.g. ["eth0"] (or ["any"])')
    have = list_interfaces(netns)
    missing = [i for i in wanted if i != "any" and i not in have]
    if missing:
        where = f" in network namespace {netns}" if netns else ""
        raise CaptureError(
            f"interface(s) {', '.join(missing)} not found{where}; available: {', '.join(have) or '(none)'}"
        )


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CaptureError(f"{name} not found on PATH; {INSTALL_HINT.get(name, 'install it')}")
    return path


def _has_capture_caps(binary: str | None) -> bool:
    """Root, or file capabilities on the capture binary (Debian's dumpcap for the wireshark group)."""
    if os.geteuid() == 0:
        return True
    if binary is None:
        return False
    try:
        return bool(os.getxattr(binary, "security.capability"))
    except OSError:
        return False


def classify_failure(name: str, stderr: str, interfaces: Sequence[str]) -> str:
    """Turn a capture tool's last words into an actionable message."""
    low = stderr.lower()
    tail = stderr.strip()[-600:]
    if "permission" in low or "not permitted" in low:
        return f"{name} is not allowed to capture: {PERMISSION_HINT}. {name} said: {tail}"
    if "no such device" in low or "no device named" in low or "doesn't exist" in low:
        return f"{name} cannot open interface(s) {', '.join(interfaces)}; {name} said: {tail}"
    return f"{name} exited: {tail or '(no message)'}"


# -- the protocol ------------------------------------------------------------------------------------------


class CaptureBackend(ABC):
    """One capture process at a time; start() again after it died (or after stop()) to restart it."""

    name: str = "?"

    def __init__(self, settings: CaptureSettings, out_dir: Path, sensor_id: str, *, netns: str | None = None) -> None:
        self.settings = settings
        self.out_dir = Path(out_dir)
        self.sensor_id = sensor_id
        self.netns = netns

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def poll(self) -> list[Path]: ...

    @abstractmethod
    def stop(self) -> None: ...

    @property
    @abstractmethod
    def alive(self) -> bool: ...

    @abstractmethod
    def drops(self) -> DropCounters: ...


class ProcessBackend(CaptureBackend):
    """A capture tool that prints each closed file's path on stdout and its counters on stderr."""

    binary = ""
    ready_marker = re.compile(r"$^")  # a stderr line that says the capture is running

    def __init__(self, settings: CaptureSettings, out_dir: Path, sensor_id: str, *, netns: str | None = None) -> None:
        super().__init__(settings, out_dir, sensor_id, netns=netns)
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._closed: list[Path] = []
        self._reported: set[str] = set()
        self._stderr: deque[str] = deque(maxlen=200)
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._counters_changed = threading.Condition(self._lock)
        self._counters = DropCounters()
        self._swept = True
        self.base = ""  # this run's file name prefix in out_dir

    # -- subclass hooks --------------------------------------------------------------------------------
    @abstractmethod
    def argv(self) -> list[str]: ...

    def env(self) -> dict[str, str] | None:
        return None

    def on_stderr(self, line: str) -> None:
        """Parse counters out of a stderr line (called with no lock held)."""

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.alive:
            raise CaptureError(f"{self.name} is already running")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # A per-start prefix: a restarted tool must not reuse (and overwrite) the previous run's file names.
        self.base = f"{_safe(self.sensor_id)}-{time.time_ns() // 1_000_000}"
        with self._lock:
            self._counters = DropCounters()
            self._reported = set()
            self._stderr.clear()
        self._ready.clear()
        cmd = self.argv()
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        try:
            # Own session: a Ctrl-C meant for the agent must not reach the tool; stop() ends it in order.
            self._proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=self.env()
            )
        except FileNotFoundError as e:
            raise CaptureError(f"{cmd[0]} not found; {INSTALL_HINT.get(Path(cmd[0]).name, 'install it')}") from e
        except PermissionError as e:
            raise CaptureError(f"cannot run {cmd[0]}: {e}; {PERMISSION_HINT}") from e
        self._swept = False
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True, name="capture-out"),
            threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True, name="capture-err"),
        ]
        for t in self._threads:
            t.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._kill()
                self._join()
                text = "\n".join(self._stderr)
                raise CaptureError(classify_failure(self.name, text, self.settings.interfaces))

    def poll(self) -> list[Path]:
        proc = self._proc
        if proc is not None and proc.poll() is not None and not self._swept:
            self._join()  # every line the dead process wrote is in before the leftovers are swept
            self._sweep()
        with self._lock:
            out, self._closed = self._closed, []
        return out

    def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            # dumpcap and tcpdump close the current file and print their counters on SIGINT.
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._kill()
        self._join()
        self._sweep()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def drops(self) -> DropCounters:
        with self._lock:
            return self._counters

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- internals -------------------------------------------------------------------------------------
    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def _join(self) -> None:
        for t in self._threads:
            t.join(5.0)

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").strip()
            if not line:
                continue
            path = Path(line)
            if not path.is_absolute():
                path = self.out_dir / path
            with self._lock:
                if path.name not in self._reported:
                    self._reported.add(path.name)
                    self._closed.append(path)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            if self.ready_marker.search(line):
                self._ready.set()
            self.on_stderr(line)

    def _set_counters(self, counters: DropCounters) -> None:
        with self._counters_changed:
            self._counters = counters
            self._counters_changed.notify_all()

    def _sweep(self) -> None:
        """The process is gone: its files not reported yet (the last one, or one cut by a crash) are closed."""
        if self._swept:
            return
        self._swept = True
        left = [
            p
            for p in self.out_dir.iterdir()
            if p.name.startswith(self.base) and p.is_file() and p.name not in self._reported
        ]
        with self._lock:
            for p in sorted(left, key=lambda q: (q.stat().st_mtime_ns, q.name)):
                self._reported.add(p.name)
                self._closed.append(p)


def _safe(sensor_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", sensor_id) or "sensor"


# -- dumpcap -----------------------------------------------------------------------------------------------

# "Packets received/dropped on interface 'eth0': 283/0 (pcap:0/dumpcap:0/flushed:0/ps_ifdrop:0) (100.0%)"
DUMPCAP_STATS = re.compile(
    r"Packets received/dropped on interface '(?P<iface>[^']*)': (?P<recv>\d+)/(?P<drop>\d+)"
    r"(?: \(pcap:\d+/dumpcap:\d+/flushed:\d+/ps_ifdrop:(?P<ifdrop>\d+)\))?"
)


class DumpcapBackend(ProcessBackend):
    """dumpcap's ring buffer; `-b printname:stdout` prints each file's path as it is closed.

    Rotation is `-b interval:N`: files switch when the wall clock is a multiple of N seconds, so they line up
    across sensors and restarts. tcpdump's -G instead counts N seconds from the previous switch, which only
    happens on a packet's arrival, so its boundaries drift by the inter-packet gap every file.

    Drops: dumpcap writes Interface Statistics Blocks (isb_ifrecv, isb_ifdrop) when it closes a single pcapng
    file, but dumpcap 4.0 writes none into ring-buffer files, and its -S statistics mode opens its own pcap
    handles (not the capture's counters). So the counters come from (1) the ISBs of a closed file when present
    (`filemeta.isb_drops`, also a newer dumpcap), else (2) dumpcap's exit summary on stderr, per interface:
    received = packets dumpcap received, dropped = pcap + dumpcap + flushed drops, if_dropped = ps_ifdrop.
    Until dumpcap exits without ISBs, drops() stays at zero and the whole run's counts land on the last file.
    """

    name = "dumpcap"
    binary = "dumpcap"
    ready_marker = re.compile(r"^Capturing on ")

    def __init__(self, settings: CaptureSettings, out_dir: Path, sensor_id: str, *, netns: str | None = None) -> None:
        super().__init__(settings, out_dir, sensor_id, netns=netns)
        self._per_iface: dict[str, DropCounters] = {}

    def argv(self) -> list[str]:
        s = self.settings
        ext = s.file_format
        cmd = ["dumpcap", "-q"]
        for iface in s.interfaces:
            cmd += ["-i", iface]
        if s.bpf_filter:
            cmd += ["-f", s.bpf_filter]
        cmd += ["-s", str(s.snaplen)]
        if s.monitor_mode:
            cmd.append("-I")
        if s.rotate_seconds:
            cmd += ["-b", f"interval:{s.rotate_seconds}"]
        if s.rotate_megabytes:
            cmd += ["-b", f"filesize:{s.rotate_megabytes * 1000}"]  # dumpcap's kB are 1000 bytes
        cmd += ["-b", "printname:stdout"]
        cmd += ["-P"] if ext == "pcap" else ["-n"]
        # dumpcap inserts _<n>_<YYYYmmddHHMMSS> before the extension.
        cmd += ["-w", str(self.out_dir / f"{self.base}.{ext}")]
        return cmd

    def start(self) -> None:
        self._per_iface = {}
        super().start()

    def on_stderr(self, line: str) -> None:
        m = DUMPCAP_STATS.search(line)
        if m is None:
            return
        self._per_iface[m["iface"]] = DropCounters(int(m["recv"]), int(m["drop"]), int(m["ifdrop"] or 0))
        total = DropCounters(
            sum(c.received for c in self._per_iface.values()),
            sum(c.dropped for c in self._per_iface.values()),
            sum(c.if_dropped for c in self._per_iface.values()),
        )
        self._set_counters(total)

    def poll(self) -> list[Path]:
        from netqos.capture.filemeta import isb_drops

        closed = super().poll()
        for path in closed:
            counters = isb_drops(path)
            if counters is not None:
                self._set_counters(counters)
        return closed


# -- tcpdump -----------------------------------------------------------------------------------------------

TCPDUMP_COUNTS = {
    "received": re.compile(r"(\d+) packets? captured"),
    "dropped": re.compile(r"(\d+) packets? dropped by kernel"),
    "if_dropped": re.compile(r"(\d+) packets? dropped by interface"),
}
CLOSED_HELPER = "#!/bin/sh\n# tcpdump -z runs this with the closed file; its stdout is tcpdump's, read by the agent.\n"
CLOSED_HELPER += "printf '%s\\n' \"$1\"\n"


class TcpdumpBackend(ProcessBackend):
    """tcpdump -G/-C rotation; `-z <helper>` runs a two-line script per closed file that prints its path.

    tcpdump writes classic pcap only, captures one interface (or "any"), and rotates on -G only when a packet
    arrives (no traffic: the file stays open). It does not run -z for the file open when it exits; stop()
    reports that one itself. `-Z root` keeps its privileges: by default it switches to the user "tcpdump",
    which cannot write the spool. On AppArmor systems (Ubuntu) the tcpdump profile may forbid the helper.

    Drops: SIGUSR1 makes tcpdump print "N packets captured, N received by filter, N dropped by kernel" on
    stderr; drops() asks for that and waits for it. received = packets captured (written to the files),
    dropped = dropped by kernel (ps_drop), if_dropped = dropped by interface (ps_ifdrop, printed when non-zero).
    """

    name = "tcpdump"
    binary = "tcpdump"
    ready_marker = re.compile(r"listening on ")

    def __init__(self, settings: CaptureSettings, out_dir: Path, sensor_id: str, *, netns: str | None = None) -> None:
        super().__init__(settings, out_dir, sensor_id, netns=netns)
        if settings.file_format != "pcap":
            raise CaptureError(
                'the tcpdump backend writes classic pcap only: set capture.file_format = "pcap", '
                'or use capture.backend = "dumpcap" for pcapng'
            )
        if len(settings.interfaces) != 1:
            raise CaptureError(
                f'tcpdump captures one interface, got {settings.interfaces}: use ["any"] or the dumpcap backend'
            )
        self.helper = self.out_dir / ".netqos-tcpdump-closed.sh"

    def argv(self) -> list[str]:
        s = self.settings
        self.helper.write_text(CLOSED_HELPER)
        self.helper.chmod(0o755)
        pattern = self.base + ("_%Y%m%dT%H%M%S" if s.rotate_seconds else "") + ".pcap"
        cmd = ["tcpdump", "-n", "-i", s.interfaces[0], "-s", str(s.snaplen), "-Z", "root"]
        cmd += ["--time-stamp-precision=nano"]
        if s.monitor_mode:
            cmd.append("-I")
        if s.rotate_seconds:
            cmd += ["-G", str(s.rotate_seconds)]
        if s.rotate_megabytes:
            cmd += ["-C", str(s.rotate_megabytes)]  # tcpdump's MB are 1,000,000 bytes
        cmd += ["-w", str(self.out_dir / pattern), "-z", str(self.helper)]
        if s.bpf_filter:
            cmd.append(s.bpf_filter)
        return cmd

    def on_stderr(self, line: str) -> None:
        found = {k: int(m.group(1)) for k, rx in TCPDUMP_COUNTS.items() if (m := rx.search(line))}
        if not found:
            return
        with self._lock:
            current = self._counters
        self._set_counters(
            DropCounters(
                found.get("received", current.received),
                found.get("dropped", current.dropped),
                found.get("if_dropped", current.if_dropped),
            )
        )

    def drops(self, timeout: float = 1.0) -> DropCounters:
        proc = self._proc
        if proc is not None and proc.poll() is None and self._ready.is_set():
            with self._counters_changed:
                before = self._counters
                proc.send_signal(signal.SIGUSR1)
                self._counters_changed.wait(timeout)
                return self._counters if self._counters is not before else before
        return super().drops()

    def poll(self) -> list[Path]:
        return [p for p in super().poll() if p != self.helper]


# -- scapy -------------------------------------------------------------------------------------------------


class ScapyBackend(ProcessBackend):
    """Pure-Python fallback: scapy's AsyncSniffer in a child process writing with RawPcapWriter/RawPcapNgWriter.

    The child rotates at wall-clock multiples of rotate_seconds (also without traffic) and/or by size, closes
    its files itself and prints each closed path. Drops come from the kernel (PACKET_STATISTICS on each socket):
    received = packets written, dropped = tp_drops; reported on stderr after each file and at exit.
    Ethernet-framed interfaces only (Ethernet, veth, loopback); slow: a fallback, not for busy links.
    """

    name = "scapy"
    binary = sys.executable
    ready_marker = re.compile(r"^netqos-scapy: capturing")

    def argv(self) -> list[str]:
        s = self.settings
        cfg = {
            "interfaces": s.interfaces,
            "bpf_filter": s.bpf_filter,
            "snaplen": s.snaplen,
            "rotate_seconds": s.rotate_seconds,
            "rotate_bytes": (s.rotate_megabytes or 0) * 1_000_000,
            "format": s.file_format,
            "prefix": str(self.out_dir / self.base),
        }
        code = "from netqos.capture.backends import scapy_worker; scapy_worker()"
        return [sys.executable, "-c", code, json.dumps(cfg)]

    def env(self) -> dict[str, str]:
        # The child must import this netqos, also under `ip netns exec` and from another working directory.
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        return env

    def on_stderr(self, line: str) -> None:
        if line.startswith("netqos-stats "):
            kv = dict(item.split("=", 1) for item in line.split()[1:])
            self._set_counters(DropCounters(int(kv["received"]), int(kv["dropped"]), int(kv.get("if_dropped", 0))))


def scapy_worker(argv: Sequence[str] | None = None) -> None:
    """Entry point of the scapy child process (see ScapyBackend): argv[1] is its JSON configuration."""
    _ScapyWorker(json.loads((argv or sys.argv)[1])).run()


ARPHRD_TO_LINKTYPE = {1: 1, 772: 1}  # Ethernet and loopback (Linux frames loopback as Ethernet)
SOL_PACKET, PACKET_STATISTICS = 263, 6


class _ScapyWorker:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.writer: Any = None
        self.path: Path | None = None
        self.size = 0
        self.files = 0
        self.written = 0
        self.kernel_drops = 0
        self.boundary = 0.0
        self.socks: list[Any] = []

    def run(self) -> None:
        from scapy.all import AsyncSniffer, conf

        cfg = self.cfg
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        self.linktype = 1
        for iface in cfg["interfaces"]:
            if iface != "any":
                hatype = int(Path(f"/sys/class/net/{iface}/type").read_text())
                if hatype not in ARPHRD_TO_LINKTYPE:
                    sys.exit(f"scapy backend: {iface} is not Ethernet-framed (ARPHRD {hatype}); use dumpcap")
            self.socks.append(conf.L2listen(iface=None if iface == "any" else iface, filter=cfg["bpf_filter"] or None))
        with self.lock:
            self._open()
        sniffer = AsyncSniffer(opened_socket=self.socks, prn=self._packet, store=False)
        sniffer.start()
        print("netqos-scapy: capturing", file=sys.stderr, flush=True)
        period = cfg["rotate_seconds"]
        while not self.stopping.wait(0.05):
            if period and time.time() >= self.boundary:
                with self.lock:
                    self._rotate()
        sniffer.stop()
        with self.lock:
            self._close()
        self._report()

    def _packet(self, pkt: Any) -> None:
        raw = bytes(pkt)
        t = float(pkt.time)
        with self.lock:
            period, limit = self.cfg["rotate_seconds"], self.cfg["rotate_bytes"]
            # A packet stamped past the boundary belongs to the next file: files stay time-disjoint.
            if (period and t >= self.boundary) or (limit and self.size >= limit):
                self._rotate()
            cap = raw[: self.cfg["snaplen"]]
            sec = int(t)
            self.writer.write_packet(
                cap, sec=sec, usec=min(int((t - sec) * 1e6), 999_999), caplen=len(cap), wirelen=len(raw)
            )
            self.size += len(cap) + 32
            self.written += 1

    def _open(self) -> None:
        from scapy.utils import RawPcapNgWriter, RawPcapWriter

        cfg = self.cfg
        self.files += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.path = Path(f"{cfg['prefix']}_{stamp}_{self.files:05d}.{cfg['format']}")
        if cfg["format"] == "pcapng":
            self.writer = RawPcapNgWriter(str(self.path))
            self.writer.linktype = self.linktype
        else:
            self.writer = RawPcapWriter(str(self.path), linktype=self.linktype, snaplen=cfg["snaplen"])
        self.writer.write_header(None)  # an empty file is still a valid capture
        self.size = 0
        period = cfg["rotate_seconds"]
        if period:
            self.boundary = (int(time.time() // period) + 1) * period

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.flush()
            os.fsync(self.writer.f.fileno())
            self.writer.close()
            self.writer = None
            print(self.path, flush=True)

    def _rotate(self) -> None:
        self._close()
        self._report()
        self._open()

    def _report(self) -> None:
        for sock in self.socks:
            try:  # struct tpacket_stats {tp_packets, tp_drops}; the kernel resets it on every read
                _, drops = struct.unpack("II", sock.ins.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
                self.kernel_drops += drops
            except (OSError, AttributeError):
                pass
        print(f"netqos-stats received={self.written} dropped={self.kernel_drops}", file=sys.stderr, flush=True)


# -- factory -----------------------------------------------------------------------------------------------

BACKENDS: dict[str, type[ProcessBackend]] = {
    "dumpcap": DumpcapBackend,
    "tcpdump": TcpdumpBackend,
    "scapy": ScapyBackend,
}


def make_backend(
    settings: CaptureSettings, incoming_dir: Path, sensor_id: str, *, netns: str | None = None
) -> CaptureBackend:
    """The configured backend, after checking what would otherwise fail later with a cryptic message."""
    cls = BACKENDS[settings.backend]
    binary = shutil.which(cls.binary) if cls.binary else None
    if cls is not ScapyBackend:
        binary = require_binary(cls.binary)
    if netns:
        require_binary("ip")
    check_interfaces(settings.interfaces, netns)
    if not _has_capture_caps(binary):
        raise CaptureError(f"{settings.backend}: {PERMISSION_HINT}")
    return cls(settings, incoming_dir, sensor_id, netns=netns)
