"""Rotated capture files: a real capture cut into 3 consecutive files (frame numbers restart in each) gives, with
FlowConfig(per_file=False), the flows, TCP analysis and windows of the whole capture; per_file=True splits flows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from netqos.decode.schema import SOURCE_FILE_COLUMN
from netqos.features import FeatureConfig, featurize
from netqos.features.pipeline import Features
from netqos.flows import FlowConfig

FRAME_REFS = ("tcp_acks_frame", "tcp_dup_ack_frame")
FILES = ("rot-0.pcap", "rot-1.pcap", "rot-2.pcap")


def rotate(packets: pa.Table, cuts: tuple[int, int]) -> pa.Table:
    """Frames [0, a), [a, b), [b, n) as three files: frame_no restarts at 1, source_file names the file."""
    bounds = (0, *cuts, packets.num_rows)
    parts = []
    for name, lo, hi in zip(FILES, bounds, bounds[1:], strict=False):
        part = packets.slice(lo, hi - lo)
        part = part.set_column(
            part.column_names.index("frame_no"), "frame_no", pa.array(np.arange(1, hi - lo + 1), pa.int64())
        )
        parts.append(part.append_column(SOURCE_FILE_COLUMN, pa.array([name] * (hi - lo), pa.string())))
    return pa.concat_tables(parts)


CASES = {"zeek-ssh.pcap": (600, 1200), "zeek-206_example_b.pcap": (500, 1000)}


@pytest.fixture(scope="module")
def stitched(capture: Callable[[str], pa.Table]) -> Callable[[str], tuple[pa.Table, Features, Features, Features]]:
    cache: dict[str, tuple[pa.Table, Features, Features, Features]] = {}

    def run(name: str) -> tuple[pa.Table, Features, Features, Features]:
        if name not in cache:
            whole = capture(name)
            rotated = rotate(whole, CASES[name])
            cache[name] = (
                rotated,
                featurize(whole, FeatureConfig()),
                featurize(rotated, FeatureConfig(flow=FlowConfig(per_file=False))),
                featurize(rotated, FeatureConfig(flow=FlowConfig(per_file=True))),
            )
        return cache[name]

    return run


@pytest.mark.parametrize("name", sorted(CASES))
def test_stitched_flows_equal_whole_capture(name: str, stitched: Callable[[str], tuple]) -> None:
    rotated, whole, joined, _ = stitched(name)
    assert joined.flows.column_names == [*whole.flows.column_names, SOURCE_FILE_COLUMN]
    got = joined.flows.drop_columns([SOURCE_FILE_COLUMN])
    assert got.to_pylist() == whole.flows.to_pylist()
    # a flow's source_file is the file of its first packet
    first_file = {}
    for f, fi, src in zip(
        joined.packets.column("flow_id").to_pylist(),
        joined.packets.column("flow_first").to_pylist(),
        rotated.column(SOURCE_FILE_COLUMN).to_pylist(),
        strict=True,
    ):
        if fi:
            first_file[f] = src
    assert dict(zip(joined.flows.column("flow_id").to_pylist(), joined.flows.column(SOURCE_FILE_COLUMN).to_pylist(),
                    strict=True)) == first_file  # fmt: skip
    assert joined.windows.equals(whole.windows)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stitched_tcp_analysis_equals_whole_capture(name: str, stitched: Callable[[str], tuple]) -> None:
    rotated, whole, joined, _ = stitched(name)
    assert whole.packets.column("frame_no").to_pylist() == list(range(1, rotated.num_rows + 1))
    assert joined.packets.column("frame_no").equals(rotated.column("frame_no"))
    assert joined.packets.column(SOURCE_FILE_COLUMN).equals(rotated.column(SOURCE_FILE_COLUMN))
    for col in whole.packets.column_names:
        if col not in ("frame_no", *FRAME_REFS):
            assert joined.packets.column(col).equals(whole.packets.column(col)), col
    for flag in ("tcp_retransmission", "tcp_dup_ack", "tcp_ack_rtt"):
        assert joined.packets.column(flag).drop_null().length() > 0, flag

    # frame references: the whole capture's frame n is frame local[n - 1] of its file
    local = rotated.column("frame_no").to_pylist()
    files = rotated.column(SOURCE_FILE_COLUMN).to_pylist()
    crossing = 0
    for col in FRAME_REFS:
        want = [None if r is None else local[r - 1] for r in whole.packets.column(col).to_pylist()]
        assert joined.packets.column(col).to_pylist() == want, col
        crossing += sum(
            r is not None and files[r - 1] != files[i] for i, r in enumerate(whole.packets.column(col).to_pylist())
        )
        assert any(r is not None and local[r - 1] != r for r in whole.packets.column(col).to_pylist()), (
            f"{col}: no reference in a later file, the mapping is not exercised"
        )
    if name == "zeek-ssh.pcap":
        assert crossing > 0, "no ACK refers to a frame of the previous file"


@pytest.mark.parametrize("name", sorted(CASES))
def test_per_file_splits_flows_at_file_boundaries(name: str, stitched: Callable[[str], tuple]) -> None:
    rotated, whole, _, per_file = stitched(name)
    assert per_file.flows.num_rows > whole.flows.num_rows
    assert sum(per_file.flows.column("packets").to_pylist()) == sum(whole.flows.column("packets").to_pylist())
    files_of: dict[int, set[str]] = defaultdict(set)
    for f, src in zip(
        per_file.packets.column("flow_id").to_pylist(), rotated.column(SOURCE_FILE_COLUMN).to_pylist(), strict=True
    ):
        if f is not None:
            files_of[f].add(src)
    assert all(len(v) == 1 for v in files_of.values())
    flows = per_file.flows
    by_id = dict(zip(flows.column("flow_id").to_pylist(), flows.column(SOURCE_FILE_COLUMN).to_pylist(), strict=True))
    assert {f: next(iter(v)) for f, v in files_of.items()} == by_id
    # frame references stay inside their own file there
    local = rotated.column("frame_no").to_pylist()
    files = rotated.column(SOURCE_FILE_COLUMN).to_pylist()
    index = {(src, fr): i for i, (src, fr) in enumerate(zip(files, local, strict=True))}
    for col in FRAME_REFS:
        for i, r in enumerate(per_file.packets.column(col).to_pylist()):
            if r is not None:
                assert (files[i], r) in index and index[(files[i], r)] < i, (col, i, r)


@pytest.mark.parametrize("name", ["zeek-ssh.pcap", "zeek-206_example_b.pcap", "tcpreplay-test.pcap"])
def test_featurize_analysis_equals_analyze(capture, name: str) -> None:
    """featurize() hands the flow keys' address codes to the analysis; the result must equal analyze() alone."""
    from netqos.analysis import analyze
    from netqos.features import FeatureConfig, featurize

    packets = capture(name)
    alone = analyze(packets)
    feats = featurize(packets, FeatureConfig()).packets
    for col in alone.column_names:
        assert feats.column(col).equals(alone.column(col)), col
