"""The nightly report on real captures: numbers cross-checked against Spark SQL over the same tables, the HTML
opened offline in headless Chromium and screenshotted, the files uploaded to a real MinIO bucket, empty days."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from netqos.demo import ingest_samples
from netqos.jobs import nightly_report
from netqos.lake.tables import ANOMALIES, ensure_tables
from netqos.report.collect import PROTOCOL_NAMES
from netqos.settings import S3Settings

pytestmark = [pytest.mark.spark, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CAPTURE = "zeek-206_example_b.pcap"  # 1556 packets of HTTP/DNS/ICMP over 25 minutes on 2011-01-12
DAY = date(2011, 1, 12)
BUCKET = "netqos-reports"


@pytest.fixture(scope="module")
def lake(spark, settings_factory, pcaps, lake_minio, tmp_path_factory):
    """The capture on DAY, the same capture shifted one day earlier (a previous day and a baseline), and the
    scores of a model run: the 10 s window with the most retransmissions is the flagged one."""
    folder = tmp_path_factory.mktemp("report-captures")
    shutil.copyfile(pcaps / CAPTURE, folder / CAPTURE)
    subprocess.run(["editcap", "-t", "-86400", str(pcaps / CAPTURE), str(folder / "previous-day.pcap")], check=True)
    reports = tmp_path_factory.mktemp("reports")
    settings = settings_factory("nightly_report")
    settings = settings.model_copy(
        update={
            "sample_dir": folder,
            "report": settings.report.model_copy(update={"reports_dir": reports, "bucket": BUCKET}),
            "s3": S3Settings(
                endpoint_url=lake_minio.endpoint_url,
                access_key_id=lake_minio.access_key,
                secret_access_key=lake_minio.secret_key,
            ),
        }
    )
    ingest_samples(spark, settings)
    ensure_tables(spark, settings, (ANOMALIES,))
    spark.sql(f"""
        INSERT INTO {ANOMALIES.qualified(settings)}
        SELECT sensor_id, window_s, window_start, window_start_ns, 'netqos-qos-anomaly', '3', 'run-1', 'robust_kpi',
               CAST(tcp_retransmissions AS DOUBLE), 2.0, tcp_retransmissions >= 2,
               CASE WHEN tcp_retransmissions >= 2 THEN array(named_struct('feature', 'tcp_retransmission_rate',
                    'z', CAST(tcp_retransmissions AS DOUBLE))) END,
               current_timestamp(), 'scoring-run', window_date
        FROM {settings.lake.database}.qos_windows WHERE window_s = 10 AND dimension = 'all'
    """)
    import boto3

    boto3.client(
        "s3",
        endpoint_url=lake_minio.endpoint_url,
        aws_access_key_id=lake_minio.access_key,
        aws_secret_access_key=lake_minio.secret_key,
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    return settings


def test_report_numbers_match_sql_and_it_reads_offline(spark, lake, lake_minio, tmp_path):
    db = lake.lake.database
    _data, published = nightly_report.run(spark, lake, DAY)
    doc = json.loads((published.folder / "report.json").read_text())
    html = published.html.read_text()

    # totals: every packet of the day is in a 60 s window of the day
    packets = spark.sql(f"SELECT count(*) FROM {db}.packets WHERE capture_date = DATE'{DAY}'").first()[0]
    assert packets == 1556 and doc["totals"]["packets"] == packets
    assert doc["status"] == "partial"  # 25 minutes of one day
    # protocol mix against a plain GROUP BY over the packets
    by_proto = {
        r[0]: r[1]
        for r in spark.sql(
            f"SELECT ip_proto, count(*) FROM {db}.packets WHERE capture_date = DATE'{DAY}' GROUP BY 1"
        ).collect()
    }
    protocols = {r["protocol"]: r["packets"] for r in doc["tables"]["protocols"]}
    assert protocols == {PROTOCOL_NAMES[p]: n for p, n in by_proto.items()} and protocols["tcp"] > 1000
    # top talker: bytes sent + received over the flows that started that day, written independently here
    talker = spark.sql(f"""
        SELECT address, sum(b) AS total FROM (
          SELECT src_addr AS address, bytes AS b FROM {db}.flows WHERE flow_date = DATE'{DAY}' AND flow_kind = 'ip'
          UNION ALL
          SELECT dst_addr, bytes FROM {db}.flows WHERE flow_date = DATE'{DAY}' AND flow_kind = 'ip')
        GROUP BY address ORDER BY total DESC, address LIMIT 1""").first()
    top = doc["tables"]["top_talkers"][0]
    assert (top["address"], top["bytes_total"]) == (talker["address"], talker["total"])
    # RTT p95 of the day lies within one rank step of the exact percentile of every tcp_ack_rtt sample
    lo, hi = spark.sql(
        f"SELECT percentile(tcp_ack_rtt, 0.949), percentile(tcp_ack_rtt, 0.951) FROM {db}.tcp_analysis "
        f"WHERE capture_date = DATE'{DAY}'"
    ).first()
    rtt = next(r for r in doc["tables"]["kpis"] if r["class"] == "all" and r["kpi"] == "rtt_p95_ms")
    assert lo * 1000 - 1e-9 <= rtt["day"] <= hi * 1000 + 1e-9
    # the shifted copy is the previous day and the whole baseline: same traffic, same KPI
    assert rtt["previous_day"] == pytest.approx(rtt["day"]) and rtt["baseline"] == pytest.approx(rtt["day"])
    # anomalies: the flagged windows, explained, with the flows that were active in them
    flagged = spark.sql(
        f"SELECT count(*) FROM {db}.anomalies WHERE window_date = DATE'{DAY}' AND is_anomaly").first()[0]  # fmt: skip
    assert flagged > 0 and doc["totals"]["anomalies"] == flagged
    assert doc["models"][0]["version"] == "3" and "netqos-qos-anomaly v3" in html
    worst = doc["tables"]["top_anomalies"][0]
    assert "tcp_retransmission_rate" in worst["drivers"] and worst["flows"]
    assert {r["status"] for r in doc["tables"]["quality"]} == {"ingested"}

    # the same files in the reports bucket, and the index
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=lake_minio.endpoint_url,
        aws_access_key_id=lake_minio.access_key,
        aws_secret_access_key=lake_minio.secret_key,
        region_name="us-east-1",
    )
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {"index.html", f"{DAY}/report.html", f"{DAY}/report.json", f"{DAY}/csv/kpis.csv"} <= keys
    assert published.s3_uri == f"s3://{BUCKET}/{DAY}/"

    if not CHROMIUM.is_file():
        pytest.fail("the report must be checked in a browser: install chromium (make tools)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(published.html.as_uri())
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth])")
        status = page.inner_text("#day-status")
        cards = page.inner_text("#totals")
        rows = page.eval_on_selector_all("#kpi-table tr[data-kpi]", "els => els.length")
        page.goto(published.index.as_uri())
        index_text = page.inner_text("#reports")
        browser.close()
    assert {alt for alt, width in images if width > 0} == {
        "traffic over the day",
        "protocol and service mix",
        "anomaly timeline",
    }
    assert all(u.startswith(("file:", "data:")) for u in fetched), fetched  # readable offline
    assert status.startswith("PARTIAL") and f"{packets:,}" in cards and rows == len(doc["tables"]["kpis"])
    assert str(DAY) in index_text
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_rerun_replaces_the_day_and_an_empty_day_says_so(spark, lake):
    _, first = nightly_report.run(spark, lake, DAY)
    _, again = nightly_report.run(spark, lake, DAY)
    assert first.folder == again.folder and len(list(first.folder.parent.glob(f"{DAY}*"))) == 1
    _data, empty = nightly_report.run(spark, lake, date(2011, 2, 1))
    doc = json.loads((empty.folder / "report.json").read_text())
    assert doc["status"] == "empty" and doc["totals"]["packets"] == 0
    assert "No traffic was captured on 2011-02-01" in empty.html.read_text()
    index = (first.folder.parent / "index.html").read_text()
    assert "2011-02-01/report.html" in index and f"{DAY}/report.html" in index
