"""Rendering without Spark: the HTML, JSON and CSV of one ReportData carry the same numbers; empty days say so."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pandas as pd

from netqos.report.kpis import kpi_table
from netqos.report.model import ModelInfo, ReportData, coverage
from netqos.report.publish import index_entries, write_folder, write_index
from netqos.report.render import render

DAY = date(2026, 11, 26)


def _data(with_traffic: bool = True, minutes: int = 90, now: datetime | None = None) -> ReportData:
    starts = (
        pd.date_range("2026-11-26 08:00", periods=minutes, freq="60s") if with_traffic else []
    )  # naive UTC, as toPandas gives
    volume = pd.DataFrame(
        {"sensor_id": "edge-1", "window_start": starts, "packets": 600, "bytes": 600_000, "bps": 80_000.0, "pps": 10.0}
    )
    sensors = pd.DataFrame(
        {
            "sensor_id": ["edge-1"],
            "packets": [600 * minutes],
            "bytes": [600_000 * minutes],
            "flows": [42],
            "peak_bps": [80_000.0],
            "mean_bps": [80_000.0],
            "minutes": [minutes],
            "first_window": [starts[0] if with_traffic else None],
            "last_window": [starts[-1] if with_traffic else None],
        }
    )
    timeline = pd.DataFrame(
        {
            "sensor_id": "edge-1",
            "window_start": starts[:10],
            "window_s": 10,
            "score": 1.0,
            "threshold": 3.0,
            "is_anomaly": False,
            "model_name": "m",
            "model_version": "2",
            "detector": "robust_kpi",
        }
    )
    if with_traffic:
        timeline.loc[3, ["score", "is_anomaly"]] = [9.0, True]
    sums = pd.DataFrame(
        [
            {
                "sensor_id": "edge-1",
                "class": "all",
                "period": p,
                "packets": 10,
                "tcp_segments": 10,
                "tcp_retransmissions": 1,
                "tcp_lost_segments": 0,
                "wlan_frames": 0,
                "wlan_retries": 0,
                "wlan_signal_dbm": None,
                "wlan_signal_min_dbm": None,
                "rtt_p50_s": 0.01,
                "rtt_p95_s": 0.05,
                "jitter_p95_s": None,
            }
            for p in ("day", "baseline")
        ]
    )
    tables = {
        "volume": volume,
        "sensors": sensors if with_traffic else sensors.iloc[0:0],
        "protocols": pd.DataFrame({"protocol": ["tcp", "udp"], "packets": [500, 100], "bytes": [550_000, 50_000]}),
        "top_talkers": pd.DataFrame(
            {
                "address": ["10.0.0.1"],
                "bytes_sent": [5],
                "bytes_received": [7],
                "bytes_total": [12],
                "flows": [1],
                "peers": [1],
            }
        ),
        "kpis": kpi_table(sums) if with_traffic else kpi_table(pd.DataFrame()),
        "anomaly_timeline": timeline if with_traffic else timeline.iloc[0:0],
        "quality": pd.DataFrame(
            {
                "sensor_id": ["edge-1", "edge-1"],
                "path": ["/a.pcap", "/b.pcap"],
                "status": ["ingested", "quarantined"],
                "packets": [10, 0],
                "error": [None, "expect_column_values_to_be_between"],
            }
        ),
    }
    if with_traffic:
        tables["alerts"] = pd.DataFrame(
            {"window_start": [starts[5]], "severity": ["critical"], "rule": ["rtt_p95_high"], "kind": ["firing"],
             "sensor_id": ["edge-1"], "traffic_class": ["voip"], "kpi": ["rtt_p95_s"], "value": [0.31],
             "threshold": [0.2], "status": ["sent"], "message": ["RTT p95 310 ms > 200 ms on edge-1/voip"]}
        )  # fmt: skip
    cov = coverage(volume["window_start"], day_ended=True)
    return ReportData(
        day=DAY,
        sensors=("edge-1",) if with_traffic else (),
        sensor_filter=(),
        generated_at=now or datetime(2026, 11, 27, 1, 30, tzinfo=UTC),
        coverage=cov,
        models=[ModelInfo("m", "2", "robust_kpi", 10, 1)] if with_traffic else [],
        data_docs=None,
        baseline_days=7,
        tables=tables,
        notes=[],
    )


def test_partial_day_says_so_and_numbers_agree_between_html_json_csv() -> None:
    files = render(_data())
    html = files["report.html"].decode()
    doc = json.loads(files["report.json"])
    assert doc["status"] == "partial" and "Partial day" in html and "90 of 1440 minutes (6.2%)" in html
    assert doc["totals"]["packets"] == 600 * 90 and f"{600 * 90:,}" in html
    assert doc["totals"]["anomalies"] == 1 and "1 / 10" in html
    # the CSV of a table holds the rows of its JSON table
    talkers = list(csv.DictReader(io.StringIO(files["csv/top_talkers.csv"].decode())))
    assert talkers == [{k: str(v) for k, v in row.items()} for row in doc["tables"]["top_talkers"]]
    kpis = list(csv.DictReader(io.StringIO(files["csv/kpis.csv"].decode())))
    assert {r["kpi"] for r in kpis} == {r["kpi"] for r in doc["tables"]["kpis"]}
    # self-contained: charts are data URIs, nothing is fetched from elsewhere
    assert 'src="data:image/png;base64,' in html and "http://" not in html and "https://" not in html
    assert "quarantined" in html and "expect_column_values_to_be_between" in html
    assert doc["totals"]["alerts"] == 1 and "rtt_p95_high" in html and "voip" in html


def test_empty_day_renders_and_says_so() -> None:
    files = render(_data(with_traffic=False))
    doc = json.loads(files["report.json"])
    assert doc["status"] == "empty" and doc["totals"]["packets"] == 0
    assert "No traffic was captured on 2026-11-26" in files["report.html"].decode()


def test_a_day_that_has_not_ended_is_partial() -> None:
    cov = coverage(pd.Series(pd.date_range("2026-11-26", periods=1440, freq="60s", tz="UTC")), day_ended=False)
    assert cov.status == "partial" and "has not ended" in cov.describe(DAY)
    full = coverage(pd.Series(pd.date_range("2026-11-26", periods=1440, freq="60s", tz="UTC")), day_ended=True)
    assert full.status == "complete"


def test_rewriting_a_day_replaces_it_and_the_index_lists_each_day_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_folder(tmp_path, DAY.isoformat(), render(_data()))
    write_folder(tmp_path, DAY.isoformat(), render(_data(minutes=30)))
    write_folder(tmp_path, "2026-11-25", render(_data(with_traffic=False)))
    entries = index_entries(tmp_path)
    assert sorted(e["name"] for e in entries) == ["2026-11-25", "2026-11-26"]
    assert next(e for e in entries if e["name"] == "2026-11-26")["totals"]["packets"] == 600 * 30
    index = write_index(tmp_path).read_text()
    assert index.index("2026-11-26/report.html") < index.index("2026-11-25/report.html")  # newest first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left behind
