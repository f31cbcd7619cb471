"""tshark field extraction for the decode oracle.

`run_tshark(path)` runs `tshark -T fields -E occurrence=a` once per file (results cached per process)
and returns one `TsharkFrame` per *packet* (pcapng custom/unknown blocks that tshark prints as frames
are dropped, so frame numbers line up with netqos' `frame_no`).

`expected(frame)` turns the raw tshark fields into netqos-column-shaped values. Rules (documented in the
oracle report too):

* **Outer header wins.** With `occurrence=a` tshark joins every occurrence of a field with commas
  (IP-in-IP, ICMP errors quoting the offending IP/UDP header, PPPoE/L2TP tunnels...). We take the FIRST
  occurrence, i.e. the outermost header, which is what netqos decodes.
* **Layer-aware L4.** The IP layer is the first `ip`/`ipv6` in `frame.protocols`; TCP/UDP/ICMP/ICMPv6
  fields are only taken when that protocol *directly follows* that first IP layer in `frame.protocols`.
  So the UDP header quoted inside an ICMP error, or the TCP inside an L2TP tunnel, is never compared with
  netqos' outer L4 columns.
* tshark runs with IPv4/IPv6 reassembly off (`ip.defragment:FALSE`, `ipv6.defragment:FALSE`), so each
  frame is dissected on its own, like netqos does: a first fragment shows its own TCP/UDP header and a
  later fragment shows none.
* `tcp.flags` is compared as the full 12-bit field (FIN..CWR, AE/NS 0x100, reserved 0xE00), like netqos.
* `ip.frag_offset` / `ipv6.fraghdr.offset` are in 8-byte units in tshark 4.0; netqos stores bytes (x8).
* UDP payload length: `udp.length - 8`, except when tshark flags "Bad length value > IP payload length",
  where the payload is what the IP length (clipped to the frame's wire length) leaves after the UDP header.
* IPv6 `ip.proto` is the next-header value after the extension-header chain
  (ipv6.nxt -> hopopts/routing/fraghdr/dstopts.nxt ...). `ip.len` for IPv6 is ipv6.plen + 40.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TSHARK = os.environ.get("NETQOS_TSHARK", shutil.which("tshark") or "/usr/bin/tshark")

# Preferences: per-frame dissection (no reassembly), no name resolution, no checksum-driven skipping.
TSHARK_PREFS = [
    "-n",
    "-o", "ip.defragment:FALSE",
    "-o", "ipv6.defragment:FALSE",
    "-o", "tcp.desegment_tcp_streams:FALSE",
    "-o", "tcp.relative_sequence_numbers:FALSE",
    "-o", "tcp.check_checksum:FALSE",
    "-o", "udp.check_checksum:FALSE",
]  # fmt: skip

FIELDS: list[str] = [
    "frame.number",
    "frame.protocols",
    "frame.encap_type",
    "frame.interface_id",
    "frame.time_epoch",
    "frame.cap_len",
    "frame.len",
    # link layer
    "eth.src",
    "eth.dst",
    "eth.type",
    "sll.src.eth",
    "sll.etype",
    "vlan.id",
    "vlan.priority",
    "vlan.etype",
    "ieee8021ad.id",
    "ieee8021ad.priority",
    "llc.type",
    # IPv4
    "ip.version",
    "ip.src",
    "ip.dst",
    "ip.proto",
    "ip.ttl",
    "ip.len",
    "ip.hdr_len",
    "ip.dsfield.dscp",
    "ip.dsfield.ecn",
    "ip.id",
    "ip.flags.df",
    "ip.flags.mf",
    "ip.frag_offset",
    # IPv6
    "ipv6.version",
    "ipv6.src",
    "ipv6.dst",
    "ipv6.nxt",
    "ipv6.hlim",
    "ipv6.plen",
    "ipv6.tclass.dscp",
    "ipv6.tclass.ecn",
    "ipv6.flow",
    "ipv6.hopopts.nxt",
    "ipv6.routing.nxt",
    "ipv6.fraghdr.nxt",
    "ipv6.dstopts.nxt",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    # TCP
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.window_size_value",
    "tcp.hdr_len",
    "tcp.len",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_perm",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    # UDP
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    # ICMP
    "icmp.type",
    "icmp.code",
    "icmp.ident",
    "icmp.seq",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.echo.identifier",
    "icmpv6.echo.sequence_number",
    # radiotap
    "radiotap.mactime",
    "radiotap.flags",
    "radiotap.datarate",
    "radiotap.channel.freq",
    "radiotap.channel.flags",
    "radiotap.dbm_antsignal",
    "radiotap.dbm_antnoise",
    "radiotap.mcs.index",
    # 802.11
    "wlan.fc.type",
    "wlan.fc.subtype",
    "wlan.fc.retry",
    "wlan.fc.protected",
    "wlan.fc.ds",
    "wlan.duration",
    "wlan.ra",
    "wlan.ta",
    "wlan.sa",
    "wlan.da",
    "wlan.bssid",
    "wlan.seq",
    "wlan.frag",
    "wlan.qos.tid",
]


@dataclass
class TsharkFrame:
    number: int  # packet number after dropping non-packet blocks (== netqos frame_no)
    tshark_number: int  # tshark's own frame.number
    fields: dict[str, list[str]]

    def all(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def first(self, name: str) -> str | None:
        vals = self.fields.get(name)
        return vals[0] if vals else None

    @property
    def protocols(self) -> list[str]:
        p = self.first("frame.protocols")
        return p.split(":") if p else []


@dataclass
class TsharkResult:
    path: str
    frames: list[TsharkFrame]
    returncode: int
    stderr: str
    dropped_non_packets: list[int] = field(default_factory=list)  # tshark frame numbers of non-packet blocks


def tshark_version() -> str:
    out = subprocess.run([TSHARK, "--version"], capture_output=True, text=True, check=False).stdout
    return out.splitlines()[0] if out else "?"


def _split(value: str) -> list[str]:
    if value == "":
        return []
    return value.split(",")


@functools.cache
def run_tshark(path: str | os.PathLike[str]) -> TsharkResult:
    """Run tshark once on `path` (cached per process) and parse its per-frame fields."""
    path = str(path)
    cmd = [TSHARK, "-r", path, *TSHARK_PREFS, "-T", "fields", "-E", "header=y", "-E", "separator=/t"]
    cmd += ["-E", "occurrence=a", "-E", "aggregator=,", "-E", "quote=n"]
    for f in FIELDS:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False, timeout=600)
    lines = proc.stdout.split("\n")
    header = lines[0].split("\t") if lines and lines[0] else FIELDS
    if header != FIELDS:
        raise RuntimeError(f"unexpected tshark header for {path}: {header[:5]}... stderr={proc.stderr[:500]}")
    frames: list[TsharkFrame] = []
    dropped: list[int] = []
    for line in lines[1:]:
        if not line:
            continue
        cols = line.split("\t")
        values = {name: _split(v) for name, v in zip(FIELDS, cols, strict=False)}
        tnum = int(values["frame.number"][0])
        # pcapng Custom / unknown blocks are shown by tshark as frames without an encapsulation.
        if not values.get("frame.encap_type"):
            dropped.append(tnum)
            continue
        frames.append(TsharkFrame(number=len(frames) + 1, tshark_number=tnum, fields=values))
    stderr = "\n".join(ln for ln in proc.stderr.splitlines() if "Running as user" not in ln)
    return TsharkResult(path, frames, proc.returncode, stderr, dropped)


# ---------------------------------------------------------------------------------------------- value parsing


def parse_int(v: str | None) -> int | None:
    if v is None or v == "":
        return None
    return int(v, 0)


def parse_bool(v: str | None) -> bool | None:
    if v is None or v == "":
        return None
    return v.lower() in ("1", "true")


def parse_mac(v: str | None) -> str | None:
    return v.lower() if v else None


def parse_ip(v: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not v:
        return None
    return ipaddress.ip_address(v)


def parse_time_ns(v: str | None) -> int | None:
    """frame.time_epoch -> integer ns, exactly.

    tshark prints `secs.nsecs` with nsecs zero-padded to 9 digits. A pcap record whose fraction field is
    >= 10^9 (invalid) is printed with more digits (e.g. `1418145370.1000000000`): the seconds and the raw
    fraction are then added (1418145370 s + 1000000000 ns), which is how netqos carries it too.
    """
    if not v:
        return None
    neg = v.startswith("-")
    s = v[1:] if neg else v
    secs, _, frac = s.partition(".")
    ns = int(secs) * 1_000_000_000 + (int(frac.ljust(9, "0")) if len(frac) <= 9 else int(frac))
    return -ns if neg else ns


def parse_float(v: str | None) -> float | None:
    return float(v) if v else None


# ---------------------------------------------------------------------------------------------- expectations


def _ipv6_upper_proto(fr: TsharkFrame) -> int | None:
    """Next header after the first IPv6 header's extension-header chain."""
    nxt = parse_int(fr.first("ipv6.nxt"))
    if nxt is None:
        return None
    ext_field = {0: "ipv6.hopopts.nxt", 43: "ipv6.routing.nxt", 44: "ipv6.fraghdr.nxt", 60: "ipv6.dstopts.nxt"}
    used = dict.fromkeys(ext_field.values(), 0)
    for _ in range(16):
        name = ext_field.get(nxt)
        if name is None:
            return nxt
        vals = fr.all(name)
        if used[name] >= len(vals):
            return None  # chain cut (truncated) or not dissected by tshark
        nxt = int(vals[used[name]], 0)
        used[name] += 1
    return None


# Link-layer header bytes before the IP header, by the first token of frame.protocols (None = variable).
_L2_LEN = {"eth": 14, "null": 4, "raw": 0, "ip": 0, "ipv6": 0}
_L2_EXTRA = {"vlan": 4, "pppoes": 6, "ppp": 2}


def _ip_payload_on_wire(fr: TsharkFrame, protos: list[str], ip_idx: int) -> int | None:
    """Bytes after the first IP header(s) as tshark dissects them: the IP length, clipped to what the frame's
    wire length leaves ("IPv4 total length exceeds packet length"). None when it cannot be derived."""
    frame_len = parse_int(fr.first("frame.len"))
    base = _L2_LEN.get(protos[0]) if protos else None
    if frame_len is None:
        return None
    if base is None or any(p not in ("ethertype", *_L2_EXTRA) for p in protos[1:ip_idx]):
        # Link header length not derivable here (SLL vs SLL2 share "sll"): the IP length alone, unclipped.
        frame_len, base = 1 << 30, 0
    l3off = base + sum(_L2_EXTRA.get(p, 0) for p in protos[1:ip_idx])
    if protos[ip_idx] == "ip":
        ip_len, hl = parse_int(fr.first("ip.len")), parse_int(fr.first("ip.hdr_len"))
        if ip_len is None or hl is None:
            return None
        return min(ip_len, frame_len - l3off) - hl
    plen = parse_int(fr.first("ipv6.plen"))
    if plen is None or _ipv6_upper_proto(fr) != parse_int(fr.first("ipv6.nxt")):
        return None  # extension headers: their lengths are not among the extracted fields
    return min(plen, frame_len - l3off - 40)


def _udp_payload_len(fr: TsharkFrame, protos: list[str], ip_idx: int, ulen: int | None) -> int | None:
    """UDP payload length: udp.length - 8, or, when tshark flags "Bad length value > IP payload length",
    the IP payload - 8 (what tshark hands to the next dissector)."""
    if ulen is None:
        return None
    ip_payload = _ip_payload_on_wire(fr, protos, ip_idx)
    if ip_payload is not None and ulen > ip_payload:
        return ip_payload - 8
    return ulen - 8


_NEXT_ETHERTYPE = {"ip": 0x0800, "ipv6": 0x86DD, "arp": 0x0806, "pppoes": 0x8864, "mpls": 0x8847}


def _vlan_tags(fr: TsharkFrame, protos: list[str], e: dict[str, Any]) -> None:
    """Outer Ethernet tag stack in frame.protocols order: `vlan` (802.1Q: vlan.*) or `ieee8021ad` (S-tag:
    ieee8021ad.*). eth_type is the EtherType after the last tag of the outer stack."""
    vlan_ids, vlan_pcps, vlan_ets = fr.all("vlan.id"), fr.all("vlan.priority"), fr.all("vlan.etype")
    ad_ids, ad_pcps = fr.all("ieee8021ad.id"), fr.all("ieee8021ad.priority")
    tags: list[tuple[int | None, int | None, int | None]] = []  # (id, pcp, etype after the tag)
    vi = ai = 0
    next_tok = None
    for tok in protos[1:]:
        if tok == "ethertype":
            continue
        if tok == "vlan" and vi < len(vlan_ids):
            et = parse_int(vlan_ets[vi]) if vi < len(vlan_ets) else None
            tags.append((parse_int(vlan_ids[vi]), parse_int(vlan_pcps[vi]) if vi < len(vlan_pcps) else None, et))
            vi += 1
        elif tok == "ieee8021ad" and ai < len(ad_ids):
            tags.append((parse_int(ad_ids[ai]), parse_int(ad_pcps[ai]) if ai < len(ad_pcps) else None, None))
            ai += 1
        else:
            next_tok = tok
            break
    if not tags:
        e["eth_type"] = parse_int(fr.first("eth.type"))
        return
    e["vlan_id"], e["vlan_pcp"] = tags[0][0], tags[0][1]
    e["vlan_inner_id"] = tags[1][0] if len(tags) > 1 else None
    last_et = tags[-1][2]
    e["eth_type"] = last_et if last_et is not None else _NEXT_ETHERTYPE.get(next_tok or "")


def expected(fr: TsharkFrame) -> dict[str, Any]:
    """tshark's view of one frame (None / missing key = tshark has no value).

    Keys are netqos column names, except a few derived ones that compare.py maps: `wlan_ds`, `wlan_ra`,
    `wlan_ta`, `wlan_sa`, `wlan_da`, `icmp4_*` / `icmp6_*`, `udp_payload_len`.
    """
    e: dict[str, Any] = {}
    protos = fr.protocols
    first = protos[0] if protos else ""

    e["ts_ns"] = parse_time_ns(fr.first("frame.time_epoch"))
    e["cap_len"] = parse_int(fr.first("frame.cap_len"))
    e["wire_len"] = parse_int(fr.first("frame.len"))
    e["interface_id"] = parse_int(fr.first("frame.interface_id"))

    # ---- link layer
    if first == "eth":
        e["eth_src"] = parse_mac(fr.first("eth.src"))
        e["eth_dst"] = parse_mac(fr.first("eth.dst"))
        _vlan_tags(fr, protos, e)
    elif first == "sll":
        e["eth_src"] = parse_mac(fr.first("sll.src.eth"))
        e["eth_type"] = parse_int(fr.first("sll.etype"))

    # ---- radiotap / 802.11
    if first == "radiotap":
        e["rt_tsft"] = parse_int(fr.first("radiotap.mactime"))
        e["rt_flags"] = parse_int(fr.first("radiotap.flags"))
        e["rt_rate_mbps"] = parse_float(fr.first("radiotap.datarate"))
        e["rt_channel_freq"] = parse_int(fr.first("radiotap.channel.freq"))
        e["rt_channel_flags"] = parse_int(fr.first("radiotap.channel.flags"))
        e["rt_dbm_antsignal"] = parse_int(fr.first("radiotap.dbm_antsignal"))
        e["rt_dbm_antnoise"] = parse_int(fr.first("radiotap.dbm_antnoise"))
        e["rt_mcs_index"] = parse_int(fr.first("radiotap.mcs.index"))
    if "wlan" in protos[:3]:
        e["wlan_fc_type"] = parse_int(fr.first("wlan.fc.type"))
        e["wlan_fc_subtype"] = parse_int(fr.first("wlan.fc.subtype"))
        e["wlan_retry"] = parse_bool(fr.first("wlan.fc.retry"))
        e["wlan_protected"] = parse_bool(fr.first("wlan.fc.protected"))
        ds = parse_int(fr.first("wlan.fc.ds"))
        e["wlan_ds"] = ds
        e["wlan_duration"] = parse_int(fr.first("wlan.duration"))
        e["wlan_ra"] = parse_mac(fr.first("wlan.ra"))
        e["wlan_ta"] = parse_mac(fr.first("wlan.ta"))
        e["wlan_sa"] = parse_mac(fr.first("wlan.sa"))
        e["wlan_da"] = parse_mac(fr.first("wlan.da"))
        e["wlan_bssid"] = parse_mac(fr.first("wlan.bssid"))
        e["wlan_seq"] = parse_int(fr.first("wlan.seq"))
        e["wlan_frag"] = parse_int(fr.first("wlan.frag"))
        e["wlan_qos_tid"] = parse_int(fr.first("wlan.qos.tid"))
        i = protos.index("wlan")
        if i + 1 < len(protos) and protos[i + 1] == "llc":
            e["eth_type"] = parse_int(fr.first("llc.type"))

    # ---- IP layer: the first ip/ipv6 in frame.protocols
    ip_idx = next((i for i, p in enumerate(protos) if p in ("ip", "ipv6")), None)
    if ip_idx is None:
        return e
    ipl = protos[ip_idx]
    # The protocol after the IP header; IPv6 extension headers show up as ipv6.hopopts, ipv6.routing...
    rest = [p for p in protos[ip_idx + 1 :]]
    while rest and rest[0].startswith("ipv6."):
        rest.pop(0)
    l4 = rest[0] if rest else None
    if ipl == "ip":
        e["ip_version"] = parse_int(fr.first("ip.version"))
        e["ip_src"] = parse_ip(fr.first("ip.src"))
        e["ip_dst"] = parse_ip(fr.first("ip.dst"))
        e["ip_proto"] = parse_int(fr.first("ip.proto"))
        e["ip_ttl"] = parse_int(fr.first("ip.ttl"))
        e["ip_len"] = parse_int(fr.first("ip.len"))
        e["ip_hdr_len"] = parse_int(fr.first("ip.hdr_len"))
        e["ip_dscp"] = parse_int(fr.first("ip.dsfield.dscp"))
        e["ip_ecn"] = parse_int(fr.first("ip.dsfield.ecn"))
        e["ip_id"] = parse_int(fr.first("ip.id"))
        e["ip_flags_df"] = parse_bool(fr.first("ip.flags.df"))
        e["ip_flags_mf"] = parse_bool(fr.first("ip.flags.mf"))
        fo = parse_int(fr.first("ip.frag_offset"))  # tshark 4.0: in 8-byte units; netqos: bytes
        e["ip_frag_offset"] = None if fo is None else fo * 8
        icmp_l4 = "icmp"
    else:
        e["ip_version"] = parse_int(fr.first("ipv6.version"))
        e["ip_src"] = parse_ip(fr.first("ipv6.src"))
        e["ip_dst"] = parse_ip(fr.first("ipv6.dst"))
        e["ip_proto"] = _ipv6_upper_proto(fr)
        e["ip_ttl"] = parse_int(fr.first("ipv6.hlim"))
        plen = parse_int(fr.first("ipv6.plen"))
        e["ip_len"] = None if plen is None else plen + 40
        e["ip_dscp"] = parse_int(fr.first("ipv6.tclass.dscp"))
        e["ip_ecn"] = parse_int(fr.first("ipv6.tclass.ecn"))
        e["ipv6_flow_label"] = parse_int(fr.first("ipv6.flow"))
        if fr.first("ipv6.fraghdr.nxt") is not None:
            e["ip_id"] = parse_int(fr.first("ipv6.fraghdr.ident"))
            e["ip_flags_mf"] = parse_bool(fr.first("ipv6.fraghdr.more"))
            fo = parse_int(fr.first("ipv6.fraghdr.offset"))  # 8-byte units, like IPv4
            e["ip_frag_offset"] = None if fo is None else fo * 8
        icmp_l4 = "icmpv6"

    if l4 == "tcp":
        e["src_port"] = parse_int(fr.first("tcp.srcport"))
        e["dst_port"] = parse_int(fr.first("tcp.dstport"))
        e["tcp_flags"] = parse_int(fr.first("tcp.flags"))  # 12 bits: FIN..CWR, AE (0x100), reserved 0xE00
        e["tcp_seq"] = parse_int(fr.first("tcp.seq_raw"))
        e["tcp_ack"] = parse_int(fr.first("tcp.ack_raw"))
        e["tcp_window"] = parse_int(fr.first("tcp.window_size_value"))
        e["tcp_hdr_len"] = parse_int(fr.first("tcp.hdr_len"))
        e["tcp_opt_mss"] = parse_int(fr.first("tcp.options.mss_val"))
        e["tcp_opt_wscale"] = parse_int(fr.first("tcp.options.wscale.shift"))
        # tcp.options.sack_perm is a protocol item: present (bytes "0402") or absent.
        e["tcp_opt_sack_perm"] = fr.first("tcp.options.sack_perm") is not None
        le = [int(x) for x in fr.all("tcp.options.sack_le")]
        re_ = [int(x) for x in fr.all("tcp.options.sack_re")]
        e["tcp_opt_sack_blocks"] = [v for pair in zip(le, re_, strict=False) for v in pair] if le else None
        e["tcp_opt_ts_val"] = parse_int(fr.first("tcp.options.timestamp.tsval"))
        e["tcp_opt_ts_ecr"] = parse_int(fr.first("tcp.options.timestamp.tsecr"))
        e["l4_payload_len"] = parse_int(fr.first("tcp.len"))
    elif l4 == "udp":
        e["src_port"] = parse_int(fr.first("udp.srcport"))
        e["dst_port"] = parse_int(fr.first("udp.dstport"))
        ulen = parse_int(fr.first("udp.length"))
        e["udp_len"] = ulen
        e["udp_payload_len"] = _udp_payload_len(fr, protos, ip_idx, ulen)
    elif l4 == icmp_l4 == "icmp":
        e["icmp4_type"] = parse_int(fr.first("icmp.type"))
        e["icmp4_code"] = parse_int(fr.first("icmp.code"))
        e["icmp_id"] = parse_int(fr.first("icmp.ident"))
        e["icmp_seq"] = parse_int(fr.first("icmp.seq"))
    elif l4 == icmp_l4 == "icmpv6":
        e["icmp6_type"] = parse_int(fr.first("icmpv6.type"))
        e["icmp6_code"] = parse_int(fr.first("icmpv6.code"))
        e["icmp_id"] = parse_int(fr.first("icmpv6.echo.identifier"))
        e["icmp_seq"] = parse_int(fr.first("icmpv6.echo.sequence_number"))
    return e


def pcap_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every capture listed in MANIFEST.tsv under `root` (falls back to a glob)."""
    root = Path(root)
    manifest = root / "MANIFEST.tsv"
    if manifest.exists():
        names = [ln.split("\t")[0] for ln in manifest.read_text().splitlines()[1:] if ln.strip()]
        return [root / n for n in names if (root / n).exists()]
    return sorted(p for p in root.iterdir() if p.suffix in (".pcap", ".pcapng", ".cap"))
