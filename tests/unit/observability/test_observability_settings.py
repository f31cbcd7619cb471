"""The [observability] settings section: defaults (text logs, textfile on, agent endpoint off) and the checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from netqos.observability.export import textfile_path
from netqos.settings import ObservabilitySettings, Settings


def test_defaults_are_quiet_and_local(settings: Settings) -> None:
    cfg = ObservabilitySettings()
    assert (cfg.log_format, cfg.textfile, cfg.pushgateway_url, cfg.agent_port) == ("text", True, None, None)
    assert cfg.agent_addr == "127.0.0.1"
    home_only = settings.model_copy(update={"observability": cfg})
    assert textfile_path(home_only, "ingest") == settings.home / "metrics" / "ingest.prom"


def test_env_sets_the_section(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./netqos.toml
    monkeypatch.delenv("NETQOS_CONFIG", raising=False)
    monkeypatch.setenv("NETQOS_OBSERVABILITY__LOG_FORMAT", "json")
    monkeypatch.setenv("NETQOS_OBSERVABILITY__PUSHGATEWAY_URL", "http://pushgateway:9091")
    cfg = Settings().observability
    assert (cfg.log_format, cfg.pushgateway_url) == ("json", "http://pushgateway:9091")


@pytest.mark.parametrize("url", ["pushgateway:9091", "http://user:pass@pushgateway:9091", "https://token@pg.example"])
def test_pushgateway_url_is_checked(url: str) -> None:
    with pytest.raises(ValidationError, match="pushgateway_url"):
        ObservabilitySettings(pushgateway_url=url)


def test_unknown_keys_and_formats_are_errors() -> None:
    with pytest.raises(ValidationError):
        ObservabilitySettings(log_format="xml")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ObservabilitySettings.model_validate({"metrics_port": 9100})
