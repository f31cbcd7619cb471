"""The one home of netqos configuration: a typed settings object read from `netqos.toml` and `NETQOS_*` env vars.

Precedence: init kwargs > environment (NETQOS_<FIELD>, nested with `__`) > TOML file > defaults.
The TOML file is `$NETQOS_CONFIG` if set, else `./netqos.toml` when present.
Secrets (S3 keys, DB passwords) are only ever read from the environment, never written to logs.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from netqos.features.config import FeatureConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    if os.environ.get("NETQOS_HOME"):
        return Path(os.environ["NETQOS_HOME"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "netqos"


class _Section(BaseModel):
    # A misspelled key in a section ([spark] mastr=...) is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class SparkSettings(_Section):
    master: str = "local[*]"
    app_name: str = "netqos"
    driver_memory: str = "2g"
    shuffle_partitions: int = Field(default=8, ge=1)
    # Extra jars (Delta, hadoop-aws) fetched by `make jars`; see infra/jars/pom.xml.
    jars_dir: Path = Field(default_factory=lambda: _default_home() / "jars")
    extra_conf: dict[str, str] = Field(default_factory=dict)
    # Driver log level once the session is up (Spark's INFO default buries job output).
    log_level: str = "WARN"


class LakeSettings(_Section):
    warehouse_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "warehouse")
    database: str = "netqos"


class ReportSettings(_Section):
    """The nightly QoS report (netqos.report, docs/reports.md)."""

    # Local home of the reports (one folder per day + index.html); None = <warehouse>/../reports.
    reports_dir: Path | None = None
    # Also uploaded to s3://<bucket>/<day>/ when set (the local stack and deployments set it); None = local only.
    bucket: str | None = None
    top_n: int = Field(default=10, ge=1, le=100)  # rows in the top talkers / flows / anomalies tables
    baseline_days: int = Field(default=7, ge=1, le=90)  # the "usual" column beside each KPI


class AlertSettings(_Section):
    """Alert rules and notifiers (netqos.alerts, docs/alerts.md)."""


class S3Settings(_Section):
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    landing_bucket: str = "netqos-landing"
    ca_bundle: Path | None = None  # PEM file to verify a TLS endpoint with a private CA (e.g. a self-signed MinIO)


class DecodeSettings(_Section):
    # Bytes read per chunk; bounds decoder memory independently of file size. 8 MiB keeps a chunk's headers
    # in cache across the decoder's passes (measured: -28% CPU against 32 MiB).
    chunk_bytes: int = Field(default=8 << 20, ge=1 << 16)
    # Records claiming more than this are treated as corrupt (Wireshark's limit is 256 KiB for most links).
    max_record_bytes: int = Field(default=256 * 1024, ge=65535)


class FeatureSettings(_Section):
    """Flows and QoS windows (netqos.features); see docs/flows.md and docs/schema/qos_windows.md."""

    idle_timeout: float = Field(default=120.0, gt=0)
    active_timeout: float = Field(default=1800.0, gt=0)
    tcp_close: bool = True
    vlan_aware: bool = True
    window_seconds: tuple[int, ...] = (10, 60)
    # Service class -> ports; None = netqos.features.config.DEFAULT_SERVICE_PORTS.
    service_ports: dict[str, tuple[int, ...]] | None = None
    plugins: tuple[str, ...] = ()
    # Spark groups each sensor's packets into this many buckets of address pairs (0 = spark.shuffle_partitions).
    flow_buckets: int = Field(default=0, ge=0)

    def config(self, sensor_id: str = "local", *, per_file: bool = True) -> FeatureConfig:
        """The library's FeatureConfig (validated there: window lengths, port ranges)."""
        from netqos.features.config import DEFAULT_SERVICE_PORTS, FeatureConfig
        from netqos.flows.config import FlowConfig

        flow = FlowConfig(
            idle_timeout=self.idle_timeout,
            active_timeout=self.active_timeout,
            tcp_close=self.tcp_close,
            vlan_aware=self.vlan_aware,
            sensor_id=sensor_id,
            per_file=per_file,
        )
        ports = dict(DEFAULT_SERVICE_PORTS) if self.service_ports is None else self.service_ports
        return FeatureConfig(flow=flow, window_seconds=self.window_seconds, service_ports=ports, plugins=self.plugins)


class CaptureSettings(_Section):
    """The capture agent (`netqos capture`); docs/capture.md. Every value is checked when the agent starts."""

    interfaces: list[str] = Field(default_factory=list)  # required to capture: e.g. ["eth0"]; "any" = all
    bpf_filter: str = ""
    snaplen: int = Field(default=262144, ge=64, le=262144)
    # Rotation: a new file every rotate_seconds (aligned to multiples of it) and/or after rotate_megabytes.
    rotate_seconds: int | None = Field(default=60, ge=1)
    rotate_megabytes: int | None = Field(default=None, ge=1)
    file_format: Literal["pcapng", "pcap"] = "pcapng"
    backend: Literal["dumpcap", "tcpdump", "scapy"] = "dumpcap"
    monitor_mode: bool = False  # 802.11 monitor mode (dumpcap -I); radiotap frames are kept as captured
    spool_dir: Path = Field(default_factory=lambda: _default_home() / "spool")
    spool_quota_mb: int = Field(default=2048, ge=1)
    prefix: str = ""  # key prefix inside the landing bucket, e.g. "site-a/"
    upload_concurrency: int = Field(default=2, ge=1, le=64)
    upload_retries: int = Field(default=8, ge=0)  # per attempt cycle; the file stays spooled until it lands
    heartbeat_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _rotation(self) -> CaptureSettings:
        if self.rotate_seconds is None and self.rotate_megabytes is None:
            raise ValueError(
                "set capture.rotate_seconds and/or capture.rotate_megabytes: files must rotate to be uploaded"
            )
        if self.prefix and not self.prefix.endswith("/"):
            raise ValueError(f"capture.prefix {self.prefix!r} must end with '/' (it is a key prefix, e.g. 'site-a/')")
        return self


class RetentionSettings(_Section):
    """The maintenance job (netqos.jobs.maintenance): how long things are kept."""

    vacuum_hours: int = Field(default=168, ge=168)  # Delta refuses less than 7 days without a safety override
    quarantine_days: int = Field(default=30, ge=1)
    raw_capture_days: int | None = Field(default=None, ge=1)  # None = keep landed captures forever


class QualitySettings(_Section):
    """The data-quality gate (netqos.quality, docs/quality.md)."""

    # One GX suite per table (<table>.json); point this at a copy to tighten or relax checks for a site.
    expectations_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "expectations")


class ModelSettings(_Section):
    """QoS anomaly models (netqos.ml, docs/models.md): MLflow store, registered name, training and scoring."""

    # None: $MLFLOW_TRACKING_URI when set (the local stack and Airflow set it), else a SQLite store in
    # <home>/mlflow with artifacts beside it, which is what `make demo` uses.
    tracking_uri: str | None = None
    registered_name: str = "netqos-qos-anomaly"
    experiment: str = "netqos-qos-anomaly"
    window_s: int = Field(default=10, ge=1)  # which qos_windows length the models learn and score
    # Without labels the first one is registered; with labels the best on promote_metric. gradient_boosting
    # needs labels; robust_kpi alarms at a robust z of 3 (IsolationForest cannot see a feature
    # that never moved in training, e.g. retransmissions on a clean week).
    detectors: tuple[str, ...] = ("robust_kpi", "isolation_forest", "gradient_boosting")
    top_features: int = Field(default=3, ge=1, le=10)  # explanations stored per flagged window
    # Automatic promotion policy (`netqos models promote --policy`): the challenger must beat the champion by
    # this much on `promote_metric`, both scored on the challenger's evaluation set.
    promote_metric: str = "overall_f1"
    promote_margin: float = Field(default=0.02, ge=0.0)
    auto_promote: bool = False  # apply that policy right after each training run (netqos_train included)
    # A sensor's latest window may still grow with the next batch of captures: score it only when asked.
    score_open_windows: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NETQOS_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    home: Path = Field(default_factory=_default_home)
    sensor_id: str = "local"
    sample_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "samples")
    spark: SparkSettings = Field(default_factory=SparkSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    decode: DecodeSettings = Field(default_factory=DecodeSettings)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        explicit = os.environ.get("NETQOS_CONFIG")
        toml_path = Path(explicit or "netqos.toml")
        if explicit and not toml_path.is_file():
            raise FileNotFoundError(f"NETQOS_CONFIG={explicit} does not exist (unset it to use defaults)")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings(**overrides: Any) -> Settings:
    """Process-wide settings; tests build `Settings(...)` directly instead of using this cache."""
    return Settings(**overrides)
