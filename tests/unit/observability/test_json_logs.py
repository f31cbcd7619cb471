"""netqos.observability.logs: one JSON object per line with the run's context and extra fields; secrets from the
settings never reach the output (masked SecretStr, and raw values wherever they appear); text stays the default."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import SecretStr

from netqos.observability.job_run import job_metrics
from netqos.observability.logs import MASK, configure_logging, secret_values
from netqos.settings import AlertSettings, ObservabilitySettings, S3Settings, Settings

SECRET_KEY = "s3-secret-9f8e7d6c5b4a"
WEBHOOK = "https://hooks.example.invalid/services/T000/B000/tok-0123456789abcdef"


@pytest.fixture
def json_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "observability": ObservabilitySettings(metrics_dir=settings.observability.metrics_dir, log_format="json"),
            "s3": S3Settings(access_key_id=SecretStr("AKIA-test-id"), secret_access_key=SecretStr(SECRET_KEY)),
            "alerts": AlertSettings(webhook_url=SecretStr(WEBHOOK)),
        }
    )


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_carry_context_and_extra_fields(json_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_settings, job="ingest", run_id="scheduled__2026-11-28", sensor="edge-1")
    logging.getLogger("netqos.jobs.test").info("landed %d files", 3, extra={"table": "packets", "rows": 42})
    [record] = lines(capsys.readouterr().err)
    assert record["message"] == "landed 3 files"
    assert (record["level"], record["logger"]) == ("INFO", "netqos.jobs.test")
    assert (record["job"], record["run_id"], record["sensor"]) == ("ingest", "scheduled__2026-11-28", "edge-1")
    assert (record["table"], record["rows"]) == ("packets", 42)
    assert str(record["ts"]).endswith("+00:00")


def test_secrets_never_reach_the_json_output(json_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_settings, job="alerts")
    log = logging.getLogger("netqos.test")
    log.info("settings: %s", json_settings)  # SecretStr prints masked
    log.info("dump", extra={"settings": json_settings.model_dump()})
    try:
        raise ConnectionError(f"POST {WEBHOOK} failed")  # a library quoting the raw URL
    except ConnectionError:
        log.exception("webhook delivery failed")
    log.warning("signing with %s", json_settings.s3.secret_access_key.get_secret_value())  # type: ignore[union-attr]
    err = capsys.readouterr().err
    assert len(lines(err)) == 4
    assert SECRET_KEY not in err and WEBHOOK not in err and "tok-0123456789abcdef" not in err
    assert MASK in err


def test_secret_values_walks_every_section(json_settings: Settings) -> None:
    assert set(secret_values(json_settings)) == {SECRET_KEY, WEBHOOK, "AKIA-test-id"}


def test_job_metrics_logs_start_and_end_as_json(json_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with job_metrics("score_windows", json_settings, "run-3"):
        pass
    start, end = lines(capsys.readouterr().err)
    assert start["event"] == "job_started" and end["event"] == "job_finished"
    assert end["success"] is True and end["job"] == "score_windows" and end["run_id"] == "run-3"


def test_text_is_the_default_and_redacts_too(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert settings.observability.log_format == "text"
    settings = settings.model_copy(update={"s3": S3Settings(secret_access_key=SecretStr(SECRET_KEY))})
    configure_logging(settings, job="ingest")
    logging.getLogger("netqos.test").warning("key %s", SECRET_KEY)
    err = capsys.readouterr().err
    assert "WARNING netqos.test: key **********" in err and not err.lstrip().startswith("{")


def test_configure_replaces_only_console_handlers(settings: Settings) -> None:
    root = logging.getLogger()
    logging.basicConfig(force=True)  # a CLI's console handler
    mine = logging.FileHandler("/dev/null")
    root.addHandler(mine)
    configure_logging(settings)
    configure_logging(settings)
    consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
    assert len(consoles) == 1 and mine in root.handlers
    mine.close()
