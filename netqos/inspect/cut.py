"""Cut a capture down to chosen frames, byte for byte, and merge several cuts in time order.

`cut_capture` copies the file header (classic pcap) or the blocks that describe packets (pcapng: section
headers, interface descriptions, name resolution, decryption secrets) and only the selected packet records,
untouched: link types, timestamps, resolutions and options stay exactly as captured. Frame numbers count packet
records from 1 across the whole file, as the decoder's `packets.frame_no` does (and Wireshark's frame.number,
except that tshark also numbers pcapng custom blocks, which a cut drops). Several cuts are merged
chronologically with Wireshark's mergecap.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from netqos.decode.readers import CaptureFormat, sniff_format

PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_PACKET_BLOCKS = frozenset({2, 3, 6})  # obsolete packet, simple packet, enhanced packet block
# Kept whole: section header, interface description, name resolution, decryption secrets (TLS keys). Dropped:
# interface statistics (they describe the original), custom and systemd-journal blocks (tshark shows those as
# frames of their own, not packets of the selection) and unknown blocks.
PCAPNG_KEPT_BLOCKS = frozenset({PCAPNG_SHB, 1, 4, 0x0A})
PCAPNG_MAX_BLOCK = 64 << 20


class CutError(RuntimeError):
    """The capture could not be cut as asked (unreadable file, frames that are not in it, mergecap failed)."""


@dataclass(frozen=True)
class Cut:
    path: Path
    format: CaptureFormat
    frames: int  # packet records written
    pcap_header: bytes | None = None  # classic pcap: the 24-byte file header (magic, link type, snaplen)


def frame_ranges(frames: Collection[int]) -> list[tuple[int, int]]:
    """Sorted frame numbers as inclusive runs: {1, 2, 3, 7} -> [(1, 3), (7, 7)] (for messages and tools)."""
    runs: list[tuple[int, int]] = []
    for n in sorted(set(frames)):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _read_exact(f: BinaryIO, size: int) -> bytes | None:
    data = f.read(size)
    return data if len(data) == size else None


def _copy_pcap(src: BinaryIO, dst: BinaryIO, head: bytes, order: str, wanted: set[int]) -> int:
    major, minor = struct.unpack(order + "HH", head[4:8])
    swapped = (major == 2 and minor < 3) or major == 543  # (orig_len, incl_len) as in libpcap's reader
    maybe_swapped = (major, minor) == (2, 3)
    dst.write(head)
    frame = written = 0
    while wanted:
        rec = _read_exact(src, 16)
        if rec is None:
            break
        incl, orig = struct.unpack(order + "II", rec[8:16])
        if swapped or (maybe_swapped and orig < incl):
            incl = orig
        data = _read_exact(src, incl)
        if data is None:
            break  # cut short: the decoder keeps no row for a record without its bytes either
        frame += 1
        if frame in wanted:
            dst.write(rec + data)
            wanted.discard(frame)
            written += 1
    return written


def _copy_pcapng(src: BinaryIO, dst: BinaryIO, wanted: set[int]) -> int:
    order = "<"
    frame = written = 0
    while True:
        head = _read_exact(src, 12)
        if head is None:
            break
        if struct.unpack("<I", head[:4])[0] == PCAPNG_SHB:  # the section's byte-order magic decides its endianness
            order = "<" if struct.unpack("<I", head[8:12])[0] == 0x1A2B3C4D else ">"
        block_type, length = struct.unpack(order + "II", head[:8])
        if length < 12 or length % 4 or length > PCAPNG_MAX_BLOCK:
            break  # corrupt block: the decoder stops here too
        body = _read_exact(src, length - 12)
        if body is None:
            break
        if block_type in PCAPNG_PACKET_BLOCKS:
            frame += 1
            if frame not in wanted:
                continue
            wanted.discard(frame)
            written += 1
        elif block_type not in PCAPNG_KEPT_BLOCKS:
            continue
        dst.write(head + body)
    return written


def cut_capture(src: Path, frames: Collection[int], dst: Path) -> Cut:
    """Write the frames `frames` (1-based numbers) of `src` to `dst` in the same format; CutError if a frame
    number is not in the file."""
    wanted = set(frames)
    with open(src, "rb") as f, open(dst, "wb") as out:
        head = f.read(24)
        try:
            fmt, order, _ = sniff_format(head)
        except ValueError as exc:
            raise CutError(f"{src}: {exc}") from exc
        if fmt == "pcap":
            written = _copy_pcap(f, out, head, order, wanted)
        else:
            f.seek(0)
            written = _copy_pcapng(f, out, wanted)
    if wanted:
        runs = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in frame_ranges(wanted)[:5])
        raise CutError(f"{src}: {len(wanted)} selected frames are not in the file (frames {runs}...)")
    return Cut(dst, fmt, written, head if fmt == "pcap" else None)


def merged_format(cuts: Sequence[Cut]) -> tuple[CaptureFormat, str]:
    """(format, mergecap -F type) of the merge: classic pcap when every cut is classic pcap with one file header
    (same link type, byte order and resolution), else pcapng (one interface per input link type)."""
    headers = {c.pcap_header[:4] + c.pcap_header[20:24] if c.pcap_header else None for c in cuts}
    if len(headers) == 1 and None not in headers:
        magic = next(iter(cuts)).pcap_header or b""
        nsec = magic[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        return "pcap", "nsecpcap" if nsec else "pcap"
    return "pcapng", "pcapng"


def merge_cuts(cuts: Sequence[Cut], dst: Path) -> Path:
    """One cut is moved to `dst`; several are merged by timestamp with mergecap (records stay as they are)."""
    if not cuts:
        raise CutError("nothing to merge")
    if len(cuts) == 1:
        shutil.move(cuts[0].path, dst)
        return dst
    mergecap = shutil.which("mergecap")
    if mergecap is None:
        raise CutError("mergecap not found: install Wireshark's command-line tools (apt install tshark)")
    _, file_type = merged_format(cuts)
    cmd = [mergecap, "-F", file_type, "-w", str(dst), *(str(c.path) for c in cuts)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CutError(f"mergecap failed ({done.returncode}): {done.stderr.strip()}")
    return dst
