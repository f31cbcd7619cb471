"""netqos.settings: precedence of env / TOML / defaults, validation errors a person can act on, secret hygiene."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from netqos.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No NETQOS_* from the caller (make exports some), no ./netqos.toml, a known cache home."""
    for name in list(os.environ):
        if name.startswith("NETQOS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = Settings()
    assert s.spark.master == "local[*]"
    assert s.spark.shuffle_partitions == 8
    assert s.lake.warehouse_dir == PROJECT_ROOT / "warehouse"


def test_cache_home_follows_xdg(clean_env: Path):
    s = Settings()
    assert s.home == clean_env / "cache" / "netqos"
    assert s.spark.jars_dir == clean_env / "cache" / "netqos" / "jars"


def test_env_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NETQOS_SPARK__MASTER", "local[2]")
    monkeypatch.setenv("NETQOS_SPARK__SHUFFLE_PARTITIONS", "3")
    monkeypatch.setenv("NETQOS_LAKE__WAREHOUSE_DIR", "/data/lake")
    s = Settings()
    assert s.spark.master == "local[2]"
    assert s.spark.shuffle_partitions == 3
    assert s.lake.warehouse_dir == Path("/data/lake")
    # Siblings of an overridden field keep their defaults.
    assert s.spark.app_name == "netqos"
    assert s.lake.database == "netqos"


def test_toml_from_netqos_config(monkeypatch: pytest.MonkeyPatch, clean_env: Path):
    cfg = write_toml(
        clean_env / "elsewhere.toml",
        'sensor_id = "edge-7"\n[spark]\nmaster = "local[3]"\nshuffle_partitions = 4\n[lake]\ndatabase = "qos"\n',
    )
    monkeypatch.setenv("NETQOS_CONFIG", str(cfg))
    s = Settings()
    assert s.sensor_id == "edge-7"
    assert s.spark.master == "local[3]"
    assert s.spark.shuffle_partitions == 4
    assert s.lake.database == "qos"


def test_netqos_toml_in_cwd_is_read_without_netqos_config(clean_env: Path):
    write_toml(clean_env / "netqos.toml", 'sensor_id = "from-cwd"\n')
    assert Settings().sensor_id == "from-cwd"


def test_precedence_init_over_env_over_toml(monkeypatch: pytest.MonkeyPatch, clean_env: Path):
    cfg = write_toml(clean_env / "c.toml", '[spark]\nmaster = "toml"\napp_name = "toml-app"\nshuffle_partitions = 5\n')
    monkeypatch.setenv("NETQOS_CONFIG", str(cfg))
    monkeypatch.setenv("NETQOS_SPARK__MASTER", "env")
    monkeypatch.setenv("NETQOS_SPARK__APP_NAME", "env-app")
    s = Settings(spark={"master": "init"})
    assert s.spark.master == "init"
    assert s.spark.app_name == "env-app"
    # Sources merge field by field: the TOML value survives where nothing above it speaks.
    assert s.spark.shuffle_partitions == 5


def test_bad_value_names_the_field_and_the_rule(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NETQOS_SPARK__SHUFFLE_PARTITIONS", "0")
    with pytest.raises(ValidationError) as exc:
        Settings()
    errors = exc.value.errors()
    assert [e["loc"] for e in errors] == [("spark", "shuffle_partitions")]
    message = str(exc.value)
    assert "spark.shuffle_partitions" in message
    assert "greater than or equal to 1" in message


def test_bad_value_in_toml_is_reported_too(monkeypatch: pytest.MonkeyPatch, clean_env: Path):
    cfg = write_toml(clean_env / "bad.toml", "[decode]\nchunk_bytes = 10\n")
    monkeypatch.setenv("NETQOS_CONFIG", str(cfg))
    with pytest.raises(ValidationError, match=r"decode\.chunk_bytes"):
        Settings()


def test_unknown_top_level_key_is_rejected(monkeypatch: pytest.MonkeyPatch, clean_env: Path):
    cfg = write_toml(clean_env / "typo.toml", 'sensor = "x"\n')
    monkeypatch.setenv("NETQOS_CONFIG", str(cfg))
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Settings()


def test_secrets_stay_out_of_repr_and_dumps(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NETQOS_S3__ACCESS_KEY_ID", "AKIA-not-a-real-key")
    monkeypatch.setenv("NETQOS_S3__SECRET_ACCESS_KEY", "hunter2-very-secret")
    s = Settings()
    for shown in (repr(s), str(s), repr(s.s3), s.model_dump_json(), str(s.model_dump())):
        assert "hunter2-very-secret" not in shown
        assert "AKIA-not-a-real-key" not in shown
    assert s.s3.secret_access_key is not None
    assert s.s3.secret_access_key.get_secret_value() == "hunter2-very-secret"


def test_nested_typo_is_rejected(monkeypatch):
    monkeypatch.setenv("NETQOS_SPARK__MASTR", "local[2]")
    with pytest.raises(ValidationError, match="mastr"):
        Settings()


def test_missing_config_file_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("NETQOS_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        Settings()


def test_jars_dir_follows_netqos_home(monkeypatch, tmp_path):
    monkeypatch.setenv("NETQOS_HOME", str(tmp_path))
    monkeypatch.delenv("NETQOS_SPARK__JARS_DIR", raising=False)
    assert Settings().spark.jars_dir == tmp_path / "jars"
