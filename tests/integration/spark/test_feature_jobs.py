"""build_flows + qos_windows end to end: flows stitched across rotated files, late files, reruns.

One capture is cut into three consecutive files (with struct, not our decoder). Ingesting all three at once and
ingesting them out of order (1 and 3, then the late 2) must give identical tcp_analysis, flows and qos_windows;
rerunning the jobs must change nothing; and flows must continue across the file boundaries.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from netqos.jobs import build_flows, parse_pcaps, qos_windows

pytestmark = [pytest.mark.spark, pytest.mark.integration]

CAPTURE = "zeek-206_example_b.pcap"  # one long TCP conversation and a UDP stream, 1556 frames


def split_pcap(src: Path, out_dir: Path, cuts: list[int]) -> list[Path]:
    """Classic pcap -> consecutive files holding frames [0, cuts[0]), [cuts[0], cuts[1]), ..."""
    data = src.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    header, records, pos = data[:24], [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[pos + 8 : pos + 12])[0]
        records.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    bounds = [0, *cuts, len(records)]
    paths = []
    for i in range(len(bounds) - 1):
        path = out_dir / f"edge_{i:03d}.pcap"
        path.write_bytes(header + b"".join(records[bounds[i] : bounds[i + 1]]))
        paths.append(path)
    return paths


def tables(spark, settings) -> dict[str, list[tuple]]:
    db = settings.lake.database
    out = {}
    for name, key in (
        ("tcp_analysis", "file_sha256, frame_no"),
        ("flows", "flow_id"),
        ("qos_windows", "sensor_id, window_s, window_start_ns, dimension, class"),
    ):
        rows = spark.sql(f"SELECT * FROM {db}.{name} ORDER BY {key}").collect()
        out[name] = [tuple(r) for r in rows]
    return out


def featurize_all(spark, settings, paths):
    parse_pcaps.run(spark, [str(p) for p in paths], settings)
    build_flows.run(spark, settings)
    qos_windows.run(spark, settings)


@pytest.fixture(scope="module")
def rotated(tmp_path_factory, pcaps) -> list[Path]:
    return split_pcap(pcaps / CAPTURE, tmp_path_factory.mktemp("rotated"), [500, 1100])


@pytest.fixture(scope="module")
def one_shot(spark, settings_factory, rotated):
    settings = settings_factory("features_one_shot").model_copy(update={"sensor_id": "edge-1"})
    featurize_all(spark, settings, rotated)
    return settings, tables(spark, settings)


def test_every_packet_has_a_feature_row_and_flows_cross_files(spark, one_shot):
    settings, t = one_shot
    db = settings.lake.database
    assert len(t["tcp_analysis"]) == 1556
    assert spark.sql(f"SELECT count(*) FROM {db}.packets").first()[0] == 1556
    crossing = spark.sql(
        f"SELECT flow_id FROM {db}.tcp_analysis GROUP BY flow_id HAVING count(DISTINCT file_sha256) > 1"
    ).count()
    assert crossing >= 1, "no flow continues across the rotated files"
    # packets per flow in `flows` = packets pointing at it in `tcp_analysis`
    mismatched = spark.sql(
        f"SELECT f.flow_id FROM {db}.flows f JOIN (SELECT flow_id, count(*) n FROM {db}.tcp_analysis "
        f"GROUP BY flow_id) a USING (flow_id) WHERE f.packets <> a.n"
    ).count()
    assert mismatched == 0
    assert spark.sql(f"SELECT count(*) FROM {db}.feature_ledger WHERE windows_at IS NULL").first()[0] == 0


def test_flows_match_the_library_on_the_unsplit_capture(spark, one_shot, pcaps):
    from netqos.decode import decode_file
    from netqos.features import FeatureConfig, featurize
    from netqos.flows import FlowConfig

    settings, _ = one_shot
    packets = decode_file(pcaps / CAPTURE)
    lib = featurize(packets, FeatureConfig(flow=FlowConfig(sensor_id="edge-1"))).flows
    cols = ["flow_id", "packets", "bytes", "first_ts_ns", "last_ts_ns", "src_addr", "dst_port", "end_reason"]
    expected = sorted(zip(*(lib.column(c).to_pylist() for c in cols), strict=True))
    got = spark.sql(f"SELECT {', '.join(cols)} FROM {settings.lake.database}.flows").collect()
    assert sorted(tuple(r) for r in got) == expected


def test_late_file_and_reruns_give_the_same_tables(spark, settings_factory, rotated, one_shot):
    _, expected = one_shot
    settings = settings_factory("features_late_file").model_copy(update={"sensor_id": "edge-1"})
    featurize_all(spark, settings, [rotated[0], rotated[2]])
    partial = tables(spark, settings)
    assert len(partial["tcp_analysis"]) < 1556
    featurize_all(spark, settings, [rotated[1]])  # the late file
    assert tables(spark, settings) == expected
    db = settings.lake.database
    versions = {
        name: spark.sql(f"DESCRIBE HISTORY {db}.{name} LIMIT 1").first()["version"]
        for name in ("tcp_analysis", "flows", "qos_windows")
    }
    featurize_all(spark, settings, rotated)  # rerun: nothing new
    assert tables(spark, settings) == expected
    assert versions == {
        name: spark.sql(f"DESCRIBE HISTORY {db}.{name} LIMIT 1").first()["version"]
        for name in ("tcp_analysis", "flows", "qos_windows")
    }


def test_windows_cover_every_packet(spark, one_shot):
    settings, _ = one_shot
    db = settings.lake.database
    rows = spark.sql(
        f"SELECT window_s, dimension, class, sum(packets) p FROM {db}.qos_windows GROUP BY 1, 2, 3"
    ).collect()
    per = {(r.window_s, r.dimension, r["class"]): r.p for r in rows}
    assert per[(10, "all", "all")] == 1556
    assert per[(60, "all", "all")] == 1556
    assert sum(v for (w, d, _), v in per.items() if w == 60 and d == "service") == 1556
