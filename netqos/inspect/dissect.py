"""Wireshark's view of the cut packets: per-frame protocol stacks and printed dissections (tshark).

The application protocol of a packet is the first layer of tshark's `frame.protocols` above the transport
(`eth:ethertype:ip:tcp:http:data-text-lines` -> `http`), skipping payload-only layers (`data`); a flow's label
is the most common one among its packets (most packets of an HTTP flow are bare TCP segments and ACKs, labelled
by nothing). A flow without any falls back to its transport or last layer (TCP, UDP, ICMP, ARP...).
"""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

TRANSPORTS = frozenset({"tcp", "udp", "sctp", "dccp"})
PAYLOAD_ONLY = frozenset({"data", "_ws.malformed", "_ws.short", "_ws.unreassembled", "_ws.expert"})
TSHARK_FIELDS = ("frame.number", "frame.protocols", "tcp.stream", "udp.stream")


class TsharkError(RuntimeError):
    """tshark is missing or failed on a file."""


@dataclass(frozen=True)
class FrameInfo:
    frame: int  # frame number within the file tshark read
    protocols: str  # frame.protocols, e.g. eth:ethertype:ip:udp:dns
    stream: str  # "tcp 3", "udp 0" or "" (tshark's conversation index in that file)

    @property
    def layers(self) -> list[str]:
        return [p for p in self.protocols.split(":") if p]


def app_protocol(protocols: str) -> str | None:
    """The application layer of one frame.protocols text, or None when nothing sits above the transport."""
    layers = [p for p in protocols.split(":") if p]
    for i, layer in enumerate(layers):
        if layer in TRANSPORTS:
            above = [p for p in layers[i + 1 :] if p not in PAYLOAD_ONLY]
            return above[0] if above else None
    return None


def fallback_protocol(protocols: str) -> str | None:
    """The transport (tcp/udp/...) or, without one, the last layer that is not payload (icmp, arp, eapol...)."""
    layers = [p for p in protocols.split(":") if p and p not in PAYLOAD_ONLY]
    for layer in layers:
        if layer in TRANSPORTS:
            return layer
    return layers[-1] if layers else None


def flow_label(protocol_stacks: Iterable[str]) -> str:
    """Label of a flow from its packets' frame.protocols: the most common application layer (ties: the one seen
    first), else the most common fallback; upper-case, as Wireshark's Protocol column names them."""
    stacks = list(protocol_stacks)
    for pick in (app_protocol, fallback_protocol):
        counts = Counter(p for p in (pick(s) for s in stacks) if p)
        if counts:
            return counts.most_common(1)[0][0].upper()
    return "?"


def tshark_path() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise TsharkError("tshark not found: install it (apt install tshark; scripts/bootstrap.sh tools)")
    return path


def parse_fields(text: str) -> list[FrameInfo]:
    """tshark -T fields -e frame.number -e frame.protocols -e tcp.stream -e udp.stream output -> FrameInfo."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        number, protocols, tcp, udp = [*line.split("\t"), "", "", ""][:4]
        stream = f"tcp {tcp}" if tcp else f"udp {udp}" if udp else ""
        out.append(FrameInfo(int(number), protocols, stream))
    return out


def frame_infos(capture: Path) -> list[FrameInfo]:
    """One FrameInfo per frame of `capture`, in file order (two-pass, so reassembled PDUs are attributed)."""
    cmd = [tshark_path(), "-n", "-2", "-r", str(capture), "-T", "fields", "-E", "separator=/t"]
    for name in TSHARK_FIELDS:
        cmd += ["-e", name]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TsharkError(f"tshark failed on {capture} ({done.returncode}): {_stderr(done.stderr)}")
    return parse_fields(done.stdout)


def print_dissection(capture: Path, out: IO[str], *, verbose: bool = False, extra: Sequence[str] = ()) -> None:
    """tshark's summary lines (or with verbose the full `tshark -V` tree) of every frame, written to `out`."""
    cmd = [tshark_path(), "-n", "-2", "-r", str(capture), *(["-V"] if verbose else []), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TsharkError(f"tshark failed on {capture} ({done.returncode}): {_stderr(done.stderr)}")
    out.write(done.stdout)


def _stderr(text: str) -> str:
    """tshark's stderr without the 'Running as user root' warning."""
    lines = [line for line in text.splitlines() if "Running as user" not in line]
    return " ".join(lines).strip() or "no message"
