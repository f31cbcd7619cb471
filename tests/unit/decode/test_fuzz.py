"""Fuzz the decoder with mutated real captures (hypothesis): flipped bytes, truncation, splices from other
captures, rewritten length fields, inserted/deleted bytes, aimed at record/block headers half of the time.

Property: opening either raises CaptureFormatError, or every batch matches PACKET_SCHEMA with frame_no
1..n strictly increasing, cap_len >= 0 (and within the file), wire_len null or >= 0, a known decode_status,
and summary.packets == n. Plus: truncating a capture only ever loses/truncates its tail rows.

Bounded: NETQOS_FUZZ_EXAMPLES (default 300) examples per property, no deadline, marker `slow`.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_TESTS = Path(__file__).resolve().parents[2]
for _p in (str(_TESTS), str(_TESTS / "oracle")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from oracle_run import PCAP_DIR, PCAP_FILES  # noqa: E402

from netqos.decode import PACKET_SCHEMA, CaptureFormatError, open_capture  # noqa: E402
from netqos.decode.schema import STATUS_TEXT  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

MAX_EXAMPLES = int(os.environ.get("NETQOS_FUZZ_EXAMPLES", "300"))
SLICE = 48 * 1024  # big captures are fuzzed through their first SLICE bytes (a truncation in itself)
STATUSES = set(STATUS_TEXT.values())

CORPUS: dict[str, bytes] = {p.name: p.read_bytes()[:SLICE] for p in PCAP_FILES}
NAMES = sorted(CORPUS)

if not CORPUS:
    pytest.skip(f"no captures found under {PCAP_DIR} (set NETQOS_PCAP_DIR)", allow_module_level=True)


def header_offsets(data: bytes) -> list[int]:
    """Offsets of the record headers (pcap) or block headers (pcapng) of an unmutated capture."""
    out: list[int] = [0]
    if len(data) < 24:
        return out
    magic_le = struct.unpack("<I", data[:4])[0]
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        order = "<" if struct.unpack("<I", data[8:12])[0] == 0x1A2B3C4D else ">"
        pos = 0
        while pos + 12 <= len(data):
            if data[pos : pos + 4] == b"\x0a\x0d\x0d\x0a":
                order = "<" if struct.unpack("<I", data[pos + 8 : pos + 12])[0] == 0x1A2B3C4D else ">"
            blen = struct.unpack(order + "I", data[pos + 4 : pos + 8])[0]
            out.append(pos)
            if blen < 12 or blen % 4:
                break
            pos += blen
        return out
    order = "<" if magic_le in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    pos = 24
    while pos + 16 <= len(data):
        out.append(pos)
        caplen = struct.unpack(order + "I", data[pos + 8 : pos + 12])[0]
        pos += 16 + caplen
    return out


OFFSETS = {n: header_offsets(d) for n, d in CORPUS.items()}
INTERESTING_U32 = [0, 1, 3, 4, 8, 11, 12, 13, 16, 20, 24, 28, 32, 0xFFFF, 0x10000, 262144, 262145,
                   0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]  # fmt: skip


@st.composite
def position(draw: st.DrawFn, name: str, size: int) -> int:
    """A byte position: anywhere, or within 24 bytes after a record/block header start."""
    if size <= 1:
        return 0
    if draw(st.booleans()):
        base = draw(st.sampled_from(OFFSETS[name]))
        return min(size - 1, base + draw(st.integers(0, 24)))
    return draw(st.integers(0, size - 1))


@st.composite
def mutated_capture(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    name = draw(st.sampled_from(NAMES))
    data = bytearray(CORPUS[name])
    log: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        kind = draw(st.sampled_from(["flip", "byte", "u32", "u16", "truncate", "splice", "insert", "delete"]))
        at = draw(position(name, len(data)))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte":
            data[at] = draw(st.integers(0, 255))
        elif kind == "u32":
            v = draw(st.sampled_from(INTERESTING_U32) | st.integers(0, 2**32 - 1))
            data[at : at + 4] = struct.pack(draw(st.sampled_from("<>")) + "I", v)
        elif kind == "u16":
            v = draw(st.sampled_from([0, 1, 4, 5, 8, 0x0800, 0x86DD, 0x8100, 0x88A8, 0xFFFF]) | st.integers(0, 0xFFFF))
            data[at : at + 2] = struct.pack(">H", v)
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            other = CORPUS[draw(st.sampled_from(NAMES))]
            src = draw(st.integers(0, max(0, len(other) - 1)))
            chunk = other[src : src + draw(st.integers(1, 512))]
            if draw(st.booleans()):
                data[at : at + len(chunk)] = chunk
            else:
                data[at:at] = chunk
        elif kind == "insert":
            data[at:at] = bytes(draw(st.binary(min_size=1, max_size=64)))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        log.append(f"{kind}@{at}")
    return name, bytes(data), log


def check_decode(data: bytes, chunk_bytes: int | None = None) -> list[dict[str, Any]] | None:
    """Decode and check the invariants. Returns the rows, or None for CaptureFormatError."""
    kw = {} if chunk_bytes is None else {"chunk_bytes": chunk_bytes}
    try:
        reader = open_capture(io.BytesIO(data), **kw)
    except CaptureFormatError as exc:
        assert str(exc), "CaptureFormatError must say why"
        return None
    rows: list[dict[str, Any]] = []
    with reader:
        next_no = 1
        for batch in reader.batches():
            assert batch.schema.equals(PACKET_SCHEMA, check_metadata=True)
            n = batch.num_rows
            assert n > 0
            frame_no = batch.column("frame_no")
            assert frame_no.null_count == 0
            assert np.array_equal(frame_no.to_numpy(), np.arange(next_no, next_no + n))
            cap = batch.column("cap_len")
            assert cap.null_count == 0
            cap_np = cap.to_numpy()
            assert cap_np.min() >= 0 and cap_np.max() <= len(data)
            wire = batch.column("wire_len").drop_null().to_numpy()
            assert wire.size == 0 or wire.min() >= 0
            status = batch.column("decode_status")
            assert status.null_count == 0 and set(status.to_pylist()) <= STATUSES
            next_no += n
            rows.extend(batch.to_pylist())
        s = reader.summary
    assert s.packets == next_no - 1
    assert 0 <= s.bytes_read <= len(data)
    assert s.error is None or isinstance(s.error, str)
    return rows


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_capture())
def test_mutated_captures_never_crash(case: tuple[str, bytes, list[str]]) -> None:
    _name, data, _log = case
    check_decode(data)


@settings(max_examples=max(20, MAX_EXAMPLES // 3), deadline=None, derandomize=bool(os.environ.get("CI")))
@given(st.sampled_from(NAMES), st.floats(0.0, 1.0))
def test_truncation_only_loses_the_tail(name: str, frac: float) -> None:
    """A capture cut at any byte decodes to a prefix of the full decode; only the last row may differ, and
    then (classic pcap) as truncated:record with fewer captured bytes."""
    full = check_decode(CORPUS[name])
    assert full is not None
    cut = int(len(CORPUS[name]) * frac)
    rows = check_decode(CORPUS[name][:cut])
    if rows is None:
        assert cut < 48  # only a cut inside the file header makes it unreadable
        return
    assert len(rows) <= len(full)
    for got, want in zip(rows[:-1], full, strict=False):
        assert got == want
    if rows:
        last, want = rows[-1], full[len(rows) - 1]
        if last != want:
            assert last["decode_status"] == "truncated:record"
            assert last["cap_len"] < want["cap_len"]


BIG = sorted(p.name for p in PCAP_FILES if p.stat().st_size > 300_000)


def _big_pcapng() -> bytes:
    """~1 MB pcapng (SHB, IDB, EPBs in both byte orders) with a 400 KB custom block in the middle."""
    sys.path.insert(0, str(_TESTS))
    import pcapgen as g

    pkt = CORPUS["zeek-5-pings.pcap"][40:138]  # one Ethernet/IPv4/ICMP frame
    out = [g.shb(), g.idb(1, tsresol=9)]
    out += [g.epb(pkt + bytes(i % 700), ts=i) for i in range(800)]
    out.append(g.custom_block(b"\xab" * 400_000))
    out += [g.shb(endian=">"), g.idb(1, endian=">")]
    out += [g.epb(pkt, ts=i, endian=">") for i in range(3000)]
    return b"".join(out)


@pytest.mark.parametrize("name", [*BIG, "crafted-big.pcapng"])
def test_small_chunks_match_one_chunk(name: str) -> None:
    """Reading with the smallest buffer (many refills, records across chunk edges, a block bigger than the
    buffer) gives exactly the rows of a single-chunk read."""
    data = _big_pcapng() if name.startswith("crafted") else (PCAP_DIR / name).read_bytes()  # type: ignore[operator]
    whole = check_decode(data, chunk_bytes=len(data) + (1 << 20))
    small = check_decode(data, chunk_bytes=1)
    assert whole is not None and small is not None
    assert len(whole) == len(small) > 0
    assert whole == small
