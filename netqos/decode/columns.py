"""Turn framed records + the walk matrix into one Arrow RecordBatch of PACKET_SCHEMA, column-wise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from netqos.decode import headers as h
from netqos.decode import linktypes as lt
from netqos.decode import walk as w
from netqos.decode.framing import TS_NULL
from netqos.decode.gather import PROGRAM, run_program
from netqos.decode.schema import COLUMN_NAMES, PACKET_SCHEMA, STATUS_TEXT, DecodeStatus
from netqos.decode.text import ip_text, mac_text, string_array


@dataclass
class FramedRecords:
    """Records of one chunk: offsets into `buf` plus per-record metadata from the capture format."""

    buf: np.ndarray  # uint8 chunk buffer the offsets point into
    offset: np.ndarray  # int64
    cap_len: np.ndarray  # int64
    wire_len: np.ndarray  # int64
    ts_ns: np.ndarray  # int64, TS_NULL when unknown
    interface_id: np.ndarray  # int32
    link_type: np.ndarray  # int32
    first_frame_no: int  # frame number of the first record (1-based)
    forced_status: np.ndarray | None = None  # int8; non-zero overrides the walk's status (e.g. truncated record)


# Arrays here are built from buffers, never with pa.array(): that probes for pandas and imports it,
# which costs ~0.5 s of CLI start-up.
_STATUS_DICTIONARY = string_array([STATUS_TEXT[s] for s in sorted(DecodeStatus)])


def _plain(values: np.ndarray, dtype: pa.DataType) -> pa.Array:
    data = np.ascontiguousarray(values, dtype=_NUMPY_DTYPES[dtype])
    return pa.Array.from_buffers(dtype, len(data), [None, pa.py_buffer(data)])


def _gather(buf: np.ndarray, idx: np.ndarray, f: h.Field) -> np.ndarray:
    """Read one fixed-width field at buf[idx + f.offset] for every index, vectorised over rows."""
    start = idx + f.offset
    value = buf[start].astype(np.int64)
    for k in range(1, f.width):
        byte = buf[start + k].astype(np.int64)
        value = value | (byte << (8 * k)) if f.little else (value << 8) | byte
    if f.signed:
        bits = 8 * f.width
        value = np.where(value >= 1 << (bits - 1), value - (1 << bits), value)
    if f.shift:
        value >>= f.shift
    if f.mask:
        value &= f.mask
    return np.asarray(value)


class _Columns:
    """Per-column values + validity for one batch."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[str, np.ndarray] = {}
        self.valid: dict[str, np.ndarray] = {}

    def put(self, column: str, rows: np.ndarray, value: np.ndarray) -> None:
        if column not in self.values:
            dtype = np.float64 if value.dtype.kind == "f" else np.int64
            self.values[column] = np.zeros(self.n, dtype=dtype)
            self.valid[column] = np.zeros(self.n, dtype=bool)
        self.values[column][rows] = value
        self.valid[column][rows] = True

    def put_all(self, column: str, value: np.ndarray, valid: np.ndarray) -> None:
        self.values[column] = value
        self.valid[column] = valid


def _icmp_echo(cols: _Columns, buf: np.ndarray, wm: np.ndarray) -> None:
    l4 = wm[:, w.W_L4].astype(np.int64)
    proto = wm[:, w.W_IP_PROTO]
    icmp_type = cols.values.get("icmp_type")
    if icmp_type is None:
        return
    echo = ((proto == lt.IPPROTO_ICMP) & np.isin(icmp_type, h.ICMP_ECHO_TYPES)) | (
        (proto == lt.IPPROTO_ICMPV6) & np.isin(icmp_type, h.ICMPV6_ECHO_TYPES)
    )
    echo &= cols.valid["icmp_type"] & (l4 >= 0) & (l4 + 8 <= wm[:, w.W_L4_END])
    rows = np.flatnonzero(echo)
    if rows.size:
        cols.put("icmp_id", rows, _gather(buf, l4[rows], h.Field("icmp_id", 4, 2)))
        cols.put("icmp_seq", rows, _gather(buf, l4[rows], h.Field("icmp_seq", 6, 2)))


def _derived(cols: _Columns, wm: np.ndarray, records: FramedRecords) -> None:
    ip_ver = wm[:, w.W_IP_VER]
    has_ip = ip_ver > 0
    cols.put_all("ip_version", ip_ver, has_ip)
    hdr_len = wm[:, w.W_IP_HDR_LEN]
    cols.put_all("ip_hdr_len", hdr_len, hdr_len >= 0)
    proto = wm[:, w.W_IP_PROTO]
    cols.put_all("ip_proto", proto, proto >= 0)
    et = wm[:, w.W_ETH_TYPE]
    cols.put_all("eth_type", et, et >= 0)
    is_v4 = ip_ver == 4
    if "ip_len" in cols.values:
        opts = hdr_len - 20
        cols.put_all("ip_options_len", opts, is_v4 & (hdr_len >= 20))
    tcp_len = wm[:, w.W_TCP_HDR_LEN]
    is_tcp = (wm[:, w.W_L4] >= 0) & (proto == lt.IPPROTO_TCP)
    cols.put_all("tcp_hdr_len", tcp_len, is_tcp)
    cols.put_all("tcp_opt_sack_perm", wm[:, w.W_OPT_SACKPERM] == 1, is_tcp)
    payload = wm[:, w.W_IP_PAYLOAD].astype(np.int64)
    # An IP length claiming more than the frame carried on the wire is bogus (tshark: "IPv4 total length
    # exceeds packet length"): clip the L4 bytes to what the wire length leaves after the IP headers.
    l4_off = wm[:, w.W_L4].astype(np.int64)
    wire_after_ip = records.wire_len - (l4_off - records.offset)
    payload = np.where(l4_off >= 0, np.minimum(payload, wire_after_ip), payload)
    l4_payload = np.full(records.offset.shape[0], -1, dtype=np.int64)
    l4_payload[is_tcp] = payload[is_tcp] - tcp_len[is_tcp]
    if "udp_len" in cols.values:
        is_udp = cols.valid["udp_len"]
        udp_len = cols.values["udp_len"]
        sane = is_udp & (udp_len >= 8) & (udp_len <= payload)
        l4_payload[sane] = udp_len[sane] - 8
        fallback = is_udp & ~sane
        l4_payload[fallback] = payload[fallback] - 8
    cols.put_all("l4_payload_len", l4_payload, l4_payload >= 0)
    chain = wm[:, w.W_IP6_EXT]
    cols.put_all("ipv6_ext_headers", chain, chain > 0)
    _bssid(cols, wm)


def _bssid(cols: _Columns, wm: np.ndarray) -> None:
    """BSSID position depends on the frame type and DS bits (IEEE 802.11-2020 table 9-26)."""
    ftype = cols.values["wlan_fc_type"]
    sub = cols.values["wlan_fc_subtype"]
    ds = cols.values["wlan_to_ds"] + 2 * cols.values["wlan_from_ds"]
    naddr = wm[:, w.W_WLAN_NADDR]
    which = np.zeros(ftype.shape[0], dtype=np.int64)  # address number holding the BSSID, 0 = none
    which[(ftype == 0) & (naddr >= 3)] = 3
    data = (ftype == 2) & (naddr >= 3)
    which[data & (ds == 0)] = 3
    which[data & (ds == 1)] = 1
    which[data & (ds == 2)] = 2
    which[(ftype == 1) & (sub == 10)] = 1  # PS-Poll
    which[(ftype == 1) & ((sub == 14) | (sub == 15)) & (naddr >= 2)] = 2  # CF-End
    which[~cols.valid["wlan_fc_type"]] = 0
    cols.put_all("_bssid_addr", which, which > 0)


def _int_array(values: np.ndarray, valid: np.ndarray, dtype: pa.DataType) -> pa.Array:
    """Wrap numpy values + validity as an Arrow array without per-element work (all-null columns are common)."""
    n = len(valid)
    nulls = n - int(np.count_nonzero(valid))
    if nulls == n:
        return pa.nulls(n, type=dtype)
    bitmap = None if nulls == 0 else pa.py_buffer(np.packbits(valid, bitorder="little"))
    if pa.types.is_boolean(dtype):
        data = pa.py_buffer(np.packbits(values.astype(np.bool_), bitorder="little"))
    else:
        data = pa.py_buffer(np.ascontiguousarray(values, dtype=_NUMPY_DTYPES[dtype]))
    return pa.Array.from_buffers(dtype, n, [bitmap, data], nulls)


# Explicit map: pyarrow's DataType.to_pandas_dtype() would import pandas (~0.5 s of start-up).
_NUMPY_DTYPES: dict[pa.DataType, np.dtype] = {
    pa.int8(): np.dtype(np.int8),
    pa.int16(): np.dtype(np.int16),
    pa.int32(): np.dtype(np.int32),
    pa.int64(): np.dtype(np.int64),
    pa.float32(): np.dtype(np.float32),
    pa.float64(): np.dtype(np.float64),
}


def _sack_blocks(buf: np.ndarray, wm: np.ndarray) -> pa.Array:
    n = wm.shape[0]
    count = np.where(wm[:, w.W_OPT_SACK] >= 0, wm[:, w.W_OPT_SACK_N], 0).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(count * 2, out=offsets[1:])
    rows = np.repeat(np.flatnonzero(count), count[count > 0])
    # k-th edge of each row: left/right of block 0, 1, ...
    edge = np.arange(offsets[-1]) - np.repeat(offsets[:-1][count > 0], 2 * count[count > 0])
    rows2 = np.repeat(rows, 2)
    starts = wm[rows2, w.W_OPT_SACK].astype(np.int64) + 4 * edge
    values = _gather(buf, starts, h.Field("sack", 0, 4))
    has = count > 0
    return pa.ListArray.from_arrays(
        _plain(offsets, pa.int32()), _plain(values, pa.int64()), mask=_int_array(~has, np.ones(n, bool), pa.bool_())
    )


def _ext_header_text(chain: np.ndarray, valid: np.ndarray) -> pa.Array:
    """Chains are packed 3 bits per header (see walk._ipv6): few distinct values, so each is named once and
    the column is a dictionary lookup."""
    n = chain.shape[0]
    if not valid.any():
        return pa.nulls(n, type=pa.string())
    codes, index = np.unique(chain[valid], return_inverse=True)
    names = []
    for code in codes.tolist():
        parts = []
        while code:
            parts.append(lt.IPV6_EXT_NAMES[code & 7])
            code >>= 3
        names.append(",".join(reversed(parts)))
    indices = np.zeros(n, dtype=np.int32)
    indices[valid] = index
    dict_indices = _int_array(indices, valid, pa.int32())
    return pa.DictionaryArray.from_arrays(dict_indices, string_array(names)).cast(pa.string())


def build_batch(records: FramedRecords, wm: np.ndarray) -> pa.RecordBatch:
    buf = records.buf
    n = records.offset.shape[0]
    cols = _Columns(n)
    values, valid = run_program(buf, wm)
    for i, name in enumerate(PROGRAM.columns):
        cols.put_all(name, values[i], valid[i])
    for name, scale in PROGRAM.post_scale.items():
        cols.values[name] = cols.values[name] * scale
    _icmp_echo(cols, buf, wm)
    _derived(cols, wm, records)

    arrays: dict[str, pa.Array] = {}
    arrays["frame_no"] = _plain(np.arange(records.first_frame_no, records.first_frame_no + n), pa.int64())
    ts = records.ts_ns
    arrays["ts_ns"] = _int_array(ts, ts != TS_NULL, pa.int64())
    arrays["interface_id"] = _plain(records.interface_id, pa.int32())
    arrays["link_type"] = _plain(records.link_type, pa.int32())
    arrays["cap_len"] = _plain(records.cap_len, pa.int32())
    # orig_len is an unsigned 32-bit field: a (corrupt) value past int32 is null, not a negative length.
    wire = records.wire_len
    arrays["wire_len"] = _int_array(wire, (wire >= 0) & (wire <= np.iinfo(np.int32).max), pa.int32())

    macs = np.empty((n, len(h.MAC_COLUMNS) + 1), dtype=np.int64)
    for i, (_, anchor, delta, min_addr) in enumerate(h.MAC_COLUMNS):
        off = wm[:, anchor].astype(np.int64)
        valid = off >= 0
        if min_addr:
            valid &= wm[:, w.W_WLAN_NADDR] >= min_addr
        macs[:, i] = np.where(valid, off + delta, -1)
    which = cols.values["_bssid_addr"]
    bssid_off = wm[:, w.W_WLAN].astype(np.int64) + np.array([0, 4, 10, 16])[which]
    macs[:, -1] = np.where(cols.valid["_bssid_addr"], bssid_off, -1)
    names = [c for c, _, _, _ in h.MAC_COLUMNS] + ["wlan_bssid"]
    arrays.update(zip(names, mac_text(buf, macs), strict=True))

    l3 = wm[:, w.W_L3].astype(np.int64)
    is_v6 = wm[:, w.W_IP_VER] == 6
    ips = np.empty((n, len(h.IP_ADDRESS_COLUMNS)), dtype=np.int64)
    for i, (_, off4, off6) in enumerate(h.IP_ADDRESS_COLUMNS):
        ips[:, i] = np.where(l3 >= 0, l3 + np.where(is_v6, off6, off4), -1)
    arrays.update(zip([c for c, _, _ in h.IP_ADDRESS_COLUMNS], ip_text(buf, ips, is_v6), strict=True))

    arrays["tcp_opt_sack_blocks"] = _sack_blocks(buf, wm)
    chain_valid = cols.valid.pop("ipv6_ext_headers")
    arrays["ipv6_ext_headers"] = _ext_header_text(cols.values.pop("ipv6_ext_headers"), chain_valid)

    status = wm[:, w.W_STATUS].astype(np.int8)
    if records.forced_status is not None:
        status = np.where(records.forced_status != 0, records.forced_status, status).astype(np.int8)
    arrays["decode_status"] = pa.DictionaryArray.from_arrays(_plain(status, pa.int8()), _STATUS_DICTIONARY).cast(
        pa.string()
    )

    for field in PACKET_SCHEMA:
        if field.name in arrays:
            continue
        if field.name in cols.values:
            arrays[field.name] = _int_array(cols.values[field.name], cols.valid[field.name], field.type)
        else:
            arrays[field.name] = pa.nulls(n, type=field.type)
    return pa.RecordBatch.from_arrays([arrays[name] for name in COLUMN_NAMES], schema=PACKET_SCHEMA)
