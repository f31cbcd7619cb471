"""Numba kernels of the flow builder: cut (key, ts)-sorted rows into flows, then segmented statistics per flow.

Rows arrive sorted by (group id, timestamp); a flow is a contiguous run of rows. Scope index 0 = both
directions, 1 = src->dst (initiator to responder), 2 = dst->src.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

TH_FIN = 0x01
TH_SYN = 0x02
TH_RST = 0x04
TH_PSH = 0x08
TH_ACK = 0x10

# end_reason codes
END_EOF = 0
END_IDLE = 1
END_ACTIVE = 2
END_FIN = 3
END_RST = 4

# per-row analysis bits (input) -> per-flow counters
AN_RETRANS = 1
AN_OOO = 2
AN_DUPACK = 4
AN_ZEROWIN = 8
N_AN = 4

# TCP flag bit of each counter column: syn, ack, psh, rst, fin, urg, ece, cwr
FLAG_BITS = (0x02, 0x10, 0x08, 0x04, 0x01, 0x20, 0x40, 0x80)


@njit(cache=True, nogil=True)
def split_flows(
    gid: np.ndarray, dirn: np.ndarray, ts: np.ndarray, tcp_flags: np.ndarray, idle_ns: int, active_ns: int, close: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flow start offsets (n_flows + 1 entries, the last = len), end reason per flow and per-row direction.

    `tcp_flags` is -1 for non-TCP rows. Direction 0 = same as the flow's initiator: the source of its first
    row, or the destination when that row is a SYN/ACK (the SYN was not captured).
    """
    n = gid.shape[0]
    starts = np.empty(n + 1, np.int64)
    reason = np.empty(n + 1, np.int8)
    fdir = np.zeros(n, np.int8)
    nf = 0
    first_ts = 0
    last_ts = 0
    init = 0
    closed = 0
    fin0 = False
    fin1 = False
    for i in range(n):
        fl = tcp_flags[i]
        new = False
        why = END_EOF
        if i == 0 or gid[i] != gid[i - 1]:
            new = True
            why = END_EOF
        elif ts[i] - last_ts >= idle_ns:
            new = True
            why = END_IDLE
        elif ts[i] - first_ts >= active_ns:
            new = True
            why = END_ACTIVE
        elif closed != 0 and fl >= 0 and (fl & (TH_SYN | TH_ACK)) == TH_SYN:
            new = True
        if new:
            if nf > 0:
                reason[nf - 1] = closed if closed != 0 else why
            starts[nf] = i
            nf += 1
            first_ts = ts[i]
            init = dirn[i]
            if fl >= 0 and (fl & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK):
                init = 1 - dirn[i]
            closed = 0
            fin0 = False
            fin1 = False
        last_ts = ts[i]
        d = 0 if dirn[i] == init else 1
        fdir[i] = d
        if close and fl >= 0 and closed == 0:
            if fl & TH_RST:
                closed = END_RST
            elif fl & TH_FIN:
                if d == 0:
                    fin0 = True
                else:
                    fin1 = True
                if fin0 and fin1:
                    closed = END_FIN
    if nf > 0:
        reason[nf - 1] = closed if closed != 0 else END_EOF
    starts[nf] = n
    return starts[: nf + 1], reason[:nf], fdir


@njit(cache=True, nogil=True)
def _percentile_sorted(v: np.ndarray, q: float) -> float:
    """Linear-interpolation percentile of sorted values (NumPy's default method)."""
    pos = (v.shape[0] - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, v.shape[0] - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


@njit(cache=True, nogil=True)
def flow_stats(
    starts: np.ndarray,
    flow_order: np.ndarray,
    fdir: np.ndarray,
    ts: np.ndarray,
    size: np.ndarray,
    tcp_flags: np.ndarray,
    an_bits: np.ndarray,
    rtt: np.ndarray,
    jitter: np.ndarray,
    wlan_retry: np.ndarray,
    signal: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Per-flow statistics over the contiguous row runs [starts[g], starts[g+1]), output f = flow flow_order[f].

    size: bytes counted per row; tcp_flags: -1 = not TCP; an_bits: AN_* bits; rtt: seconds, NaN = none;
    jitter: running_jitter() per row (ns, NaN = none), a direction's last value is its flow's jitter;
    wlan_retry: -1 unknown, 0/1; signal: dBm, NaN = none.
    Column-major outputs (flow index last, so every output column is a contiguous slice): int64 (3, n_flows)
    counts/bytes/first/last ts, float64 (3, 4, n_flows) size and IAT (ns) min/mean/std/max, int64 (3, 8, n_flows)
    flag counts, int64 (3, 4, n_flows) analysis counts, float64 (5, n_flows) RTT count/min/mean/p95/max,
    float64 (2, n_flows) jitter ns per direction, float64 (4, n_flows) 802.11 frames/retries/mean/min signal.
    """
    nf = starts.shape[0] - 1
    pk = np.zeros((3, nf), np.int64)
    by = np.zeros((3, nf), np.int64)
    t0 = np.zeros((3, nf), np.int64)
    t1 = np.zeros((3, nf), np.int64)
    ps = np.full((3, 4, nf), np.nan)
    iat = np.full((3, 4, nf), np.nan)
    flags = np.zeros((3, 8, nf), np.int64)
    an = np.zeros((3, N_AN, nf), np.int64)
    rt = np.full((5, nf), np.nan)
    jit = np.full((2, nf), np.nan)
    wl = np.full((4, nf), np.nan)
    rbuf = np.empty(starts[-1] if nf > 0 else 0, np.float64)
    # Welford accumulators per scope (size mean/m2, iat count/mean/m2), allocated once and reset per flow
    smean = np.zeros(3)
    sm2 = np.zeros(3)
    smin = np.zeros(3)
    smax = np.zeros(3)
    icnt = np.zeros(3, np.int64)
    imean = np.zeros(3)
    im2 = np.zeros(3)
    imin = np.zeros(3)
    imax = np.zeros(3)
    prev = np.zeros(3, np.int64)
    for f in range(nf):
        s = starts[flow_order[f]]
        e = starts[flow_order[f] + 1]
        for sc in range(3):
            smean[sc] = 0.0
            sm2[sc] = 0.0
            smin[sc] = np.inf
            smax[sc] = -np.inf
            icnt[sc] = 0
            imean[sc] = 0.0
            im2[sc] = 0.0
            imin[sc] = np.inf
            imax[sc] = -np.inf
            prev[sc] = -1
        nr = 0
        wframes = 0
        wretry = 0
        sigc = 0
        sigsum = 0.0
        sigmin = np.inf
        for i in range(s, e):
            d = fdir[i] + 1
            x = float(size[i])
            for sc in (0, d):
                if pk[sc, f] == 0:
                    t0[sc, f] = ts[i]
                pk[sc, f] += 1
                by[sc, f] += size[i]
                t1[sc, f] = ts[i]
                c = pk[sc, f]
                delta = x - smean[sc]
                smean[sc] += delta / c
                sm2[sc] += delta * (x - smean[sc])
                smin[sc] = min(smin[sc], x)
                smax[sc] = max(smax[sc], x)
                if prev[sc] >= 0:
                    g = float(ts[i] - prev[sc])
                    icnt[sc] += 1
                    dg = g - imean[sc]
                    imean[sc] += dg / icnt[sc]
                    im2[sc] += dg * (g - imean[sc])
                    imin[sc] = min(imin[sc], g)
                    imax[sc] = max(imax[sc], g)
                prev[sc] = ts[i]
                fl = tcp_flags[i]
                if fl >= 0:
                    for b in range(8):
                        if fl & FLAG_BITS[b]:
                            flags[sc, b, f] += 1
                ab = an_bits[i]
                for b in range(N_AN):
                    if ab & (1 << b):
                        an[sc, b, f] += 1
            if not math.isnan(rtt[i]):
                rbuf[nr] = rtt[i]
                nr += 1
            if not math.isnan(jitter[i]):
                jit[fdir[i], f] = jitter[i]
            if wlan_retry[i] >= 0:
                wframes += 1
                wretry += wlan_retry[i]
            if not math.isnan(signal[i]):
                sigc += 1
                sigsum += signal[i]
                sigmin = min(sigmin, signal[i])
        for sc in range(3):
            if pk[sc, f] > 0:
                ps[sc, 0, f] = smin[sc]
                ps[sc, 1, f] = smean[sc]
                ps[sc, 3, f] = smax[sc]
                if pk[sc, f] > 1:
                    ps[sc, 2, f] = math.sqrt(sm2[sc] / (pk[sc, f] - 1))
            if icnt[sc] > 0:
                iat[sc, 0, f] = imin[sc]
                iat[sc, 1, f] = imean[sc]
                iat[sc, 3, f] = imax[sc]
                if icnt[sc] > 1:
                    iat[sc, 2, f] = math.sqrt(im2[sc] / (icnt[sc] - 1))
        if nr > 0:
            v = np.sort(rbuf[:nr])
            rt[0, f] = nr
            rt[1, f] = v[0]
            rt[2, f] = v.mean()
            rt[3, f] = _percentile_sorted(v, 95.0)
            rt[4, f] = v[nr - 1]
        if wframes > 0 or sigc > 0:
            wl[0, f] = wframes
            wl[1, f] = wretry
            if sigc > 0:
                wl[2, f] = sigsum / sigc
                wl[3, f] = sigmin
    return pk, by, t0, t1, ps, iat, flags, an, rt, jit, wl


@njit(cache=True, nogil=True)
def running_jitter(starts: np.ndarray, fdir: np.ndarray, ts: np.ndarray, jitter_row: np.ndarray) -> np.ndarray:
    """Per position of the flow order: the RFC 3550 jitter estimate (ns) of the row's flow direction just after
    that row, as flow_stats computes it (nominal spacing = median inter-arrival of the direction); NaN before the
    direction's third packet and for flows that get no jitter. A direction's last value equals flow_stats'."""
    n = ts.shape[0]
    out = np.full(n, np.nan)
    ibuf = np.empty(n, np.float64)
    for f in range(starts.shape[0] - 1):
        s = starts[f]
        e = starts[f + 1]
        if not jitter_row[s]:
            continue
        for dd in range(2):
            ni = 0
            last = -1
            for i in range(s, e):
                if fdir[i] == dd:
                    if last >= 0:
                        ibuf[ni] = float(ts[i] - last)
                        ni += 1
                    last = ts[i]
            if ni < 2:
                continue
            nominal = np.median(ibuf[:ni])
            j = 0.0
            q = 0
            seen = 0
            for i in range(s, e):
                if fdir[i] == dd:
                    seen += 1
                    if seen >= 2:
                        j += (abs(ibuf[q] - nominal) - j) / 16.0
                        q += 1
                        if q >= 2:
                            out[i] = j
    return out


@njit(cache=True, nogil=True)
def fnv1a_strings(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    """64-bit FNV-1a of each string of an Arrow string array (offsets, UTF-8 bytes), finished with splitmix64.

    Depends only on the bytes, so ids built from it are the same on every run and machine.
    """
    n = offsets.shape[0] - 1
    out = np.empty(n, np.uint64)
    prime = np.uint64(0x100000001B3)
    for i in range(n):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[j])) * prime
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        out[i] = h ^ (h >> np.uint64(31))
    return out
