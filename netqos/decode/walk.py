"""The structural walk: for every record, find where each header starts (or that it is absent/truncated).

This is the only per-packet loop in the decoder, compiled with Numba. It does the branchy,
variable-length part (link-type dispatch, VLAN tags, IPv4 options, IPv6 extension chains, TCP options,
radiotap field alignment, 802.11 header shapes) and writes offsets into one int32 matrix. Fixed-offset
fields are then gathered column-wise with NumPy from the header tables in headers.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from netqos.decode import linktypes as lt
from netqos.decode.schema import DecodeStatus as S

# Columns of the walk matrix. *_OFF are byte offsets into the chunk buffer (-1 = absent); the rest are values.
W_STATUS = 0
W_SRC_MAC = 1
W_DST_MAC = 2
W_ETH_TYPE = 3
W_VLAN1 = 4
W_VLAN2 = 5
W_L3 = 6
W_IP_VER = 7
W_IP_HDR_LEN = 8
W_IP_PROTO = 9
W_IP6_FRAG = 10
W_IP6_EXT = 11
W_IP_PAYLOAD = 12  # bytes after all IP headers, per the IP length fields
W_L4 = 13
W_TCP_HDR_LEN = 14
W_OPT_MSS = 15
W_OPT_WS = 16
W_OPT_SACKPERM = 17
W_OPT_SACK = 18
W_OPT_SACK_N = 19
W_OPT_TS = 20
W_RT_TSFT = 21
W_RT_FLAGS = 22
W_RT_RATE = 23
W_RT_CHAN = 24
W_RT_SIG = 25
W_RT_NOISE = 26
W_RT_MCS = 27
W_WLAN = 28
W_WLAN_NADDR = 29
W_WLAN_SEQ = 30
W_WLAN_QOS = 31
W_L4_END = 32  # end of captured bytes usable by L4 (excludes an 802.11 FCS)
W_COLUMNS = 33

# Radiotap fields before MCS (bit 19): (size, alignment). Fields are aligned to their natural boundary.
_RT_SIZE = np.array([8, 1, 1, 4, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 8, 3], dtype=np.int64)
_RT_ALIGN = np.array([8, 1, 1, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 4, 1], dtype=np.int64)
# Which walk column receives each radiotap field's offset (-1 = skipped).
_RT_COLUMN = np.array(
    [W_RT_TSFT, W_RT_FLAGS, W_RT_RATE, W_RT_CHAN, -1, W_RT_SIG, W_RT_NOISE, -1, -1, -1,
     -1, -1, -1, -1, -1, -1, -1, -1, -1, W_RT_MCS],
    dtype=np.int64,
)  # fmt: skip

_ETHERTYPE_VLAN = lt.ETHERTYPE_VLAN
_ETHERTYPE_QINQ = lt.ETHERTYPE_QINQ
_ETHERTYPE_QINQ_OLD = lt.ETHERTYPE_QINQ_OLD
_IPV6_EXT_TABLE = lt.IPV6_EXT_TABLE
_UNKNOWN_PAYLOAD = 1 << 30  # IP payload of a first fragment: the datagram's length is not known yet


@njit(cache=True, nogil=True, inline="always")
def _be16(buf: np.ndarray, i: int) -> int:
    return (np.int64(buf[i]) << 8) | np.int64(buf[i + 1])


@njit(cache=True, nogil=True, inline="always")
def _le16(buf: np.ndarray, i: int) -> int:
    return (np.int64(buf[i + 1]) << 8) | np.int64(buf[i])


@njit(cache=True, nogil=True, inline="always")
def _le32(buf: np.ndarray, i: int) -> int:
    return (np.int64(buf[i + 3]) << 24) | (np.int64(buf[i + 2]) << 16) | (np.int64(buf[i + 1]) << 8) | buf[i]


@njit(cache=True, nogil=True, inline="always")
def _be32(buf: np.ndarray, i: int) -> int:
    return (np.int64(buf[i]) << 24) | (np.int64(buf[i + 1]) << 16) | (np.int64(buf[i + 2]) << 8) | buf[i + 3]


@njit(cache=True, nogil=True)
def _ethertype_chain(buf: np.ndarray, out: np.ndarray, p: int, pos: int, end: int, et: int) -> tuple[int, int]:
    """Follow VLAN tags, LLC/SNAP and PPPoE from `pos`. Returns (ip_version 0/4/6, l3 offset) or status<0."""
    n_vlan = 0
    for _ in range(8):
        if et == _ETHERTYPE_VLAN or et == _ETHERTYPE_QINQ or et == _ETHERTYPE_QINQ_OLD:
            if pos + 4 > end:
                out[p, W_STATUS] = S.TRUNC_VLAN
                return -1, pos
            if n_vlan == 0:
                out[p, W_VLAN1] = pos
            elif n_vlan == 1:
                out[p, W_VLAN2] = pos
            n_vlan += 1
            et = _be16(buf, pos + 2)
            pos += 4
        elif et < 0x0600:
            # 802.3 length field: only LLC/SNAP carries an EtherType we can follow.
            if pos + 3 > end:
                out[p, W_STATUS] = S.TRUNC_LLC
                return -1, pos
            if buf[pos] == 0xAA and buf[pos + 1] == 0xAA and buf[pos + 2] == 0x03:
                if pos + 8 > end:
                    out[p, W_STATUS] = S.TRUNC_LLC
                    return -1, pos
                et = _be16(buf, pos + 6)
                pos += 8
            else:
                return 0, pos
        else:
            break
    out[p, W_ETH_TYPE] = et
    if et == lt.ETHERTYPE_PPPOE_SESSION:
        if pos + 8 > end:
            out[p, W_STATUS] = S.TRUNC_LINK
            return -1, pos
        ppp = _be16(buf, pos + 6)
        pos += 8
        if ppp == 0x0021:
            return 4, pos
        if ppp == 0x0057:
            return 6, pos
        return 0, pos
    if et == lt.ETHERTYPE_IPV4:
        return 4, pos
    if et == lt.ETHERTYPE_IPV6:
        return 6, pos
    return 0, pos


@njit(cache=True, nogil=True)
def _radiotap(buf: np.ndarray, out: np.ndarray, p: int, pos: int, end: int) -> tuple[int, int]:
    """Parse a radiotap header at pos. Returns (header length, fcs bytes at frame end) or (-1, 0)."""
    if pos + 8 > end:
        out[p, W_STATUS] = S.TRUNC_RADIOTAP
        return -1, 0
    rt_len = _le16(buf, pos + 2)
    if buf[pos] != 0 or rt_len < 8:
        out[p, W_STATUS] = S.BAD_RADIOTAP
        return -1, 0
    if pos + rt_len > end:
        out[p, W_STATUS] = S.TRUNC_RADIOTAP
        return -1, 0
    present = _le32(buf, pos + 4)
    # Skip the extended presence words; only the first namespace's standard fields are read.
    q = pos + 4
    word = present
    while word & 0x80000000:
        q += 4
        if q + 4 > pos + rt_len:
            out[p, W_STATUS] = S.BAD_RADIOTAP
            return -1, 0
        word = _le32(buf, q)
    f = q + 4
    fcs = 0
    for bit in range(20):
        if not (present >> bit) & 1:
            continue
        align = _RT_ALIGN[bit]
        rel = f - pos
        if rel % align:
            f += align - rel % align
        if f + _RT_SIZE[bit] > pos + rt_len:
            out[p, W_STATUS] = S.BAD_RADIOTAP
            return -1, 0
        col = _RT_COLUMN[bit]
        if col >= 0:
            out[p, col] = f
        if bit == 1 and buf[f] & 0x10:
            fcs = 4
        f += _RT_SIZE[bit]
    return rt_len, fcs


@njit(cache=True, nogil=True)
def _wlan(buf: np.ndarray, out: np.ndarray, p: int, pos: int, end: int) -> tuple[int, int]:
    """Parse an 802.11 MAC header. Returns (ip_version 0/4/6 or -1, l3 offset)."""
    if pos + 10 > end:
        out[p, W_STATUS] = S.TRUNC_WLAN
        return -1, pos
    fc0 = buf[pos]
    fc1 = buf[pos + 1]
    ftype = (fc0 >> 2) & 3
    subtype = fc0 >> 4
    out[p, W_WLAN] = pos
    if ftype == 1:
        # Control frames: CTS/ACK carry one address, the others (RTS, PS-Poll, BAR, BA, CF-End...) two.
        naddr = 1 if (subtype == 12 or subtype == 13 or subtype == 7) else 2
        if pos + 4 + 6 * naddr > end:
            out[p, W_WLAN_NADDR] = 1
            out[p, W_STATUS] = S.TRUNC_WLAN
            return -1, pos
        out[p, W_WLAN_NADDR] = naddr
        return 0, pos
    if ftype == 3:
        out[p, W_WLAN_NADDR] = 1
        return 0, pos
    hdr = 24
    naddr = 3
    if ftype == 2 and (fc1 & 0x03) == 0x03:
        naddr = 4
        hdr = 30
    if pos + hdr > end:
        out[p, W_WLAN_NADDR] = 1 + min(2, (end - pos - 10) // 6)
        out[p, W_STATUS] = S.TRUNC_WLAN
        return -1, pos
    out[p, W_WLAN_NADDR] = naddr
    out[p, W_WLAN_SEQ] = pos + 22
    qos = ftype == 2 and (subtype & 0x08) != 0
    if qos:
        if pos + hdr + 2 > end:
            out[p, W_STATUS] = S.TRUNC_WLAN
            return -1, pos
        out[p, W_WLAN_QOS] = pos + hdr
        hdr += 2
    if (fc1 & 0x80) and (qos or ftype == 0):
        hdr += 4  # HT control field
    if ftype != 2 or (subtype & 0x04) or (fc1 & 0x40):
        # Management frames, null-data frames and protected (encrypted) bodies carry no IP we can read.
        return 0, pos + hdr
    if qos and (buf[out[p, W_WLAN_QOS]] & 0x80):
        return 0, pos + hdr  # A-MSDU aggregate
    return _ethertype_chain(buf, out, p, pos + hdr, end, 0)


@njit(cache=True, nogil=True)
def _tcp_options(buf: np.ndarray, out: np.ndarray, p: int, i: int, end: int) -> None:
    while i < end:
        kind = buf[i]
        if kind == 0:
            return
        if kind == 1:
            i += 1
            continue
        if i + 1 >= end:
            out[p, W_STATUS] = S.BAD_TCP_OPTIONS
            return
        ln = np.int64(buf[i + 1])
        if ln < 2 or i + ln > end:
            out[p, W_STATUS] = S.BAD_TCP_OPTIONS
            return
        if kind == 2 and ln == 4:
            out[p, W_OPT_MSS] = i + 2
        elif kind == 3 and ln == 3:
            out[p, W_OPT_WS] = i + 2
        elif kind == 4 and ln == 2:
            out[p, W_OPT_SACKPERM] = 1
        elif kind == 5 and ln >= 10 and (ln - 2) % 8 == 0:
            out[p, W_OPT_SACK] = i + 2
            out[p, W_OPT_SACK_N] = (ln - 2) // 8
        elif kind == 8 and ln == 10:
            out[p, W_OPT_TS] = i + 2
        i += ln


@njit(cache=True, nogil=True)
def _ipv4(buf: np.ndarray, out: np.ndarray, p: int, pos: int, end: int) -> tuple[int, int, int]:
    """Returns (l4 protocol or -1, l4 offset, l4 payload bytes per the IP header)."""
    if pos + 20 > end:
        out[p, W_STATUS] = S.TRUNC_IPV4
        return -1, 0, 0
    if buf[pos] >> 4 != 4:
        out[p, W_STATUS] = S.BAD_IP_VERSION
        return -1, 0, 0
    ihl = np.int64(buf[pos] & 0x0F) * 4
    if ihl < 20:
        out[p, W_STATUS] = S.BAD_IPV4
        return -1, 0, 0
    out[p, W_L3] = pos
    out[p, W_IP_VER] = 4
    out[p, W_IP_HDR_LEN] = ihl
    proto = np.int64(buf[pos + 9])
    out[p, W_IP_PROTO] = proto
    if pos + ihl > end:
        out[p, W_STATUS] = S.TRUNC_IPV4
        return -1, 0, 0
    total = _be16(buf, pos + 2)
    if total == 0:
        payload = end - pos - ihl  # TSO/GSO capture: the length field is left zero
    elif total < ihl:
        out[p, W_STATUS] = S.BAD_IPV4
        return -1, 0, 0
    else:
        payload = total - ihl
    out[p, W_IP_PAYLOAD] = payload
    frag = _be16(buf, pos + 6)
    if frag & 0x1FFF:
        return -1, 0, 0  # a non-first fragment has no L4 header
    if frag & 0x2000:
        return proto, pos + ihl, _UNKNOWN_PAYLOAD  # first fragment: L4 lengths cover the whole datagram
    return proto, pos + ihl, payload


@njit(cache=True, nogil=True)
def _ipv6(buf: np.ndarray, out: np.ndarray, p: int, pos: int, end: int) -> tuple[int, int, int]:
    if pos + 40 > end:
        out[p, W_STATUS] = S.TRUNC_IPV6
        return -1, 0, 0
    if buf[pos] >> 4 != 6:
        out[p, W_STATUS] = S.BAD_IP_VERSION
        return -1, 0, 0
    out[p, W_L3] = pos
    out[p, W_IP_VER] = 6
    plen = _be16(buf, pos + 4)
    payload = plen if plen else end - pos - 40  # jumbogram / TSO: fall back to captured bytes
    nh = np.int64(buf[pos + 6])
    q = pos + 40
    chain = 0
    first_fragment = True
    more_fragments = False
    for _ in range(8):
        code = _IPV6_EXT_TABLE[nh]
        if code == 0:
            break
        if q + 8 > end:
            out[p, W_STATUS] = S.TRUNC_IPV6_EXT
            out[p, W_IP_HDR_LEN] = q - pos
            out[p, W_IP6_EXT] = chain
            return -1, 0, 0
        if nh == lt.IPPROTO_FRAGMENT:
            hlen = 8
            out[p, W_IP6_FRAG] = q
            if _be16(buf, q + 2) & 0xFFF8:
                first_fragment = False
            elif buf[q + 3] & 1:
                more_fragments = True
        elif nh == lt.IPPROTO_AH:
            hlen = (np.int64(buf[q + 1]) + 2) * 4
        else:
            hlen = (np.int64(buf[q + 1]) + 1) * 8
        chain = chain * 8 + code
        nh = np.int64(buf[q])
        q += hlen
        payload -= hlen
    out[p, W_IP_HDR_LEN] = q - pos
    out[p, W_IP_PROTO] = nh
    out[p, W_IP6_EXT] = chain
    out[p, W_IP_PAYLOAD] = payload
    if q > end:
        out[p, W_STATUS] = S.TRUNC_IPV6_EXT
        return -1, 0, 0
    if not first_fragment:
        return -1, 0, 0
    return nh, q, _UNKNOWN_PAYLOAD if more_fragments else payload


@njit(cache=True, nogil=True)
def _l4(buf: np.ndarray, out: np.ndarray, p: int, proto: int, pos: int, end: int, ip_payload: int) -> None:
    if proto == lt.IPPROTO_TCP:
        if pos + 20 > end:
            out[p, W_STATUS] = S.TRUNC_TCP
            return
        out[p, W_L4] = pos
        doff = np.int64(buf[pos + 12] >> 4) * 4
        out[p, W_TCP_HDR_LEN] = doff
        if doff < 20:
            out[p, W_STATUS] = S.BAD_TCP
            return
        if pos + doff > end:
            out[p, W_STATUS] = S.TRUNC_TCP_OPTIONS
            return
        _tcp_options(buf, out, p, pos + 20, pos + doff)
    elif proto == lt.IPPROTO_UDP:
        if pos + 8 > end:
            out[p, W_STATUS] = S.TRUNC_UDP
            return
        out[p, W_L4] = pos
        udp_len = _be16(buf, pos + 4)
        if udp_len < 8 or udp_len > ip_payload:
            out[p, W_STATUS] = S.BAD_UDP  # tshark: "Bad length value"
    elif proto == lt.IPPROTO_ICMP or proto == lt.IPPROTO_ICMPV6:
        if pos + 4 > end:
            out[p, W_STATUS] = S.TRUNC_ICMP if proto == lt.IPPROTO_ICMP else S.TRUNC_ICMPV6
            return
        out[p, W_L4] = pos


@njit(cache=True, nogil=True)
def walk(buf: np.ndarray, rec_off: np.ndarray, rec_cap: np.ndarray, l2: np.ndarray) -> np.ndarray:
    """Locate the headers of every record. Returns an int32 matrix [records, W_COLUMNS]."""
    n = rec_off.shape[0]
    out = np.empty((n, W_COLUMNS), dtype=np.int32)
    for p in range(n):
        out[p, :] = -1
        out[p, W_STATUS] = S.OK
        out[p, W_OPT_SACKPERM] = 0
        pos = np.int64(rec_off[p])
        end = pos + np.int64(rec_cap[p])
        code = l2[p]
        version = 0
        if code == lt.L2_ETHERNET:
            if pos + 14 > end:
                out[p, W_STATUS] = S.TRUNC_LINK
                continue
            out[p, W_DST_MAC] = pos
            out[p, W_SRC_MAC] = pos + 6
            version, pos = _ethertype_chain(buf, out, p, pos + 14, end, _be16(buf, pos + 12))
        elif code == lt.L2_SLL:
            if pos + 16 > end:
                out[p, W_STATUS] = S.TRUNC_LINK
                continue
            if _be16(buf, pos + 4) == 6:
                out[p, W_SRC_MAC] = pos + 6
            version, pos = _ethertype_chain(buf, out, p, pos + 16, end, _be16(buf, pos + 14))
        elif code == lt.L2_SLL2:
            if pos + 20 > end:
                out[p, W_STATUS] = S.TRUNC_LINK
                continue
            if buf[pos + 11] == 6:
                out[p, W_SRC_MAC] = pos + 12
            version, pos = _ethertype_chain(buf, out, p, pos + 20, end, _be16(buf, pos))
        elif code == lt.L2_NULL or code == lt.L2_LOOP:
            if pos + 4 > end:
                out[p, W_STATUS] = S.TRUNC_LINK
                continue
            af = _be32(buf, pos) if code == lt.L2_LOOP else _le32(buf, pos)
            if af & 0xFFFF0000:
                # NULL is in the capturing host's byte order; a big-endian host wrote it swapped.
                af = ((af & 0xFF) << 24) | ((af & 0xFF00) << 8) | ((af >> 8) & 0xFF00) | (af >> 24)
            pos += 4
            if af == lt.AF_INET:
                version = 4
            elif af == 10 or af == 24 or af == 28 or af == 30:
                version = 6
        elif code == lt.L2_RAW_IP:
            if pos + 1 > end:
                out[p, W_STATUS] = S.TRUNC_IPV4
                continue
            version = buf[pos] >> 4
            if version != 4 and version != 6:
                out[p, W_STATUS] = S.BAD_IP_VERSION
                continue
        elif code == lt.L2_RAW_IPV4:
            version = 4
        elif code == lt.L2_RAW_IPV6:
            version = 6
        elif code == lt.L2_RADIOTAP or code == lt.L2_WLAN:
            if code == lt.L2_RADIOTAP:
                rt_len, fcs = _radiotap(buf, out, p, pos, end)
                if rt_len < 0:
                    continue
                pos += rt_len
                end -= fcs
            version, pos = _wlan(buf, out, p, pos, end)
        else:
            out[p, W_STATUS] = S.UNSUPPORTED_LINKTYPE
            continue
        out[p, W_L4_END] = end
        if version == 4:
            proto, l4pos, ip_payload = _ipv4(buf, out, p, pos, end)
        elif version == 6:
            proto, l4pos, ip_payload = _ipv6(buf, out, p, pos, end)
        else:
            continue
        if proto >= 0:
            _l4(buf, out, p, proto, l4pos, end, ip_payload)
    return out
