"""The alerts job on a Delta lake, against a real local HTTP receiver (the chat webhook) and a real SMTP sink
(aiosmtpd) reached through Airflow's SmtpNotifier and an AIRFLOW_CONN_* connection.

The qos_windows / anomalies rows are synthetic on purpose: the alert decisions are under test, and known
episodes make the expected messages exact.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_string, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import pytest

from netqos.jobs import alerts as job
from netqos.lake.tables import ALERTS, ANOMALIES, QOS_WINDOWS, ensure_tables
from netqos.settings import AlertSettings, Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from s3server import free_port

pytestmark = [pytest.mark.spark, pytest.mark.integration]

S = 1_000_000_000
T0 = 1_795_000_200  # a whole minute
RTT = {"name": "rtt_p95_high", "kpi": "rtt_p95_s", "threshold": 0.15, "for_windows": 3, "min_packets": 10}


class Receiver:
    """A chat-webhook stand-in on 127.0.0.1: records every JSON body, answers `status`."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                if outer.status == 200:
                    outer.bodies.append(body)
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token-123"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def texts(self) -> list[str]:
        return [b["text"] for b in self.bodies]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """aiosmtpd on 127.0.0.1 and the Airflow connection smtp_alerts_test pointing at it; yields the messages."""
    from aiosmtpd.controller import Controller

    got: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            got.append(message_from_string(envelope.content.decode(), policy=policy.default))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    conn = {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "netqos@example.org"}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS_TEST", json.dumps(conn))
    yield got
    controller.stop()


def _windows(sensor: str, rtt: list[float]) -> list[dict[str, Any]]:
    rows = []
    for i, v in enumerate(rtt):
        start = T0 + 60 * i
        rows.append({"sensor_id": sensor, "window_s": 60, "window_start": datetime.fromtimestamp(start, UTC),
                     "window_start_ns": start * S, "window_date": date.fromtimestamp(start), "dimension": "all",
                     "class": "all", "packets": 1000, "rtt_samples": 200, "rtt_p95_s": v})  # fmt: skip
    return rows


def _anomaly(i: int, score: float) -> dict[str, Any]:
    start = T0 + 10 * i
    flagged = score >= 3.0
    return {"sensor_id": "s1", "window_s": 10, "window_start": datetime.fromtimestamp(start, UTC),
            "window_start_ns": start * S, "model_name": "netqos-qos-anomaly", "model_version": "4",
            "model_run_id": "abc", "detector": "robust_kpi", "score": score, "threshold": 3.0, "is_anomaly": flagged,
            "top_features": [{"feature": "rtt_p95_s", "z": 9.25}, {"feature": "tcp_retransmission_rate", "z": 4.5}]
            if flagged else None, "scored_at": datetime.fromtimestamp(T0 + 3600, UTC), "scoring_run_id": "r",
            "window_date": date.fromtimestamp(start)}  # fmt: skip


def _write(spark: Any, settings: Settings, spec: Any, rows: list[dict[str, Any]]) -> None:
    frame = [tuple(r.get(c) for c in spec.column_names) for r in rows]
    spark.createDataFrame(frame, spec.schema).writeTo(spec.qualified(settings)).append()


def _lake(spark: Any, settings: Settings) -> None:
    ensure_tables(spark, settings, (QOS_WINDOWS, ANOMALIES, ALERTS))
    # s1: one episode (windows 1..4, resolved at 5); s2: firing from window 0 on. The last window is still open.
    _write(spark, settings, QOS_WINDOWS, _windows("s1", [0.05, 0.3, 0.35, 0.3, 0.3, 0.05, 0.05, 0.05])
           + _windows("s2", [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.05]))  # fmt: skip
    _write(spark, settings, ANOMALIES, [_anomaly(i, s) for i, s in enumerate([1.0, 5.0, 7.5, 1.0])])


def _settings(settings: Settings, url: str, **kw: Any) -> Settings:
    cfg = AlertSettings.model_validate({
        "rules": [RTT], "anomaly_for_windows": 2, "anomaly_severity": "critical", "webhook_url": url,
        "webhook_retries": 1, "webhook_timeout_s": 2, "email_to": ["ops@example.org"],
        "smtp_conn_id": "smtp_alerts_test", **kw,
    })  # fmt: skip
    return settings.model_copy(update={"alerts": cfg})


def _table(spark: Any, settings: Settings) -> pd.DataFrame:
    return spark.table(ALERTS.qualified(settings)).toPandas().sort_values("alert_id").reset_index(drop=True)


def test_one_message_per_episode_rate_limit_summary_email_and_rerun(spark, settings, receiver, smtp) -> None:
    settings = _settings(settings, receiver.url, max_per_hour=2)
    _lake(spark, settings)

    report = job.run(spark, settings, "run-1")
    # three episodes: the anomaly (critical) and s2 are sent, s1 (fired latest) is over the limit of 2 per hour
    texts = receiver.texts()
    assert len(texts) == 3, texts
    assert texts[0].startswith("[CRITICAL] model_anomaly: sensor s1 (10 s windows): anomaly score 7.5 > 3")
    assert "top features: rtt_p95_s (z 9.2), tcp_retransmission_rate (z 4.5)" in texts[0]
    assert texts[1].startswith("[WARNING] rtt_p95_high: sensor s2 (60 s windows): rtt_p95_s 0.5 > 0.15 for 3 windows")
    assert texts[2].startswith("[netqos] 1 more alert suppressed by the rate limit (2/h): rtt_p95_high x1 (s1)")
    assert report.summary == texts[2]

    rows = _table(spark, settings)
    by = {(r.rule, r.sensor_id, r.kind): r for r in rows.itertuples()}
    assert {k: r.status for k, r in by.items()} == {
        ("model_anomaly", "s1", "firing"): "sent",
        ("model_anomaly", "s1", "resolved"): "deduplicated",  # same run: one message per episode
        ("rtt_p95_high", "s2", "firing"): "sent",
        ("rtt_p95_high", "s1", "firing"): "rate_limited",
        ("rtt_p95_high", "s1", "resolved"): "deduplicated",
    }
    s2 = by[("rtt_p95_high", "s2", "firing")]
    assert s2.window_start_ns == (T0 + 120) * S and s2.episode_start_ns == T0 * S and s2.windows == 3
    assert list(s2.notifiers) == ["webhook", "email"] and s2.attempts == 1 and s2.run_id == "run-1"
    assert s2.notified_at is not None and s2.alert_date == date.fromtimestamp(T0 + 120)
    assert by[("model_anomaly", "s1", "firing")].top_features[0]["feature"] == "rtt_p95_s"
    assert pd.isna(by[("rtt_p95_high", "s1", "firing")].notified_at)

    # the same alerts by e-mail, through Airflow's SmtpNotifier
    assert [m["Subject"] for m in smtp] == [
        "[netqos CRITICAL] model_anomaly on s1",
        "[netqos WARNING] rtt_p95_high on s2",
        "[netqos] alerts suppressed by the rate limit",
    ]
    assert smtp[1]["To"] == "ops@example.org" and smtp[1]["From"] == "netqos@example.org"
    assert "rtt_p95_s 0.5 &gt; 0.15" in smtp[1].get_body(("html",)).get_content()

    # a rerun over the same data (another run id) sends nothing and writes nothing
    again = job.run(spark, settings, "run-2")
    assert again.rows == 0 and len(receiver.bodies) == 3 and len(smtp) == 3
    assert _table(spark, settings).equals(rows)


def test_webhook_down_is_recorded_failed_and_retried_later(spark, settings, receiver, smtp) -> None:
    settings = _settings(settings, receiver.url, anomalies=False)
    _lake(spark, settings)
    receiver.status = 503

    report = job.run(spark, settings, "down")
    rows = _table(spark, settings)
    firing = rows[rows["kind"] == "firing"]
    assert report.by_status == {"failed": 2, "deduplicated": 1} and len(rows) == 3
    assert (firing["status"] == "failed").all() and (firing["attempts"] == 1).all()
    assert firing["notifiers"].map(list).tolist() == [["email"], ["email"]]  # e-mail still went out
    assert firing["error"].str.contains("webhook answered HTTP 503 \\(after 2 attempts\\)").all()
    assert not rows["error"].fillna("").str.contains("secret-token").any()  # the URL is a secret
    assert len(smtp) == 2 and receiver.bodies == []

    receiver.status = 200  # back up: the next run retries the webhook only
    job.run(spark, settings, "up")
    after = _table(spark, settings)
    assert len(after) == 3 and sorted(receiver.texts())[0].startswith("[WARNING] rtt_p95_high: sensor s1")
    assert len(receiver.bodies) == 2 and len(smtp) == 2  # no second e-mail
    fired = after[after["kind"] == "firing"]
    assert (fired["status"] == "sent").all() and (fired["attempts"] == 2).all()
    assert fired["notifiers"].map(sorted).tolist() == [["email", "webhook"]] * 2
    assert (fired["created_at"].to_numpy() == firing["created_at"].to_numpy()).all()
