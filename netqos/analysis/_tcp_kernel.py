"""Numba kernels of the TCP analysis: the per-(stream, direction) state machine (grouping is in _grouping.py).

The state machine follows Wireshark's `tcp_analyze_sequence_number()` (epan/dissectors/packet-tcp.c, 4.0)
and the parts of `dissect_tcp()` around it that feed it (port-reuse detection, initial RTT, window-scale
bookkeeping, SACK blocks for bytes-in-flight). Sequence numbers are raw 32-bit values held in int64 and
compared modulo 2**32 like Wireshark's GT_SEQ/LT_SEQ/LE_SEQ; like Wireshark, 0 means "not seen yet" for
nextseq / lastack / maxseqtobeacked.

Everything here is plain arrays: per-direction state is indexed by `2 * stream + direction`, unacked
segments live in one pool (one slot per frame) linked per direction, newest first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Analysis flag bits (same values as Wireshark's TCP_A_* constants).
A_RETRANSMISSION = 0x0001
A_LOST_PACKET = 0x0002
A_ACK_LOST_PACKET = 0x0004
A_KEEP_ALIVE = 0x0008
A_DUPLICATE_ACK = 0x0010
A_ZERO_WINDOW = 0x0020
A_ZERO_WINDOW_PROBE = 0x0040
A_ZERO_WINDOW_PROBE_ACK = 0x0080
A_KEEP_ALIVE_ACK = 0x0100
A_OUT_OF_ORDER = 0x0200
A_FAST_RETRANSMISSION = 0x0400
A_WINDOW_UPDATE = 0x0800
A_WINDOW_FULL = 0x1000
A_REUSED_PORTS = 0x2000
A_SPURIOUS_RETRANSMISSION = 0x4000

TH_FIN = 0x01
TH_SYN = 0x02
TH_RST = 0x04
TH_ACK = 0x10

MAX_UNACKED_SEGMENTS = 10000  # Wireshark's TCP_MAX_UNACKED_SEGMENTS
MAX_SACK_RANGES = 3  # SACK blocks of one segment kept for bytes-in-flight (Wireshark stores at most 3)
FAST_RETRANS_WINDOW_NS = 20_000_000  # a fast retransmission comes within 20 ms of the dup ACK
DEFAULT_OOO_THRESHOLD_NS = 3_000_000  # out-of-order threshold when the initial RTT is unknown
BIF_LIMIT = 2_000_000_000

# Columns of the per-(stream, direction) state matrix: one row per direction keeps a packet's state local.
F_BASE_SEQ = 0  # -1 = not set yet
F_NEXTSEQ = 1
F_NEXTSEQTIME = 2
F_LASTACK = 3
F_LASTACKTIME = 4
F_WINDOW = 5
F_WIN_SCALE = 6
F_IS_FIRST_ACK = 7
F_DUPACKNUM = 8
F_LASTNONDUPACK = 9
F_MAXSEQTOBEACKED = 10
F_LASTSEGFLAGS = 11
F_VALID_BIF = 12
F_HEAD = 13
F_SEGCOUNT = 14
F_DIR_SACK_SUM = 15  # bytes SACKed by the last segment; -1 = no SACK
F_COUNT = 16  # 128-byte rows

U32 = 0xFFFFFFFF
_SIGN = -9223372036854775808  # flips int64 <-> uint64 ordering


@njit(cache=True, nogil=True, inline="always")
def _s32(x: int) -> int:
    """x modulo 2**32 as a signed 32-bit value."""
    d = x & 0xFFFFFFFF
    if d >= 0x80000000:
        return d - 0x100000000
    return d


@njit(cache=True, nogil=True, inline="always")
def _gt_seq(a: int, b: int) -> bool:
    return _s32(b - a) < 0


@njit(cache=True, nogil=True, inline="always")
def _lt_seq(a: int, b: int) -> bool:
    return _s32(a - b) < 0


@njit(cache=True, nogil=True, inline="always")
def _le_seq(a: int, b: int) -> bool:
    return _s32(a - b) <= 0


@njit(cache=True, nogil=True, inline="always")
def _ult(a: int, b: int) -> bool:
    """a < b with both int64 read as uint64 (Wireshark keeps time deltas in guint64)."""
    return (a ^ _SIGN) < (b ^ _SIGN)


@njit(cache=True, nogil=True)
def sack_delivered(offsets: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: number of SACK blocks kept (<= 3) and the bytes they cover (sum of right - left, mod 2**32)."""
    n = offsets.shape[0] - 1
    count = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    for i in range(n):
        blocks = (offsets[i + 1] - offsets[i]) // 2
        if blocks > MAX_SACK_RANGES:
            blocks = MAX_SACK_RANGES
        s = 0
        for b in range(blocks):
            left = values[offsets[i] + 2 * b]
            right = values[offsets[i] + 2 * b + 1]
            s = (s + (right - left)) & U32
        count[i] = blocks
        total[i] = s
    return count, total


@njit(cache=True, nogil=True)
def analyze_kernel(
    gid: np.ndarray,
    dirn: np.ndarray,
    n_groups: int,
    max_streams: int,
    frame: np.ndarray,
    ts: np.ndarray,
    flags: np.ndarray,
    seq: np.ndarray,
    ack: np.ndarray,
    seglen: np.ndarray,
    win: np.ndarray,
    wscale: np.ndarray,
    sack_n: np.ndarray,
    sack_sum: np.ndarray,
    track_bif: bool,
) -> tuple[np.ndarray, ...]:
    """One pass over the rows in capture order. Rows with gid < 0 are not TCP and are skipped.

    Returns per row: stream (-1 = none), analysis flags, dup-ack number (0 = none), dup-ack original frame,
    acked frame (-1 = none), ACK RTT ns, initial RTT ns (-1 = unknown), bytes in flight (-1 = none) and
    calculated window size (-1 = none).
    """
    n = gid.shape[0]
    o_stream = np.full(n, -1, np.int64)
    o_flags = np.zeros(n, np.int32)
    o_dupnum = np.zeros(n, np.int32)
    o_dupframe = np.full(n, -1, np.int64)
    o_acked = np.full(n, -1, np.int64)
    o_rtt = np.zeros(n, np.int64)
    o_first_rtt = np.full(n, -1, np.int64)
    o_bif = np.full(n, -1, np.int64)
    o_win = np.full(n, -1, np.int64)

    # per conversation key: the stream it currently maps to
    cur_stream = np.full(n_groups, -1, np.int64)
    # per stream
    mru_syn = np.zeros(max_streams, np.int64)
    has_mru_syn = np.zeros(max_streams, np.bool_)
    first_rtt = np.zeros(max_streams, np.int64)
    # per (stream, direction)
    m = 2 * max_streams
    D = np.zeros((m, F_COUNT), np.int64)
    D[:, F_WINDOW] = U32
    D[:, F_WIN_SCALE] = -1
    D[:, F_VALID_BIF] = 1
    D[:, F_HEAD] = -1
    D[:, F_BASE_SEQ] = -1
    D[:, F_DIR_SACK_SUM] = -1
    # unacked segment pool: slot i belongs to row i
    seg_seq = np.empty(n, np.int64)
    seg_nextseq = np.empty(n, np.int64)
    seg_frame = np.empty(n, np.int64)
    seg_ts = np.empty(n, np.int64)
    seg_link = np.empty(n, np.int64)

    streams = 0
    for i in range(n):
        g = gid[i]
        if g < 0:
            continue
        th = flags[i]
        sq = seq[i]
        ak = ack[i]
        ln = seglen[i]
        wn = win[i]
        now = ts[i]
        fr = frame[i]
        d = dirn[i]
        ta = 0

        s = cur_stream[g]
        if s < 0:
            s = streams
            streams += 1
            cur_stream[g] = s
        f = 2 * s + d
        r = 2 * s + 1 - d

        # --- dissect_tcp(): port reuse -------------------------------------------------------------------
        if (th & (TH_SYN | TH_ACK)) == TH_SYN and D[f, F_BASE_SEQ] >= 0:
            if sq != D[f, F_BASE_SEQ]:
                s = streams  # a new SYN with another ISN: a new conversation on the same ports
                streams += 1
                cur_stream[g] = s
                f = 2 * s + d
                r = 2 * s + 1 - d
                ta |= A_REUSED_PORTS
            else:
                # retransmitted SYN: undo what a RST may have moved (tshark 4.0 does not flag reused ports here)
                D[f, F_NEXTSEQ] = D[f, F_MAXSEQTOBEACKED]
        if (th & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) and D[f, F_BASE_SEQ] >= 0 and sq != D[f, F_BASE_SEQ]:
            D[f, F_BASE_SEQ] = sq
            ta |= A_REUSED_PORTS
        o_stream[i] = s
        D[f, F_DIR_SACK_SUM] = -1

        # --- tcp_analyze_sequence_number() ---------------------------------------------------------------
        if D[f, F_BASE_SEQ] < 0:
            if th & TH_SYN:
                D[f, F_BASE_SEQ] = sq
            else:
                D[f, F_BASE_SEQ] = (sq - 1) & U32
        if D[r, F_BASE_SEQ] < 0 and (th & TH_ACK):
            D[r, F_BASE_SEQ] = (ak - 1) & U32
        if th & TH_ACK:
            D[r, F_VALID_BIF] = 1

        no_sfr = (th & (TH_SYN | TH_FIN | TH_RST)) == 0
        if ln == 1 and sq == D[f, F_NEXTSEQ] and D[r, F_WINDOW] == 0:
            ta |= A_ZERO_WINDOW_PROBE
        else:
            if wn == 0 and no_sfr:
                ta |= A_ZERO_WINDOW
            if D[f, F_NEXTSEQ] != 0 and _gt_seq(sq, D[f, F_NEXTSEQ]) and (th & TH_RST) == 0:
                ta |= A_LOST_PACKET
                D[f, F_VALID_BIF] = 0
            if ln <= 1 and sq == ((D[f, F_NEXTSEQ] - 1) & U32) and no_sfr:
                ta |= A_KEEP_ALIVE
            same = ln == 0 and sq == D[f, F_NEXTSEQ] and ak == D[f, F_LASTACK] and no_sfr
            if same and wn != 0 and wn != D[f, F_WINDOW]:
                ta |= A_WINDOW_UPDATE
            if ln > 0 and D[r, F_WIN_SCALE] != -1 and no_sfr:
                shift = 0
                if D[r, F_IS_FIRST_ACK] == 0 and D[r, F_WIN_SCALE] != -2:
                    shift = D[r, F_WIN_SCALE]
                edge = (D[r, F_LASTACK] + ((D[r, F_WINDOW] << shift) & U32)) & U32
                if ((sq + ln) & U32) == edge:
                    ta |= A_WINDOW_FULL
            if same and wn != 0 and wn == D[f, F_WINDOW] and (D[r, F_LASTSEGFLAGS] & A_KEEP_ALIVE) != 0:
                ta |= A_KEEP_ALIVE_ACK
            elif same and wn == 0 and wn == D[f, F_WINDOW] and (D[r, F_LASTSEGFLAGS] & A_ZERO_WINDOW_PROBE) != 0:
                ta |= A_ZERO_WINDOW_PROBE_ACK
            elif same and wn != 0 and wn == D[f, F_WINDOW]:
                D[f, F_DUPACKNUM] += 1
                ta |= A_DUPLICATE_ACK
                o_dupnum[i] = D[f, F_DUPACKNUM]
                o_dupframe[i] = D[f, F_LASTNONDUPACK]

        # finished_fwd:
        if ak != D[f, F_LASTACK]:
            D[f, F_LASTNONDUPACK] = fr
            D[f, F_DUPACKNUM] = 0

        # ACKed unseen segment: reported once, then 'max seq to be acked' jumps to what was seen (4.0 logic)
        if D[r, F_MAXSEQTOBEACKED] != 0 and _gt_seq(ak, D[r, F_MAXSEQTOBEACKED]) and (th & TH_ACK) != 0:
            ta |= A_ACK_LOST_PACKET
            D[r, F_MAXSEQTOBEACKED] = D[r, F_NEXTSEQ]

        syn_fin = (th & (TH_SYN | TH_FIN)) != 0
        if (ln > 0 or syn_fin) and (ta & A_KEEP_ALIVE) == 0:
            not_advanced = D[f, F_NEXTSEQ] != 0 and _lt_seq(sq, D[f, F_NEXTSEQ])
            if ln > 1 and ((D[f, F_NEXTSEQ] - 1) & U32) == sq:
                not_advanced = False
            if ln > 0 and D[r, F_LASTACK] != 0 and _le_seq((sq + ln) & U32, D[r, F_LASTACK]):
                ta |= A_SPURIOUS_RETRANSMISSION
            elif (
                not_advanced
                and D[r, F_DUPACKNUM] >= 2
                and D[r, F_LASTACK] == sq
                and _ult(now - D[r, F_LASTACKTIME], FAST_RETRANS_WINDOW_NS)
            ):
                ta |= A_FAST_RETRANSMISSION
            else:
                thres = first_rtt[s]
                if thres == 0:
                    thres = DEFAULT_OOO_THRESHOLD_NS
                end = (sq + ln + (1 if syn_fin else 0)) & U32
                if not_advanced and _ult(now - D[f, F_NEXTSEQTIME], thres) and D[f, F_NEXTSEQ] != end:
                    ta |= A_OUT_OF_ORDER
                elif not_advanced:
                    ta |= A_RETRANSMISSION

        # finished_checking_retransmission_type:
        nxt = (sq + ln) & U32
        if (ln > 0 or syn_fin) and D[f, F_SEGCOUNT] < MAX_UNACKED_SEGMENTS:
            if syn_fin:
                nxt = (nxt + 1) & U32
            seg_seq[i] = sq
            seg_nextseq[i] = nxt
            seg_frame[i] = fr
            seg_ts[i] = now
            seg_link[i] = D[f, F_HEAD]
            D[f, F_HEAD] = i
            D[f, F_SEGCOUNT] += 1
        zwp = (ta & A_ZERO_WINDOW_PROBE) != 0
        if (_gt_seq(nxt, D[f, F_NEXTSEQ]) or D[f, F_NEXTSEQ] == 0) and not zwp:
            D[f, F_NEXTSEQ] = nxt
            D[f, F_NEXTSEQTIME] = now
        if (sq == D[f, F_MAXSEQTOBEACKED] or D[f, F_MAXSEQTOBEACKED] == 0) and not zwp:
            D[f, F_MAXSEQTOBEACKED] = D[f, F_NEXTSEQ]
        D[f, F_WINDOW] = wn
        D[f, F_LASTACK] = ak
        D[f, F_LASTACKTIME] = now
        D[f, F_LASTSEGFLAGS] = ta

        # segments of the other direction this ACK covers (no ACK-flag check, like Wireshark)
        p = D[r, F_HEAD]
        prev = -1
        while p >= 0:
            nx = seg_link[p]
            if ak == seg_nextseq[p]:
                o_acked[i] = seg_frame[p]
                o_rtt[i] = now - seg_ts[p]
            elif _gt_seq(ak, seg_seq[p]) and _le_seq(ak, seg_nextseq[p]):
                seg_seq[p] = ak  # partly acknowledged: keep the rest
                prev = p
                p = nx
                continue
            elif _gt_seq(seg_nextseq[p], ak):
                prev = p
                p = nx
                continue
            if prev < 0:
                D[r, F_HEAD] = nx
            else:
                seg_link[prev] = nx
            D[r, F_SEGCOUNT] -= 1
            p = nx

        if track_bif and ln != 0 and D[f, F_HEAD] >= 0 and D[f, F_VALID_BIF] != 0:
            base = D[f, F_BASE_SEQ]
            p = D[f, F_HEAD]
            first = (seg_seq[p] - base) & U32
            last = (seg_nextseq[p] - base) & U32
            while p >= 0:
                e = (seg_nextseq[p] - base) & U32
                if e > last:
                    last = e
                b0 = (seg_seq[p] - base) & U32
                if b0 < first:
                    first = b0
                p = seg_link[p]
            in_flight = (last - first) & U32
            if D[r, F_DIR_SACK_SUM] >= 0:
                in_flight = (in_flight - D[r, F_DIR_SACK_SUM]) & U32
            if 0 < in_flight < BIF_LIMIT:
                if syn_fin:
                    in_flight -= 1
                o_bif[i] = in_flight

        # --- rest of dissect_tcp() for this frame ----------------------------------------------------------
        if (th & TH_SYN) == 0:
            if D[f, F_WIN_SCALE] >= 0:
                o_win[i] = (wn << D[f, F_WIN_SCALE]) & U32
            else:
                o_win[i] = wn
        else:
            o_win[i] = wn
        if th & TH_SYN:
            if (th & TH_ACK) == 0:
                mru_syn[s] = now
                has_mru_syn[s] = True
            D[f, F_IS_FIRST_ACK] = 1
        if (th & (TH_SYN | TH_ACK)) == TH_ACK:
            if has_mru_syn[s] and first_rtt[s] == 0:
                first_rtt[s] = now - mru_syn[s]
            D[f, F_IS_FIRST_ACK] = 0
        ws = wscale[i]
        if ws >= 0:
            D[f, F_WIN_SCALE] = ws if ws <= 14 else 14
        if th & TH_SYN:
            if D[f, F_WIN_SCALE] == -1:
                D[f, F_WIN_SCALE] = -2
                D[r, F_WIN_SCALE] = -2
            elif (th & TH_ACK) and D[r, F_WIN_SCALE] == -2:
                D[f, F_WIN_SCALE] = -2
        D[f, F_DIR_SACK_SUM] = sack_sum[i] if sack_n[i] > 0 else -1

        o_flags[i] = ta
        if first_rtt[s] != 0:
            o_first_rtt[i] = first_rtt[s]
    return o_stream, o_flags, o_dupnum, o_dupframe, o_acked, o_rtt, o_first_rtt, o_bif, o_win
