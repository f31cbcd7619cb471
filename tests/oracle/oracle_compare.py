"""Field-by-field comparison of netqos rows against tshark's view of the same frames.

For each oracle field and frame there are four outcomes:

* both decoded, equal             -> `agree`
* both decoded, different         -> `disagree` (a `Disagreement`; must be fixed or allowlisted)
* tshark has a value, netqos null -> `tshark_only` ("not decoded by netqos": PPPoE, MPLS, tunnels...)
* netqos has a value, tshark none -> `netqos_only` (e.g. a first fragment tshark leaves undissected)

The 99.9 % bar applies to agree / (agree + disagree).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tshark import TsharkResult, expected


def _wlan_ds(r: dict[str, Any]) -> int | None:
    to, fr = r.get("wlan_to_ds"), r.get("wlan_from_ds")
    if to is None or fr is None:
        return None
    return int(bool(to)) | (int(bool(fr)) << 1)


def _wlan_sa(r: dict[str, Any]) -> str | None:
    """Source address per the DS bits (management and data frames only, as tshark's wlan.sa)."""
    if r.get("wlan_fc_type") not in (0, 2):
        return None
    ds = _wlan_ds(r)
    return {0: r.get("wlan_addr2"), 1: r.get("wlan_addr2"), 2: r.get("wlan_addr3"), 3: r.get("wlan_addr4")}.get(
        ds  # type: ignore[arg-type]
    )


def _wlan_da(r: dict[str, Any]) -> str | None:
    if r.get("wlan_fc_type") not in (0, 2):
        return None
    ds = _wlan_ds(r)
    return {0: r.get("wlan_addr1"), 1: r.get("wlan_addr3"), 2: r.get("wlan_addr1"), 3: r.get("wlan_addr3")}.get(
        ds  # type: ignore[arg-type]
    )


def _sack_perm(r: dict[str, Any]) -> bool | None:
    """SACK-permitted: absent option = False whenever netqos decoded the TCP header (null or False alike)."""
    if r.get("tcp_hdr_len") is None:
        return None
    return bool(r.get("tcp_opt_sack_perm"))


def _when(name: str, column: str, values: tuple[int, ...]) -> Callable[[dict[str, Any]], Any]:
    """Column `name`, only on rows where `column` is one of `values` (shared columns: l4_payload_len...)."""
    return lambda r: r.get(name) if r.get(column) in values else None


def _col(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r.get(name)


def _eq_default(a: Any, b: Any) -> bool:
    return a == b


def _eq_ip(a: Any, b: Any) -> bool:
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def _eq_mac(a: Any, b: Any) -> bool:
    return str(a).lower() == str(b).lower()


def _eq_float(a: Any, b: Any) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)


def _eq_bool(a: Any, b: Any) -> bool:
    return bool(a) == bool(b)


def _eq_list(a: Any, b: Any) -> bool:
    return list(a) == list(b)


@dataclass(frozen=True)
class OracleField:
    label: str  # tshark-side name shown in the report (and used by the allowlist)
    tshark_key: str  # key in tshark.expected()
    netqos: Callable[[dict[str, Any]], Any]
    eq: Callable[[Any, Any], bool] = _eq_default
    required: bool = True  # listed in the brief (False = extra coverage)


F = OracleField
ORACLE_FIELDS: list[OracleField] = [
    F("frame.time_epoch", "ts_ns", _col("ts_ns")),
    F("frame.cap_len", "cap_len", _col("cap_len")),
    F("frame.len", "wire_len", _col("wire_len")),
    F("frame.interface_id", "interface_id", _col("interface_id"), required=False),
    F("eth.src", "eth_src", _col("eth_src"), _eq_mac),
    F("eth.dst", "eth_dst", _col("eth_dst"), _eq_mac),
    F("eth.type", "eth_type", _col("eth_type")),
    F("vlan.id", "vlan_id", _col("vlan_id")),
    F("vlan.id[inner]", "vlan_inner_id", _col("vlan_inner_id")),
    F("vlan.priority", "vlan_pcp", _col("vlan_pcp"), required=False),
    F("ip.version", "ip_version", _col("ip_version")),
    F("ip.src", "ip_src", _col("ip_src"), _eq_ip),
    F("ip.dst", "ip_dst", _col("ip_dst"), _eq_ip),
    F("ip.proto", "ip_proto", _col("ip_proto")),
    F("ip.ttl", "ip_ttl", _col("ip_ttl")),
    F("ip.len", "ip_len", _col("ip_len")),
    F("ip.hdr_len", "ip_hdr_len", _col("ip_hdr_len"), required=False),
    F("ip.dsfield.dscp", "ip_dscp", _col("ip_dscp")),
    F("ip.dsfield.ecn", "ip_ecn", _col("ip_ecn")),
    F("ip.id", "ip_id", _col("ip_id")),
    F("ip.flags.df", "ip_flags_df", _col("ip_flags_df"), _eq_bool),
    F("ip.flags.mf", "ip_flags_mf", _col("ip_flags_mf"), _eq_bool),
    F("ip.frag_offset", "ip_frag_offset", _col("ip_frag_offset")),
    F("ipv6.flow", "ipv6_flow_label", _col("ipv6_flow_label"), required=False),
    F("tcp/udp.srcport", "src_port", _col("src_port")),
    F("tcp/udp.dstport", "dst_port", _col("dst_port")),
    F("tcp.flags", "tcp_flags", _col("tcp_flags")),
    F("tcp.seq_raw", "tcp_seq", _col("tcp_seq")),
    F("tcp.ack_raw", "tcp_ack", _col("tcp_ack")),
    F("tcp.window_size_value", "tcp_window", _col("tcp_window")),
    F("tcp.hdr_len", "tcp_hdr_len", _col("tcp_hdr_len")),
    F("tcp.options.mss_val", "tcp_opt_mss", _col("tcp_opt_mss")),
    F("tcp.options.wscale.shift", "tcp_opt_wscale", _col("tcp_opt_wscale")),
    F("tcp.options.sack_perm", "tcp_opt_sack_perm", _sack_perm, _eq_bool),
    F("tcp.options.sack_le/re", "tcp_opt_sack_blocks", _col("tcp_opt_sack_blocks"), _eq_list, required=False),
    F("tcp.options.timestamp.tsval", "tcp_opt_ts_val", _col("tcp_opt_ts_val")),
    F("tcp.options.timestamp.tsecr", "tcp_opt_ts_ecr", _col("tcp_opt_ts_ecr")),
    F("tcp.len", "l4_payload_len", _when("l4_payload_len", "ip_proto", (6,))),
    F("udp.length", "udp_len", _col("udp_len")),
    F("udp payload (udp.length-8)", "udp_payload_len", _when("l4_payload_len", "ip_proto", (17,))),
    F("icmp.type", "icmp4_type", _when("icmp_type", "ip_version", (4,))),
    F("icmp.code", "icmp4_code", _when("icmp_code", "ip_version", (4,))),
    F("icmpv6.type", "icmp6_type", _when("icmp_type", "ip_version", (6,))),
    F("icmpv6.code", "icmp6_code", _when("icmp_code", "ip_version", (6,))),
    F("icmp.ident", "icmp_id", _col("icmp_id"), required=False),
    F("icmp.seq", "icmp_seq", _col("icmp_seq"), required=False),
    F("radiotap.mactime", "rt_tsft", _col("rt_tsft"), required=False),
    F("radiotap.flags", "rt_flags", _col("rt_flags"), required=False),
    F("radiotap.datarate", "rt_rate_mbps", _col("rt_rate_mbps"), _eq_float),
    F("radiotap.channel.freq", "rt_channel_freq", _col("rt_channel_freq")),
    F("radiotap.channel.flags", "rt_channel_flags", _col("rt_channel_flags"), required=False),
    F("radiotap.dbm_antsignal", "rt_dbm_antsignal", _col("rt_dbm_antsignal")),
    F("radiotap.dbm_antnoise", "rt_dbm_antnoise", _col("rt_dbm_antnoise")),
    F("radiotap.mcs.index", "rt_mcs_index", _col("rt_mcs_index")),
    F("wlan.fc.type", "wlan_fc_type", _col("wlan_fc_type")),
    F("wlan.fc.subtype", "wlan_fc_subtype", _col("wlan_fc_subtype")),
    F("wlan.fc.retry", "wlan_retry", _col("wlan_retry"), _eq_bool),
    F("wlan.fc.protected", "wlan_protected", _col("wlan_protected"), _eq_bool, required=False),
    F("wlan.fc.ds", "wlan_ds", _wlan_ds),
    F("wlan.duration", "wlan_duration", _col("wlan_duration"), required=False),
    F("wlan.ra", "wlan_ra", _col("wlan_addr1"), _eq_mac),
    F("wlan.ta", "wlan_ta", _col("wlan_addr2"), _eq_mac),
    F("wlan.sa", "wlan_sa", _wlan_sa, _eq_mac),
    F("wlan.da", "wlan_da", _wlan_da, _eq_mac),
    F("wlan.bssid", "wlan_bssid", _col("wlan_bssid"), _eq_mac),
    F("wlan.seq", "wlan_seq", _col("wlan_seq")),
    F("wlan.frag", "wlan_frag", _col("wlan_frag"), required=False),
    F("wlan.qos.tid", "wlan_qos_tid", _col("wlan_qos_tid")),
]
FIELD_LABELS = [f.label for f in ORACLE_FIELDS]


@dataclass(frozen=True)
class Disagreement:
    file: str
    frame: int
    field: str
    tshark: Any
    netqos: Any
    decode_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "frame": self.frame,
            "field": self.field,
            "tshark": _jsonable(self.tshark),
            "netqos": _jsonable(self.netqos),
            "decode_status": self.decode_status,
        }


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return str(v)


@dataclass
class FieldStats:
    both: int = 0
    agree: int = 0
    tshark_only: int = 0
    netqos_only: int = 0

    @property
    def disagree(self) -> int:
        return self.both - self.agree

    @property
    def agreement(self) -> float:
        return 1.0 if self.both == 0 else self.agree / self.both

    def add(self, other: FieldStats) -> None:
        self.both += other.both
        self.agree += other.agree
        self.tshark_only += other.tshark_only
        self.netqos_only += other.netqos_only


@dataclass
class FileComparison:
    file: str
    tshark_frames: int
    netqos_frames: int
    stats: dict[str, FieldStats] = field(default_factory=lambda: {lbl: FieldStats() for lbl in FIELD_LABELS})
    disagreements: list[Disagreement] = field(default_factory=list)
    # (frame, field, tshark value, netqos decode_status): values tshark has and netqos left null
    tshark_only: list[tuple[int, str, Any, str | None]] = field(default_factory=list)
    extra_netqos_rows: list[dict[str, Any]] = field(default_factory=list)  # rows past tshark's last frame
    missing_netqos_rows: list[int] = field(default_factory=list)  # tshark frames netqos has no row for
    frame_no_ok: bool = True


def compare_rows(
    file: str,
    tshark: TsharkResult,
    rows: Sequence[dict[str, Any]],
    fields: Iterable[OracleField] = ORACLE_FIELDS,
) -> FileComparison:
    fields = list(fields)
    res = FileComparison(file=file, tshark_frames=len(tshark.frames), netqos_frames=len(rows))
    res.frame_no_ok = [r.get("frame_no") for r in rows] == list(range(1, len(rows) + 1))
    n = min(len(rows), len(tshark.frames))
    for fr, row in zip(tshark.frames[:n], rows[:n], strict=True):
        exp = expected(fr)
        status = row.get("decode_status")
        for f in fields:
            tv = exp.get(f.tshark_key)
            nv = f.netqos(row)
            st = res.stats[f.label]
            if tv is None and nv is None:
                continue
            if nv is None:
                st.tshark_only += 1
                res.tshark_only.append((fr.number, f.label, tv, status))
                continue
            if tv is None:
                st.netqos_only += 1
                continue
            st.both += 1
            if f.eq(tv, nv):
                st.agree += 1
            else:
                res.disagreements.append(Disagreement(file, fr.number, f.label, tv, nv, status))
    res.extra_netqos_rows = list(rows[n:])
    res.missing_netqos_rows = [fr.number for fr in tshark.frames[n:]]
    return res
