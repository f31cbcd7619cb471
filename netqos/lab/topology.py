"""client <-> router <-> server in three network namespaces, own 10.203.0.0/16 addresses only.

    with Topology("nql42") as topo:     # namespaces nql42-c / nql42-r / nql42-s
        topo.popen("client", [...])

Links (device names `<prefix><here><there>`, at most 15 characters):
    client  <prefix>cr 10.203.k.1/30  <->  <prefix>rc 10.203.k.2/30  router
    router  <prefix>rs 10.203.k.5/30  <->  <prefix>sr 10.203.k.6/30  server
The router forwards (ip_forward=1); client and server route everything via it. IPv6 is off in every namespace,
so the capture holds only the lab's IPv4 traffic (no link-local router solicitations or MLD).

Cleanup: close() kills what still runs inside the namespaces (`ip netns pids`), then deletes them (their veths
go with them). It runs on exit, on exceptions, and at the start (leftovers of a killed run with this prefix).
Needs root and iproute2.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

ROLES = ("client", "router", "server")
MAX_PREFIX = 10  # device names are <prefix> + 2 characters; the kernel allows 15


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], check=True, capture_output=True, text=True).stdout


def list_netns() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


@dataclass(frozen=True)
class Addresses:
    client: str
    router_client_side: str
    router_server_side: str
    server: str


class Topology:
    def __init__(self, prefix: str) -> None:
        if not prefix or len(prefix) > MAX_PREFIX or not prefix.isalnum():
            raise ValueError(f"lab prefix {prefix!r}: 1-{MAX_PREFIX} letters/digits (device names max 15 chars)")
        self.prefix = prefix
        self.ns = {role: f"{prefix}-{role[0]}" for role in ROLES}
        self.dev_client, self.dev_router_c = f"{prefix}cr", f"{prefix}rc"
        self.dev_router_s, self.dev_server = f"{prefix}rs", f"{prefix}sr"
        k = zlib.crc32(prefix.encode()) % 250 + 1
        self.addr = Addresses(f"10.203.{k}.1", f"10.203.{k}.2", f"10.203.{k}.5", f"10.203.{k}.6")

    # -- life cycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> Topology:
        self.close()  # leftovers of a killed run with the same prefix
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _build(self) -> None:
        for ns in self.ns.values():
            _ip("netns", "add", ns)
            self.sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
            _ip("-n", ns, "link", "set", "lo", "up")
        c, r, s = self.ns["client"], self.ns["router"], self.ns["server"]
        _ip("link", "add", self.dev_client, "netns", c, "type", "veth", "peer", "name", self.dev_router_c, "netns", r)
        _ip("link", "add", self.dev_router_s, "netns", r, "type", "veth", "peer", "name", self.dev_server, "netns", s)
        for ns, dev, addr in (
            (c, self.dev_client, self.addr.client),
            (r, self.dev_router_c, self.addr.router_client_side),
            (r, self.dev_router_s, self.addr.router_server_side),
            (s, self.dev_server, self.addr.server),
        ):
            _ip("-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            # Wire-sized segments in the capture (as on a real NIC), not 64 kB GSO super-packets: one segment
            # per GSO packet (iproute2 only; ethtool may be missing), plus offloads off where ethtool exists.
            _ip("-n", ns, "link", "set", "dev", dev, "gso_max_segs", "1")
            subprocess.run(["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"],
                           capture_output=True)  # fmt: skip
        self.sysctl(r, "net.ipv4.ip_forward=1")
        _ip("-n", c, "route", "add", "default", "via", self.addr.router_client_side)
        _ip("-n", s, "route", "add", "default", "via", self.addr.router_server_side)

    def close(self) -> None:
        present = set(list_netns())
        for ns in self.ns.values():
            if ns not in present:
                continue
            self._kill_inside(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    @staticmethod
    def _kill_inside(ns: str) -> None:
        """A process left in a namespace keeps it (and its veth) alive after `ip netns del`."""
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
        pids = [int(p) for p in out.split() if p.isdigit()]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 3.0
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if os.path.exists(f"/proc/{p}") and not _zombie(p)]
                time.sleep(0.05)
            if not pids:
                return

    # -- helpers -------------------------------------------------------------------------------------------

    def sysctl(self, ns: str, *assignments: str) -> None:
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *assignments], check=True, capture_output=True)

    def exec_argv(self, role: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns[role], *argv]

    def run(self, role: str, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.exec_argv(role, argv), check=True, capture_output=True, text=True)

    def popen(self, role: str, argv: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.exec_argv(role, argv), **kw)

    def describe(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "namespaces": dict(self.ns),
            "links": [
                {"a": ["client", self.dev_client, self.addr.client],
                 "b": ["router", self.dev_router_c, self.addr.router_client_side]},
                {"a": ["router", self.dev_router_s, self.addr.router_server_side],
                 "b": ["server", self.dev_server, self.addr.server]},
            ],
            "addresses": {"client": self.addr.client, "router_client_side": self.addr.router_client_side,
                          "router_server_side": self.addr.router_server_side, "server": self.addr.server},
        }  # fmt: skip


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
