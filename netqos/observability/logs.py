"""Logging for the jobs and the agent: JSON lines (one object per line) for a log shipper, or text for people.

A JSON line holds ts, level, logger, message, the run's context (job, run_id, sensor) and any `extra=` fields.
Secrets: SecretStr values print masked anyway; the formatter also replaces the raw value of every secret in the
settings wherever it shows up (an exception quoting a URL with a token, a driver echoing its connection string).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, SecretStr

from netqos.settings import Settings

MASK = "**********"  # what SecretStr prints
# LogRecord attributes that are not `extra=` fields.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
# Chatty at INFO (a line per py4j connection) and not ours.
# great_expectations logs ~150 INFO lines per validation (decorator registration): noise in every task log.
_QUIET = ("py4j", "urllib3", "botocore", "boto3", "s3transfer", "great_expectations")


def secret_values(model: BaseModel) -> list[str]:
    """The raw values of every SecretStr in a settings tree (longest first, so a value holding another is
    masked whole)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            if value.get_secret_value():
                found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(model)
    return sorted(set(found), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, context: Mapping[str, str | None] | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.context = {k: v for k, v in (context or {}).items() if v is not None}
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self.context,
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, default=str), self.secrets)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def configure_logging(settings: Settings, **context: str | None) -> None:
    """Route the root logger to stderr in settings.observability.log_format; `context` (job, run_id, sensor)
    goes into every JSON line. Replaces the console handler set before (a second call wins)."""
    cfg = settings.observability
    secrets = secret_values(settings)
    handler = logging.StreamHandler(sys.stderr)
    if cfg.log_format == "json":
        handler.setFormatter(JsonFormatter(context, secrets))
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        # Console handlers set before (basicConfig in the CLI, an earlier call); a subclass (a test's log
        # capture, a file handler) is someone else's and stays.
        if type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(cfg.log_level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
