"""netqos inspect end to end on a small lake: a shared HTTP capture (with its DNS lookup) cut in two rotated files,
the first landed from disk and the second from the landing bucket of a real MinIO, ingested and featurized with
the session's Spark. From a flow id, a time range and an anomalies row to a cut pcap, checked frame by frame
against tshark's display filters on the original capture; app labels checked against what tshark names them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import tshark_frames
from rich.console import Console

from netqos.cli.inspect_cmd import show
from netqos.inspect.drilldown import drill
from netqos.inspect.fetch import CaptureUnavailable, cache_dir
from netqos.inspect.lake import AnomalyTarget, FlowTarget, RangeTarget, SelectConfig, select
from netqos.jobs import build_flows, parse_pcaps
from netqos.lake.tables import ANOMALIES, FLOWS
from netqos.settings import S3Settings
from netqos.storage.s3 import s3_client

pytestmark = [pytest.mark.spark, pytest.mark.integration, pytest.mark.oracle]

CAPTURE = "dpkt-http.pcap"  # 43 frames: one HTTP download (tcp.stream 0), a 2nd HTTP connection, one DNS exchange
SPLIT = 20  # frames 1-20 in a.pcap (local), 21-43 in b.pcap (S3): tcp.stream 0 and the DNS flow span both
KEY = "sensor=edge-1/date=2004-05-13/hour=10/b.pcap"
NS = 1_000_000_000
FIELDS = ("frame.time_epoch", "frame.len", "frame.cap_len", "frame.encap_type", "frame.md5_hash")


def split_pcap(src: Path, cut: int) -> tuple[bytes, bytes]:
    """Classic pcap -> (frames [1, cut], frames (cut, end]) with struct, not with the code under test."""
    data = src.read_bytes()
    header, records, pos = data[:24], [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8 : pos + 12])[0]
        records.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    return header + b"".join(records[:cut]), header + b"".join(records[cut:])


def tshark_rows(path: Path, display_filter: str | None = None) -> list[tuple[str, ...]]:
    return tshark_frames.tshark_rows(path, FIELDS, display_filter)


def tshark_column(path: Path, display_filter: str, field: str = "_ws.col.Protocol") -> set[str]:
    cmd = ["tshark", "-n", "-2", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", field]
    return set(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture(scope="module")
def lake(spark, settings_factory, lake_minio, pcaps, tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    first, second = split_pcap(pcaps / CAPTURE, SPLIT)
    local = root / "a.pcap"
    local.write_bytes(first)
    bucket = lake_minio.make_bucket()
    lake_minio.client().put_object(Bucket=bucket, Key=KEY, Body=second)
    s3 = S3Settings(endpoint_url=lake_minio.endpoint_url, access_key_id=lake_minio.access_key,
                    secret_access_key=lake_minio.secret_key, landing_bucket=bucket)  # fmt: skip
    settings = settings_factory("inspect").model_copy(update={"sensor_id": "edge-1", "s3": s3, "home": root / "home"})
    report = parse_pcaps.run(spark, [str(local), f"s3://{bucket}/{KEY}"], settings)
    assert sorted(e.packets for e in report.entries) == [SPLIT, 43 - SPLIT]
    build_flows.run(spark, settings)
    return {"settings": settings, "local": local, "bucket": bucket, "second": second, "root": root}


def flow_row(spark, settings, where: str):
    return spark.sql(f"SELECT * FROM {FLOWS.qualified(settings)} WHERE {where} ORDER BY bytes DESC").first()


def test_flow_id_to_exactly_its_frames_across_a_local_and_an_s3_capture(spark, lake, pcaps, tmp_path) -> None:
    settings = lake["settings"]
    flow = flow_row(spark, settings, "dst_port = 80")  # the download: frames in both files
    selection = select(spark, settings, FlowTarget(flow.flow_id), SelectConfig())
    assert len({p.file_sha256 for p in selection.packets}) == 2 and not selection.truncated

    result = drill(selection, settings, tmp_path)
    oracle = (
        f"ip.addr == {flow.src_addr} && ip.addr == {flow.dst_addr} && "
        f"tcp.port == {flow.src_port} && tcp.port == {flow.dst_port}"
    )
    expected = tshark_rows(pcaps / CAPTURE, oracle)
    assert len(expected) == flow.packets
    assert tshark_rows(result.pcap) == expected  # same frames, same order, same bytes and timestamps
    assert result.pcap.suffix == ".pcap"  # both halves are Ethernet microsecond pcap: the merge stays pcap
    [summary] = result.flows
    assert summary.flow_id == flow.flow_id and summary.packets == flow.packets
    assert summary.app_protocol == "HTTP" and "HTTP" in tshark_column(pcaps / CAPTURE, oracle)
    # the S3 half was downloaded into the cache under settings.home and verified; the local half read in place
    sha_b = hashlib.sha256(lake["second"]).hexdigest()
    assert result.captures[sha_b] == cache_dir(settings) / f"{sha_b}.pcap"
    assert lake["local"] in result.captures.values()


def test_time_range_with_and_without_a_port_filter(spark, lake, pcaps, tmp_path) -> None:
    settings = lake["settings"]
    start, end = 1084443429.8, 1084443431.3  # frames 12-28: both files, the DNS exchange, both HTTP connections
    target = RangeTarget(int(start * NS), int(end * NS), "edge-1")
    selection = select(spark, settings, target, SelectConfig())
    result = drill(selection, settings, tmp_path / "all.pcap")
    in_range = f"frame.time_epoch >= {start} && frame.time_epoch < {end}"
    assert tshark_rows(result.pcap) == tshark_rows(pcaps / CAPTURE, in_range)
    assert len(result.flows) == 3

    dns = select(spark, settings, replace(target, ports=(53,)), SelectConfig())
    result = drill(dns, settings, tmp_path / "dns.pcap")
    assert tshark_rows(result.pcap) == tshark_rows(pcaps / CAPTURE, f"{in_range} && udp.port == 53")
    assert [f.app_protocol for f in result.flows] == ["DNS"]
    assert tshark_column(pcaps / CAPTURE, f"{in_range} && udp.port == 53") == {"DNS"}

    host = select(spark, settings, replace(target, hosts=("65.208.228.223",)), SelectConfig())
    assert len(host.packets) == len(tshark_rows(pcaps / CAPTURE, f"{in_range} && ip.addr == 65.208.228.223"))


def test_anomaly_row_top_flow_and_truncation(spark, lake, pcaps, tmp_path) -> None:
    settings = lake["settings"]
    window_start = 1084443430  # a 10 s window holding the rest of the download, the DNS reply and flow 2
    spark.sql(
        f"INSERT INTO {ANOMALIES.qualified(settings)} (sensor_id, window_s, window_start, window_start_ns, model_name,"
        f" model_version, detector, score, threshold, is_anomaly, window_date) VALUES ('edge-1', 10,"
        f" timestamp_seconds({window_start}), {window_start * NS}, 'netqos-qos-anomaly', '3', 'robust_kpi', 9.5, 4.0,"
        f" true, date'2004-05-13')"
    )
    args = argparse.Namespace(out=tmp_path, max_packets=5, tree=False, no_dissect=False)
    selection = select(spark, settings, AnomalyTarget("edge-1", window_start * NS), SelectConfig(5, top_flows=1))
    assert (selection.start_ns, selection.end_ns) == (window_start * NS, (window_start + 10) * NS)  # the row's 10 s
    in_window = f"frame.time_epoch >= {window_start} && frame.time_epoch < {window_start + 10}"
    download = tshark_rows(pcaps / CAPTURE, f"{in_window} && tcp.stream == 0")  # the flow with the most bytes
    assert selection.truncated and selection.total == len(download)

    buf = io.StringIO()
    assert show(selection, settings, args, Console(file=buf, width=200)) == 0
    text = buf.getvalue()
    assert f"truncated: the first 5 of {len(download)} packets" in text
    assert "v3 scored 9.5 (threshold 4, anomaly)" in text
    pcap = tmp_path / f"netqos-inspect-anomaly-edge-1-{window_start}.pcap"
    assert f"wrote {pcap}" in text.replace("\n", "")
    assert tshark_rows(pcap) == download[:5]
    assert "HTTP" in text and text.count("65.208.228.223") >= 5  # flow table + tshark summary lines


def test_a_missing_or_changed_capture_is_named(spark, lake, tmp_path) -> None:
    settings = lake["settings"]
    selection = select(spark, settings, RangeTarget(0, 2**62, "edge-1"), SelectConfig())
    original = lake["local"].read_bytes()
    try:
        lake["local"].write_bytes(original + b"\0")
        with pytest.raises(CaptureUnavailable, match=f"{lake['local']}: changed since ingest"):
            drill(selection, settings, tmp_path)
    finally:
        lake["local"].write_bytes(original)
    for cached in cache_dir(settings).glob("*"):
        cached.unlink()
    s3 = s3_client(settings.s3)
    s3.delete_object(Bucket=lake["bucket"], Key=KEY)
    try:
        with pytest.raises(CaptureUnavailable, match=f"s3://{lake['bucket']}/{KEY}: missing"):
            drill(selection, settings, tmp_path)
    finally:
        s3.put_object(Bucket=lake["bucket"], Key=KEY, Body=lake["second"])
