"""cut_capture keeps exactly the chosen frames, byte for byte: tshark reads the cut and, with a display filter on
frame.number, the original; every frame's timestamp, lengths, link type, section, interface, comment and bytes
(MD5) must agree. Over the odd formats of the shared captures: pcapng with several sections and interfaces,
nanosecond and big-endian pcap, link types other than Ethernet."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import tshark_frames

from netqos.inspect.cut import CutError, cut_capture, frame_ranges, merge_cuts, merged_format

pytestmark = [pytest.mark.unit, pytest.mark.oracle]

PCAPS = Path(__file__).resolve().parents[3].parent / "shared" / "pcaps"
FIELDS = (
    "frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type", "frame.section_number", "frame.interface_id",
    "frame.interface_name", "frame.comment", "frame.md5_hash",
)  # fmt: skip


def tshark_rows(path: Path, display_filter: str | None = None) -> list[tuple[str, ...]]:
    return tshark_frames.tshark_rows(path, FIELDS, display_filter)


def tshark_numbers(path: Path, frame_nos: list[int]) -> list[int]:
    """tshark's frame.number of our frame_no k: the k-th packet record. tshark also numbers pcapng custom blocks
    (records without a link type, as in test202.pcapng), which no decoder row stands for."""
    cmd = ["tshark", "-n", "-r", str(path), "-Y", "frame.encap_type", "-T", "fields", "-e", "frame.number"]
    numbers = [int(x) for x in subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()]
    return [numbers[k - 1] for k in frame_nos]


def frame_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-M", "-c", "-T", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.splitlines()[-1].split("\t")[1])


@pytest.mark.parametrize(
    "name",
    [
        "dpkt-http.pcap",  # Ethernet, microseconds
        "zeek-get-to-ssh-server.pcap",  # nanosecond pcap
        "tcpdump-pptp.pcap",  # big-endian pcap
        "zeek-radius_localhost.pcap",  # NULL link type
        "pcapngtg-le-difficult-test202.pcapng",  # 3 sections, 5 interfaces, unknown blocks
        "pcapngtg-be-advanced-test100.pcapng",  # big-endian pcapng, mixed link types
        "zeek-ldap-gap-data-missing.pcapng",  # 126 interfaces of mixed link types
    ],
)
def test_cut_holds_exactly_the_selected_frames(tmp_path: Path, name: str) -> None:
    src = PCAPS / name
    n = frame_count(src)
    chosen = sorted({1, n, *range(2, n, 3)})
    cut = cut_capture(src, chosen, tmp_path / "cut")
    assert cut.frames == len(chosen)
    expected = tshark_rows(src, "frame.number in {" + ", ".join(map(str, tshark_numbers(src, chosen))) + "}")
    assert len(expected) == len(chosen)
    assert tshark_rows(cut.path) == expected


def test_frames_not_in_the_file_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(CutError, match="2 selected frames are not in the file"):
        cut_capture(PCAPS / "dpkt-http.pcap", [1, 44, 45], tmp_path / "cut")


def test_merge_orders_two_cuts_by_time(tmp_path: Path) -> None:
    src = PCAPS / "dpkt-http.pcap"
    late = cut_capture(src, [30, 31, 40], tmp_path / "late")  # the later frames given first
    early = cut_capture(src, [2, 5], tmp_path / "early")
    assert merged_format([late, early]) == ("pcap", "pcap")
    merged = merge_cuts([late, early], tmp_path / "merged.pcap")
    assert tshark_rows(merged) == tshark_rows(src, "frame.number in {2, 5, 30, 31, 40}")
    assert merged.read_bytes()[:4] == src.read_bytes()[:4]  # still classic microsecond pcap


def test_merge_of_different_link_types_is_pcapng(tmp_path: Path) -> None:
    a = cut_capture(PCAPS / "dpkt-http.pcap", [1], tmp_path / "a")
    b = cut_capture(PCAPS / "zeek-radius_localhost.pcap", [1], tmp_path / "b")
    assert merged_format([a, b]) == ("pcapng", "pcapng")


def test_frame_ranges() -> None:
    assert frame_ranges([7, 1, 2, 3, 3, 9, 10]) == [(1, 3), (7, 7), (9, 10)]
    assert frame_ranges([]) == []


def test_merge_keeps_nanosecond_timestamps(tmp_path: Path) -> None:
    src = PCAPS / "zeek-get-to-ssh-server.pcap"
    cuts = [cut_capture(src, [7, 9], tmp_path / "b"), cut_capture(src, [1, 3], tmp_path / "a")]
    assert merged_format(cuts) == ("pcap", "nsecpcap")
    merged = merge_cuts(cuts, tmp_path / "merged.pcap")
    assert tshark_rows(merged) == tshark_rows(src, "frame.number in {1, 3, 7, 9}")
    assert merged.read_bytes()[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")  # nanosecond pcap magic
