"""Alert texts and the webhook notifier against a real local HTTP server (retries, failures, the secret URL)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from netqos.alerts.messages import alert_text, subject, summary_text
from netqos.alerts.notifiers import EmailNotifier, WebhookNotifier, configured, deliver
from netqos.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from s3server import free_port

NS = 1_000_000_000
ALERT = {"source": "rule", "rule": "rtt_p95_high", "kind": "firing", "severity": "warning", "sensor_id": "edge-1",
         "window_s": 60, "dimension": "dscp", "class": "ef", "kpi": "rtt_p95_s", "operator": ">", "threshold": 0.15,
         "value": 0.2345, "peak_value": 0.41, "windows": 3, "episode_start_ns": 1_795_000_200 * NS,
         "window_start_ns": 1_795_000_320 * NS, "top_features": None}  # fmt: skip


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    """Answers each POST with the next status of state["statuses"] (then 200), recording the bodies."""
    state: dict[str, Any] = {"statuses": [], "bodies": [], "calls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state["calls"] += 1
            status = state["statuses"].pop(0) if state["statuses"] else 200
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if status == 200:
                state["bodies"].append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/T0/B1/sekrit"
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_alert_texts() -> None:
    assert alert_text(ALERT) == (
        "[WARNING] rtt_p95_high: sensor edge-1 dscp=ef (60 s windows): rtt_p95_s 0.2345 > 0.15 for 3 windows "
        "since 2026-11-18 11:10:00Z (worst 0.41, last at 2026-11-18 11:12:00Z)"
    )
    repeat = alert_text({**ALERT, "kind": "repeat", "severity": "critical"})
    assert repeat.startswith("[CRITICAL] rtt_p95_high: sensor edge-1 dscp=ef (60 s windows): still firing: ")
    resolved = alert_text({**ALERT, "kind": "resolved", "value": 0.02})
    assert resolved.startswith("[RESOLVED] rtt_p95_high: sensor edge-1 dscp=ef (60 s windows): rtt_p95_s back to 0.02")
    anomaly = {**ALERT, "source": "anomaly", "rule": "model_anomaly", "kpi": "score", "dimension": "all", "value": 7.5,
               "threshold": 3.0, "model_name": "m", "model_version": "4",
               "top_features": [{"feature": "rtt_p95_s", "z": 9.25}, {"feature": "tcp_resets", "z": 4.0}]}  # fmt: skip
    text = alert_text(anomaly)
    assert "sensor edge-1 (60 s windows): anomaly score 7.5 > 3 (m v4)" in text
    assert text.endswith("; top features: rtt_p95_s (z 9.2), tcp_resets (z 4.0)")
    assert subject(ALERT) == "[netqos WARNING] rtt_p95_high on edge-1"
    assert summary_text([ALERT, {**ALERT, "sensor_id": "b"}, {**ALERT, "rule": "x"}], 20) == (
        "[netqos] 3 more alerts suppressed by the rate limit (20/h): rtt_p95_high x2 (b, edge-1); x x1 (edge-1) "
        "(all recorded in the alerts table, status rate_limited)"
    )


def test_webhook_posts_a_chat_compatible_body_and_retries_server_errors(server: dict[str, Any]) -> None:
    hook = WebhookNotifier(server["url"], timeout_s=2, retries=2, backoff_s=0.01)
    server["statuses"] = [503, 500]
    assert hook.send("subject", "hello") is None
    assert server["calls"] == 3 and server["bodies"] == [("application/json", {"text": "hello"})]


def test_webhook_failures_name_no_url(server: dict[str, Any]) -> None:
    hook = WebhookNotifier(server["url"], timeout_s=2, retries=3, backoff_s=0.01)
    server["statuses"] = [400]
    error = hook.send("s", "t")
    assert error == "webhook answered HTTP 400 (after 1 attempt)"  # a rejected body is not retried
    assert server["calls"] == 1
    down = WebhookNotifier(f"http://127.0.0.1:{free_port()}/hooks/sekrit", timeout_s=1, retries=1, backoff_s=0.01)
    error = down.send("s", "t")
    assert error is not None and error.startswith("webhook unreachable: ") and "sekrit" not in error
    assert "sekrit" not in repr(down)


def test_deliver_skips_notifiers_that_already_delivered(server: dict[str, Any]) -> None:
    hook = WebhookNotifier(server["url"], backoff_s=0.01)
    assert deliver([hook], "s", "t", done=["webhook"]) == (["webhook"], [])
    assert server["calls"] == 0
    assert deliver([hook], "s", "t") == (["webhook"], [])


def test_notifiers_from_settings_keep_the_url_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETQOS_ALERTS__WEBHOOK_URL", "https://hooks.example.org/services/T0/B1/sekrit")
    monkeypatch.setenv("NETQOS_ALERTS__EMAIL_TO", '["ops@example.org"]')
    settings = Settings()
    assert "sekrit" not in repr(settings) and "sekrit" not in settings.model_dump_json()
    hook, mail = configured(settings.alerts)
    assert isinstance(hook, WebhookNotifier) and hook.url.endswith("/sekrit")
    assert isinstance(mail, EmailNotifier) and mail.to == ["ops@example.org"] and mail.conn_id == "smtp_default"
    monkeypatch.delenv("NETQOS_ALERTS__WEBHOOK_URL")
    monkeypatch.delenv("NETQOS_ALERTS__EMAIL_TO")
    assert configured(Settings().alerts) == []
