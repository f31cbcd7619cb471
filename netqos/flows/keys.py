"""Per-row flow key inputs: address codes, ports, and the packed extra key words for the grouping kernel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netqos.analysis.columns import codes_with_dictionary, column, ints, valid

KIND_IP = 1
KIND_L2 = 2
# Query/response ICMP pairs share a flow: both types map to the request type, keyed with the identifier.
ICMP_PAIRS = {1: {0: 8, 8: 8, 13: 13, 14: 13, 15: 15, 16: 15, 17: 17, 18: 17}, 58: {128: 128, 129: 128}}


@dataclass
class RowKeys:
    """Key parts per input row (arrays of length n). `keyed` = the row belongs to some flow."""

    keyed: np.ndarray
    kind: np.ndarray
    src_code: np.ndarray
    dst_code: np.ndarray
    addresses: pa.Array  # dictionary: code -> address text
    src_port: np.ndarray  # port, or ICMP echo identifier, or 0
    dst_port: np.ndarray
    proto: np.ndarray  # ip_proto for ip rows, eth_type for l2 rows
    icmp_class: np.ndarray  # canonical ICMP type + 1 (0 = not ICMP)
    vlan_id: np.ndarray  # -1 = none
    vlan_inner_id: np.ndarray
    sensor_code: np.ndarray
    sensors: pa.Array
    file_code: np.ndarray
    extra_hi: np.ndarray
    extra_lo: np.ndarray


def _icmp_class(proto: np.ndarray, icmp_type: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(canonical type + 1 or 0, is a query/response type keyed by identifier)."""
    cls = np.zeros(proto.shape[0], np.int64)
    paired = np.zeros(proto.shape[0], np.bool_)
    for p in (1, 58):
        rows = proto == p
        cls[rows] = (icmp_type[rows] & 0xFF) + 1
        lut = np.arange(256, dtype=np.int64)
        is_pair = np.zeros(256, np.bool_)
        for t, canon in ICMP_PAIRS[p].items():
            lut[t] = canon
            is_pair[t] = True
        known = rows & (icmp_type >= 0)
        cls[known] = lut[icmp_type[known] & 0xFF] + 1
        paired[known] = is_pair[icmp_type[known] & 0xFF]
    return cls, paired


def _sensor_codes(table: pa.Table, n: int, default: str) -> tuple[np.ndarray, pa.Array]:
    col = column(table, "sensor_id")
    if col is None:
        return np.zeros(n, np.int64), pa.array([default], pa.string())
    filled = pc.fill_null(col.cast(pa.string()), default)
    (code,), dictionary = codes_with_dictionary(filled)
    return code, dictionary


def row_keys(table: pa.Table, *, vlan_aware: bool, sensor_default: str, per_file: bool = True) -> RowKeys:
    n = table.num_rows
    ip_src = table.column("ip_src")
    ip_dst = table.column("ip_dst")
    is_ip = valid(ip_src, n) & valid(ip_dst, n)
    empty = pa.chunked_array([pa.nulls(n, pa.string())])
    l2_src = column(table, "eth_src") or empty
    l2_dst = column(table, "eth_dst") or empty
    if "wlan_addr2" in table.column_names:
        l2_src = pc.coalesce(l2_src, table.column("wlan_addr2"))
    if "wlan_addr1" in table.column_names:
        l2_dst = pc.coalesce(l2_dst, table.column("wlan_addr1"))
    mask = pa.array(is_ip)
    src_text = pc.if_else(mask, ip_src, l2_src)
    dst_text = pc.if_else(mask, ip_dst, l2_dst)
    (src_code, dst_code), addresses = codes_with_dictionary(
        pa.chunked_array([src_text]) if isinstance(src_text, pa.Array) else src_text,
        pa.chunked_array([dst_text]) if isinstance(dst_text, pa.Array) else dst_text,
    )
    ts_ok = valid(table.column("ts_ns"), n)
    keyed = ts_ok & (src_code >= 0) & (dst_code >= 0)
    kind = np.where(is_ip, KIND_IP, KIND_L2).astype(np.int64)

    ip_proto = ints(column(table, "ip_proto"), n, 0)
    eth_type = ints(column(table, "eth_type"), n, 0)
    proto = np.where(is_ip, ip_proto, eth_type) & 0xFFFF
    icmp_type = ints(column(table, "icmp_type"), n, -1)
    icmp_cls, paired = _icmp_class(np.where(is_ip, ip_proto, -1), icmp_type)
    ported = is_ip & ((ip_proto == 6) | (ip_proto == 17) | (ip_proto == 132))
    sp = np.where(ported, ints(column(table, "src_port"), n, 0), 0)
    dp = np.where(ported, ints(column(table, "dst_port"), n, 0), 0)
    icmp_id = ints(column(table, "icmp_id"), n, 0) & 0xFFFF
    sp = np.where(paired, icmp_id, sp) & 0xFFFF
    dp = np.where(paired, icmp_id, dp) & 0xFFFF

    if vlan_aware:
        vlan_id = ints(column(table, "vlan_id"), n, -1)
        vlan_inner = ints(column(table, "vlan_inner_id"), n, -1)
    else:
        vlan_id = np.full(n, -1, np.int64)
        vlan_inner = np.full(n, -1, np.int64)
    vlan = (((vlan_id + 1) & 0x1FFF) << 13) | ((vlan_inner + 1) & 0x1FFF)

    sensor_code, sensors = _sensor_codes(table, n, sensor_default)
    src_file = column(table, "source_file") if per_file else None
    if src_file is not None:
        (file_code,), files = codes_with_dictionary(src_file)
        n_files = max(len(files), 1)
    else:
        file_code, n_files = np.zeros(n, np.int64), 1
    extra_hi = np.maximum(sensor_code, 0) * (n_files + 1) + (file_code + 1)
    extra_lo = vlan | (proto << 26) | ((icmp_cls & 0x1FF) << 42) | (kind << 51)
    return RowKeys(
        keyed, kind, src_code, dst_code, addresses, sp, dp, proto, icmp_cls, vlan_id, vlan_inner,
        sensor_code, sensors, file_code, extra_hi, extra_lo,
    )  # fmt: skip
