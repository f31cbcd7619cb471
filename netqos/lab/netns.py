"""Two network namespaces joined by a veth pair, with own addresses only; removed on exit (also on errors).

    with VethLink("nq1") as link:          # namespaces nq1-a / nq1-b, devices nq1a / nq1b, 10.203.<k>.1/.2
        link.run_a(["ping", "-c1", link.addr_b])
        proc = link.popen_b([...])

Needs root (CAP_NET_ADMIN) and iproute2.
"""

from __future__ import annotations

import os
import subprocess
import zlib
from collections.abc import Sequence
from types import TracebackType
from typing import Any


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def netns_available() -> bool:
    """Whether this process can create namespaces (root with CAP_NET_ADMIN and iproute2)."""
    if os.geteuid() != 0:
        return False
    probe = f"nqprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (OSError, subprocess.CalledProcessError):
        return False
    _ip("netns", "del", probe)
    return True


class VethLink:
    """Namespaces `<name>-a` and `<name>-b`; veth `<name>a` (in a) <-> `<name>b` (in b); a /30 from 10.203.0.0/16."""

    def __init__(self, name: str) -> None:
        if len(name) > 12:
            raise ValueError(f"link name {name!r} is too long (max 12 characters: device names are limited to 15)")
        self.name = name
        self.ns_a, self.ns_b = f"{name}-a", f"{name}-b"
        self.dev_a, self.dev_b = f"{name}a", f"{name}b"
        k = zlib.crc32(name.encode()) % 250 + 1
        self.addr_a, self.addr_b = f"10.203.{k}.1", f"10.203.{k}.2"

    def __enter__(self) -> VethLink:
        self.close()  # leftovers of a killed run
        try:
            _ip("netns", "add", self.ns_a)
            _ip("netns", "add", self.ns_b)
            _ip(
                "link",
                "add",
                self.dev_a,
                "netns",
                self.ns_a,
                "type",
                "veth",
                "peer",
                "name",
                self.dev_b,
                "netns",
                self.ns_b,
            )
            for ns, dev, addr in ((self.ns_a, self.dev_a, self.addr_a), (self.ns_b, self.dev_b, self.addr_b)):
                _ip("-n", ns, "addr", "add", f"{addr}/30", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
                _ip("-n", ns, "link", "set", "lo", "up")
                # Real NIC behaviour: no segmentation offload, so the capture shows wire-sized segments.
                subprocess.run(
                    ["ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off"],
                    capture_output=True,
                )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for ns in (self.ns_a, self.ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def _cmd(self, ns: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def run_a(self, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._cmd(self.ns_a, argv), check=True, capture_output=True, text=True, **kw)

    def run_b(self, argv: Sequence[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._cmd(self.ns_b, argv), check=True, capture_output=True, text=True, **kw)

    def popen_a(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._cmd(self.ns_a, argv), **kw)

    def popen_b(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._cmd(self.ns_b, argv), **kw)
