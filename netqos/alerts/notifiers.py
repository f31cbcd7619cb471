"""Delivery: a chat webhook (JSON {"text": ...}) and e-mail through Airflow's SmtpNotifier.

A notifier never raises for a delivery problem: it returns an error text (without the webhook URL, which is a
secret) and the caller records the alert as failed.
"""

from __future__ import annotations

import html
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from netqos.settings import AlertSettings

log = logging.getLogger(__name__)


class Notifier(Protocol):
    name: str

    def send(self, subject: str, text: str) -> str | None:
        """Deliver; None when delivered, else why not (safe to log and store)."""


def webhook_body(text: str) -> dict[str, Any]:
    """Slack, Mattermost and Rocket.Chat incoming webhooks and Teams workflows all read `text`."""
    return {"text": text}


@dataclass
class WebhookNotifier:
    url: str  # the secret: never logged, never in an error
    timeout_s: float = 5.0
    retries: int = 2
    backoff_s: float = 0.5
    name: str = "webhook"

    def __repr__(self) -> str:
        return f"WebhookNotifier(url=***, timeout_s={self.timeout_s}, retries={self.retries})"

    def send(self, subject: str, text: str) -> str | None:
        data = json.dumps(webhook_body(text)).encode()
        error = "not attempted"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            req = urllib.request.Request(
                self.url, data=data, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    resp.read()
                return None
            except urllib.error.HTTPError as exc:
                error = f"webhook answered HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break  # the receiver rejects the body: retrying will not help
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                error = f"webhook unreachable: {type(reason).__name__}"
        error = f"{error} (after {attempt + 1} attempt{'s' if attempt else ''})"
        log.warning("alert webhook delivery failed: %s", error)
        return error


@dataclass
class EmailNotifier:
    """Airflow's SmtpNotifier with the connection `conn_id`, resolved by Airflow's secrets backends (outside a task:
    AIRFLOW_CONN_<ID> environment variables, then the metastore when configured)."""

    to: list[str]
    conn_id: str = "smtp_default"
    from_email: str | None = None
    name: str = "email"

    def send(self, subject: str, text: str) -> str | None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        body = f'<pre style="font-family: monospace">{html.escape(text)}</pre>'
        notifier = SmtpNotifier(
            to=self.to, from_email=self.from_email, subject=subject, html_content=body, smtp_conn_id=self.conn_id
        )
        try:
            notifier.notify({})  # no task context: subject and body are given, nothing left to template
        except Exception as exc:
            error = f"email via {self.conn_id} failed: {type(exc).__name__}: {str(exc)[:200]}"
            log.warning("alert e-mail delivery failed: %s", error)
            return error
        return None


def configured(cfg: AlertSettings) -> list[Notifier]:
    out: list[Notifier] = []
    if cfg.webhook_url is not None and cfg.webhook_url.get_secret_value():
        out.append(WebhookNotifier(cfg.webhook_url.get_secret_value(), cfg.webhook_timeout_s, cfg.webhook_retries))
    if cfg.email_to:
        out.append(EmailNotifier(list(cfg.email_to), cfg.smtp_conn_id, cfg.email_from))
    return out


def deliver(
    notifiers: list[Notifier], subject: str, text: str, done: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Send through every notifier not in `done` (delivered by an earlier attempt); (delivered, errors)."""
    delivered = list(done or [])
    errors: list[str] = []
    for n in notifiers:
        if n.name in delivered:
            continue
        error = n.send(subject, text)
        if error is None:
            delivered.append(n.name)
        else:
            errors.append(error)
    return delivered, errors


def describe(cfg: AlertSettings) -> Mapping[str, Any]:
    """What is configured, for logs and `--dry-run` (the webhook URL stays hidden)."""
    return {
        "webhook": "configured" if cfg.webhook_url is not None else "off",
        "email": ", ".join(cfg.email_to) + f" via {cfg.smtp_conn_id}" if cfg.email_to else "off",
    }
