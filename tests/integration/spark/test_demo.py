"""run_demo on a few captures; expected numbers from MANIFEST.tsv / tshark-summary.tsv, not from our decoder."""

from __future__ import annotations

import shutil

import pytest

from netqos.demo import ingest_samples, run_demo

pytestmark = [pytest.mark.spark, pytest.mark.integration]

# packets (capinfos), tcp (tshark), link type (file header): 10/0/1, 136/136/1, 3/0/105
SAMPLES = ["zeek-5-pings.pcap", "zeek-ftp-ipv6.pcap", "zeek-wlanmon.pcap"]


def test_demo_ingests_and_summarizes(spark, settings, pcaps, tmp_path, capsys):
    for name in SAMPLES:
        shutil.copyfile(pcaps / name, tmp_path / name)
    (tmp_path / "README.md").write_text("not a capture; the demo skips it")
    demo_settings = settings.model_copy(update={"sample_dir": tmp_path})

    summary = ingest_samples(spark, demo_settings)

    assert sorted((f, s, n) for f, s, _, n in summary.per_file) == [
        ("zeek-5-pings.pcap", "ingested", 10),
        ("zeek-ftp-ipv6.pcap", "ingested", 136),
        ("zeek-wlanmon.pcap", "ingested", 3),
    ]
    assert summary.per_link_type == [(1, "ethernet", 146), (105, "ieee802_11", 3)]
    protocols = dict(summary.per_protocol)
    assert protocols["tcp"] == 136  # tshark: every frame of zeek-ftp-ipv6 is TCP
    assert protocols["icmp"] == 10  # five pings: echo request + reply
    assert sum(protocols.values()) == 149
    # flows and windows were built: the FTP-over-IPv6 control and data connections lead by bytes
    assert summary.top_flows and summary.top_flows[0][2] == "tcp"
    by_class = {row[0]: row for row in summary.qos_by_service}
    assert sum(row[2] for row in summary.qos_by_service) == 149
    assert by_class["icmp"][2] == 10 and by_class["file"][2] > 0

    again = ingest_samples(spark, demo_settings)  # rerun: nothing new, same summary
    assert len(again.report.skipped) == 3 and again.report.entries == []
    assert again.per_protocol == summary.per_protocol

    assert run_demo(demo_settings, spark) == 0
    out = capsys.readouterr().out
    assert "packets per protocol" in out and "zeek-ftp-ipv6.pcap" in out and "icmp" in out
    assert "top flows by bytes" in out and "QoS per service class" in out
    # the report of the busiest sample day (zeek-ftp-ipv6: 136 packets on 2012-02-15)
    assert "report 2012-02-15: partial" in out
    html = demo_settings.lake.warehouse_dir.parent / "reports" / "2012-02-15" / "report.html"
    assert html.is_file() and html.as_uri() in out
