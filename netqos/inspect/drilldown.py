"""From selected lake rows to a pcap for Wireshark and a per-flow table labelled by Wireshark's dissectors."""

from __future__ import annotations

import functools
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netqos.inspect.cut import Cut, cut_capture, merge_cuts, merged_format
from netqos.inspect.dissect import FrameInfo, TsharkError, flow_label, frame_infos
from netqos.inspect.fetch import fetch_capture
from netqos.inspect.lake import PacketRef, Selection
from netqos.settings import Settings

IP_PROTOCOLS = {1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP", 58: "ICMPv6", 132: "SCTP"}


@dataclass(frozen=True)
class FlowSummary:
    flow_id: int | None  # None: packets in no netqos flow, grouped by tshark's conversation
    sensor_id: str
    src: str
    dst: str
    transport: str
    packets: int
    bytes: int  # frame bytes on the wire (wire_len), as Wireshark's conversation statistics count them
    retransmissions: int
    app_protocol: str
    streams: tuple[str, ...]  # tshark's tcp.stream / udp.stream indexes in the cut file(s)


@dataclass
class Drilldown:
    pcap: Path
    frames: int
    flows: list[FlowSummary]
    captures: dict[str, Path]  # file_sha256 -> verified local copy


def output_path(out: Path | None, label: str, fmt: str) -> Path:
    """--out as given (a directory gets the default name inside), else ./netqos-inspect-<label>.<fmt>."""
    name = f"netqos-inspect-{label}.{fmt}"
    if out is None:
        return Path.cwd() / name
    return out / name if out.is_dir() else out


def summarize(packets: Sequence[PacketRef], frames: dict[tuple[str, int], FrameInfo]) -> list[FlowSummary]:
    """One row per flow (netqos flow_id; packets without one per tshark conversation), most bytes first."""
    groups: dict[Any, list[PacketRef]] = defaultdict(list)
    for p in packets:
        info = frames.get((p.file_sha256, p.frame_no))
        key = p.flow_id if p.flow_id is not None else ("none", p.file_sha256, info.stream if info else "")
        groups[key].append(p)
    rows = []
    for key, members in groups.items():
        first = members[0]
        infos = [frames[(p.file_sha256, p.frame_no)] for p in members if (p.file_sha256, p.frame_no) in frames]
        proto = first.ip_proto
        rows.append(
            FlowSummary(
                flow_id=key if isinstance(key, int) else None,
                sensor_id=first.sensor_id,
                src=first.src or "?",
                dst=first.dst or "?",
                transport=IP_PROTOCOLS.get(proto, str(proto)) if proto is not None else "L2",
                packets=len(members),
                bytes=sum(p.wire_len for p in members),
                retransmissions=sum(p.retransmission for p in members),
                app_protocol=flow_label(i.protocols for i in infos),
                streams=tuple(sorted({i.stream for i in infos if i.stream})),
            )
        )
    return sorted(rows, key=lambda r: (-r.bytes, r.flow_id if r.flow_id is not None else 0))


def drill(
    selection: Selection, settings: Settings, out: Path | None, s3_client: Callable[[], Any] | None = None
) -> Drilldown:
    """Fetch the selection's captures, cut and merge exactly its frames into one pcap, and label its flows."""
    if not selection.packets:
        raise ValueError("no packets selected: nothing to cut")
    if s3_client is None:
        from netqos.storage.s3 import s3_client as make_client

        s3_client = functools.cache(lambda: make_client(settings.s3))
    by_file: dict[str, list[int]] = defaultdict(list)
    for p in selection.packets:  # time order, so files come in the order of their first selected packet
        by_file[p.file_sha256].append(p.frame_no)
    captures = {sha: fetch_capture(sha, selection.ledger.get(sha, []), settings, s3_client) for sha in by_file}
    frames: dict[tuple[str, int], FrameInfo] = {}
    cuts: list[Cut] = []
    with tempfile.TemporaryDirectory(prefix="netqos-inspect-") as tmp:
        for i, (sha, numbers) in enumerate(by_file.items()):
            cut = cut_capture(captures[sha], numbers, Path(tmp) / f"{i:04d}-{sha[:16]}.cut")
            infos = frame_infos(cut.path)
            ordered = sorted(set(numbers))
            if len(infos) != len(ordered):
                raise TsharkError(f"tshark read {len(infos)} frames from the cut of {sha}, expected {len(ordered)}")
            frames.update({(sha, n): info for n, info in zip(ordered, infos, strict=True)})
            cuts.append(cut)
        fmt, _ = merged_format(cuts)
        target = output_path(out, selection.target.label(), fmt)
        target.parent.mkdir(parents=True, exist_ok=True)
        merge_cuts(cuts, target)
    return Drilldown(target, sum(c.frames for c in cuts), summarize(selection.packets, frames), captures)
