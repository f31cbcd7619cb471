"""Per-packet TCP analysis in the spirit of Wireshark's `tcp.analysis.*` fields.

`analyze(table)` takes decoded packets (the `packets` schema of netqos.decode, rows of one capture in frame
order) and returns one row per input row, keyed by `frame_no`, with the columns of `ANALYSIS_SCHEMA`.
Column meanings, the mapping to Wireshark fields and the known differences are in docs/tcp-analysis.md.

How it works: conversations are grouped with NumPy/Numba on the canonical bidirectional key
(addresses, ports, and the VLAN ids unless `vlan_aware=False`), then one Numba-compiled pass over the
frames updates per-(stream, direction) state arrays exactly where Wireshark's `tcp_analyze_sequence_number()`
updates its per-flow structures (see _tcp_kernel.py). There is no Python object per packet.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netqos.analysis import _tcp_kernel as k
from netqos.analysis._grouping import group_conversations
from netqos.analysis.columns import codes as _codes
from netqos.analysis.columns import column as _col
from netqos.analysis.columns import ints as _ints
from netqos.analysis.columns import valid as _valid
from netqos.decode.schema import SOURCE_FILE_COLUMN, SOURCE_FILE_FIELD

# (name, type, description). Order is the output column order (source_file is appended when the input has it).
COLUMNS: list[tuple[str, pa.DataType, str]] = [
    ("frame_no", pa.int64(), "frame number, as in the input"),
    ("tcp_stream", pa.int64(), "conversation index, numbered by first appearance (tcp.stream); null if not TCP"),
    ("tcp_retransmission", pa.bool_(), "any retransmission: plain, fast or spurious (tcp.analysis.retransmission)"),
    ("tcp_fast_retransmission", pa.bool_(), "retransmission after >= 2 dup ACKs (tcp.analysis.fast_retransmission)"),
    (
        "tcp_spurious_retransmission",
        pa.bool_(),
        "retransmission of data already ACKed (tcp.analysis.spurious_retransmission)",
    ),
    ("tcp_out_of_order", pa.bool_(), "segment that arrived late, within the OOO threshold (tcp.analysis.out_of_order)"),
    (
        "tcp_lost_segment",
        pa.bool_(),
        "a gap before this segment: previous segment not captured (tcp.analysis.lost_segment)",
    ),
    ("tcp_ack_lost_segment", pa.bool_(), "ACKs data never seen (tcp.analysis.ack_lost_segment)"),
    ("tcp_dup_ack", pa.bool_(), "duplicate ACK (tcp.analysis.duplicate_ack)"),
    ("tcp_dup_ack_num", pa.int32(), "n-th duplicate of the same ACK (tcp.analysis.duplicate_ack_num); null if none"),
    ("tcp_dup_ack_frame", pa.int64(), "frame of the original ACK (tcp.analysis.duplicate_ack_frame); null if none"),
    ("tcp_zero_window", pa.bool_(), "receive window 0 (tcp.analysis.zero_window)"),
    ("tcp_zero_window_probe", pa.bool_(), "1-byte probe into a zero window (tcp.analysis.zero_window_probe)"),
    ("tcp_zero_window_probe_ack", pa.bool_(), "ACK of a zero-window probe (tcp.analysis.zero_window_probe_ack)"),
    ("tcp_keep_alive", pa.bool_(), "keep-alive (tcp.analysis.keep_alive)"),
    ("tcp_keep_alive_ack", pa.bool_(), "ACK of a keep-alive (tcp.analysis.keep_alive_ack)"),
    ("tcp_window_update", pa.bool_(), "pure window update (tcp.analysis.window_update)"),
    ("tcp_window_full", pa.bool_(), "segment fills the peer's advertised window (tcp.analysis.window_full)"),
    ("tcp_reused_ports", pa.bool_(), "SYN reusing the ports of an earlier conversation (tcp.analysis.reused_ports)"),
    ("tcp_acks_frame", pa.int64(), "frame whose segment this ACK acknowledges (tcp.analysis.acks_frame)"),
    ("tcp_ack_rtt", pa.float64(), "seconds from that segment to this ACK (tcp.analysis.ack_rtt); null if none"),
    (
        "tcp_initial_rtt",
        pa.float64(),
        "handshake RTT of the stream, SYN to the first pure ACK (tcp.analysis.initial_rtt); null until known",
    ),
    ("tcp_bytes_in_flight", pa.int64(), "unacknowledged bytes after this segment (tcp.analysis.bytes_in_flight)"),
    ("tcp_window_size", pa.int64(), "receive window scaled by the handshake's shift count (tcp.window_size)"),
]

ANALYSIS_SCHEMA = pa.schema(
    [pa.field(name, dtype, nullable=True, metadata={"doc": doc}) for name, dtype, doc in COLUMNS],
    metadata={"netqos.schema": "tcp_analysis", "netqos.schema_version": "1"},
)

# Input columns analyze() reads. Others may be absent.
REQUIRED_COLUMNS = ("frame_no", "ts_ns", "ip_src", "ip_dst", "src_port", "dst_port", "tcp_flags", "tcp_seq", "tcp_ack")
OPTIONAL_COLUMNS = (
    "tcp_window",
    "l4_payload_len",
    "tcp_opt_wscale",
    "tcp_opt_sack_blocks",
    "vlan_id",
    "vlan_inner_id",
    "ip_flags_mf",
    "ip_frag_offset",
)

_FLAG_COLUMNS: list[tuple[str, int]] = [
    ("tcp_retransmission", k.A_RETRANSMISSION | k.A_FAST_RETRANSMISSION | k.A_SPURIOUS_RETRANSMISSION),
    ("tcp_fast_retransmission", k.A_FAST_RETRANSMISSION),
    ("tcp_spurious_retransmission", k.A_SPURIOUS_RETRANSMISSION),
    ("tcp_out_of_order", k.A_OUT_OF_ORDER),
    ("tcp_lost_segment", k.A_LOST_PACKET),
    ("tcp_ack_lost_segment", k.A_ACK_LOST_PACKET),
    ("tcp_dup_ack", k.A_DUPLICATE_ACK),
    ("tcp_zero_window", k.A_ZERO_WINDOW),
    ("tcp_zero_window_probe", k.A_ZERO_WINDOW_PROBE),
    ("tcp_zero_window_probe_ack", k.A_ZERO_WINDOW_PROBE_ACK),
    ("tcp_keep_alive", k.A_KEEP_ALIVE),
    ("tcp_keep_alive_ack", k.A_KEEP_ALIVE_ACK),
    ("tcp_window_update", k.A_WINDOW_UPDATE),
    ("tcp_window_full", k.A_WINDOW_FULL),
    ("tcp_reused_ports", k.A_REUSED_PORTS),
]


def _sack(col: pa.ChunkedArray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if col is None or col.null_count == len(col):
        return np.zeros(n, np.int64), np.zeros(n, np.int64)
    lengths = np.asarray(pc.fill_null(pc.list_value_length(col), 0).to_numpy(), dtype=np.int64)
    values = np.asarray(pc.list_flatten(col).to_numpy(zero_copy_only=False), dtype=np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    count, total = k.sack_delivered(offsets, values)
    return count, total


def analyze(
    table: pa.Table,
    *,
    vlan_aware: bool = True,
    bytes_in_flight: bool = True,
    segments: np.ndarray | None = None,
    address_codes: tuple[np.ndarray, np.ndarray] | None = None,
) -> pa.Table:
    """Wireshark-style TCP analysis of one capture's decoded packets.

    `table` needs the columns REQUIRED_COLUMNS of the packets schema (OPTIONAL_COLUMNS are used when present);
    rows must be in capture (frame) order. When a `source_file` column is present, each file is analysed on
    its own (its rows must still be in frame order) and the column is carried to the output.

    `vlan_aware=True` keeps conversations on different VLANs apart (the same 5-tuple seen on VLAN 10 and on
    VLAN 42 are two streams). Wireshark 4.0 ignores VLAN ids, so `vlan_aware=False` reproduces tshark.
    `bytes_in_flight=False` skips tcp_bytes_in_flight (all null), which is the only part whose cost grows with
    the number of unacknowledged segments.
    `segments` (int64 per row) analyses each segment on its own, like separate files, in row order (frame_no
    must then increase in row order); the Spark jobs pass the flow index so that analysis restarts per flow.
    `address_codes`: integer codes of ip_src / ip_dst already computed by the caller (equal address = equal code,
    as the flow keys have them), which saves encoding the address strings twice.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"analyze() needs columns {missing}")
    n = table.num_rows

    flags_col = table.column("tcp_flags")
    seq_col = table.column("tcp_seq")
    tcp = _valid(flags_col, n) & _valid(seq_col, n) & _valid(table.column("tcp_ack"), n)
    for name in ("src_port", "dst_port", "ip_src", "ip_dst", "ts_ns"):
        tcp &= _valid(table.column(name), n)
    # IP fragments: Wireshark reassembles them and analyses the reassembled segment at the last fragment;
    # netqos analyses no fragment at all (documented difference).
    mf = _col(table, "ip_flags_mf")
    if mf is not None:
        tcp &= ~np.asarray(pc.fill_null(mf, False).to_numpy(zero_copy_only=False), dtype=np.bool_)
    tcp &= _ints(_col(table, "ip_frag_offset"), n, 0) == 0

    if address_codes is not None:
        src_code, dst_code = address_codes
    else:
        src_code, dst_code = _codes(table.column("ip_src"), table.column("ip_dst"))
    if vlan_aware:
        vlan = ((_ints(_col(table, "vlan_id"), n, -1) + 1) << 13) | (_ints(_col(table, "vlan_inner_id"), n, -1) + 1)
    else:
        vlan = np.zeros(n, np.int64)
    src_file = _col(table, SOURCE_FILE_COLUMN)
    if segments is not None:
        file_code = np.asarray(segments, dtype=np.int64)
    else:
        file_code = _codes(src_file)[0] if src_file is not None else np.zeros(n, np.int64)
    gid, dirn, n_groups = group_conversations(
        tcp, src_code, dst_code, _ints(table.column("src_port"), n, 0), _ints(table.column("dst_port"), n, 0),
        file_code, vlan,
    )  # fmt: skip

    # Rows are processed in array order; that is capture order as long as each file's frames increase.
    frame = _ints(table.column("frame_no"), n, 0)
    order = None
    if src_file is None or segments is not None:
        if np.any(np.diff(frame) < 0):
            order = np.argsort(frame, kind="stable")
    else:
        by_file = np.argsort(file_code, kind="stable")
        same_file = file_code[by_file][1:] == file_code[by_file][:-1]
        if np.any(same_file & (np.diff(frame[by_file]) < 0)):
            order = np.lexsort((frame, file_code))

    flags = _ints(flags_col, n, 0) & 0xFF
    seq = _ints(seq_col, n, 0)
    ack = _ints(table.column("tcp_ack"), n, 0)
    seglen = _ints(_col(table, "l4_payload_len"), n, 0)
    win = _ints(_col(table, "tcp_window"), n, 0)
    wscale = _ints(_col(table, "tcp_opt_wscale"), n, -1)
    ts = _ints(table.column("ts_ns"), n, 0)
    sack_n, sack_sum = _sack(_col(table, "tcp_opt_sack_blocks"), n)
    max_streams = int(n_groups) + int(np.count_nonzero(tcp & ((flags & 0x12) == 0x02)))

    arrays = [gid, dirn, frame, ts, flags, seq, ack, seglen, win, wscale, sack_n, sack_sum]
    if order is not None:
        arrays = [a[order] for a in arrays]
    gid_o, dirn_o, frame_o, ts_o, flags_o, seq_o, ack_o, seglen_o, win_o, wscale_o, sack_n_o, sack_sum_o = arrays
    out = k.analyze_kernel(
        gid_o, dirn_o, int(n_groups), max_streams, frame_o, ts_o, flags_o, seq_o, ack_o, seglen_o, win_o,
        wscale_o, sack_n_o, sack_sum_o, bytes_in_flight,
    )  # fmt: skip
    if order is not None:
        inverse = np.empty(n, np.int64)
        inverse[order] = np.arange(n)
        out = tuple(a[inverse] for a in out)
    stream, aflags, dupnum, dupframe, acked, rtt, first_rtt, bif, wsize = out
    return _build(table, tcp, stream, aflags, dupnum, dupframe, acked, rtt, first_rtt, bif, wsize, bytes_in_flight)


def _build(
    table: pa.Table,
    tcp: np.ndarray,
    stream: np.ndarray,
    aflags: np.ndarray,
    dupnum: np.ndarray,
    dupframe: np.ndarray,
    acked: np.ndarray,
    rtt: np.ndarray,
    first_rtt: np.ndarray,
    bif: np.ndarray,
    wsize: np.ndarray,
    with_bif: bool,
) -> pa.Table:
    cols: dict[str, pa.Array | pa.ChunkedArray] = {"frame_no": table.column("frame_no")}
    cols["tcp_stream"] = pa.array(stream, pa.int64(), mask=~tcp)
    for name, bits in _FLAG_COLUMNS:
        cols[name] = pa.array((aflags & bits) != 0, pa.bool_())
    has_dup = dupnum > 0
    cols["tcp_dup_ack_num"] = pa.array(dupnum, pa.int32(), mask=~has_dup)
    cols["tcp_dup_ack_frame"] = pa.array(dupframe, pa.int64(), mask=~has_dup)
    has_acked = acked >= 0
    cols["tcp_acks_frame"] = pa.array(acked, pa.int64(), mask=~has_acked)
    # Wireshark shows ack_rtt only when the delta is non-zero.
    cols["tcp_ack_rtt"] = pa.array(rtt / 1e9, pa.float64(), mask=~(has_acked & (rtt != 0)))
    cols["tcp_initial_rtt"] = pa.array(first_rtt / 1e9, pa.float64(), mask=first_rtt == -1)
    cols["tcp_bytes_in_flight"] = pa.array(bif, pa.int64(), mask=(bif <= 0) | (not with_bif))
    cols["tcp_window_size"] = pa.array(wsize, pa.int64(), mask=~tcp)
    schema = ANALYSIS_SCHEMA
    src_file = _col(table, SOURCE_FILE_COLUMN)
    if src_file is not None:
        cols[SOURCE_FILE_COLUMN] = src_file
        schema = schema.append(SOURCE_FILE_FIELD)
    return pa.Table.from_pydict(cols, schema=schema)
