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
    """The Delta warehouse and the Hive metastore that names its tables (docs/tables.md, docs/queries.md)."""

    warehouse_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / "warehouse")
    # Where the Delta tables live when not in warehouse_dir: an object store, s3a://BUCKET/PREFIX (the lakehouse
    # bucket; S3 endpoint and keys from [s3]). warehouse_dir then keeps only the local side files (quality records,
    # Data Docs, reports, an embedded metastore). One writer per table: Delta's S3 log store is single-driver.
    warehouse_uri: str | None = None
    database: str = "netqos"
    # JDBC URL of a PostgreSQL-backed Hive metastore (jdbc:postgresql://host:5432/db) that several Spark processes
    # share (jobs, `netqos sql`, the Thrift server); None = embedded Derby in metastore_db/ beside the warehouse,
    # which one Spark process at a time can open.
    metastore_url: str | None = None
    metastore_user: str | None = None
    metastore_password: SecretStr | None = None  # NETQOS_LAKE__METASTORE_PASSWORD only: never in a file or a log
    thrift_port: int = Field(default=10000, ge=1, le=65535)  # `netqos sql --thrift start` (JDBC on 127.0.0.1)

    @model_validator(mode="after")
    def _metastore(self) -> LakeSettings:
        if self.warehouse_uri is not None and not self.warehouse_uri.startswith("s3a://"):
            raise ValueError(f"lake.warehouse_uri {self.warehouse_uri!r} must be s3a://BUCKET/PREFIX (or unset)")
        url = self.metastore_url
        if url is not None and not url.startswith("jdbc:postgresql://"):
            raise ValueError(
                f"lake.metastore_url {url!r} must be a PostgreSQL JDBC URL, jdbc:postgresql://HOST:PORT/DATABASE "
                "(unset it for the embedded Derby metastore)"
            )
        if url is not None and "password=" in url.lower():
            raise ValueError("lake.metastore_url must not hold the password: set NETQOS_LAKE__METASTORE_PASSWORD")
        return self


class ReportSettings(_Section):
    """The nightly QoS report (netqos.report, docs/reports.md)."""

    # Local home of the reports (one folder per day + index.html); None = <warehouse>/../reports.
    reports_dir: Path | None = None
    # Also uploaded to s3://<bucket>/<day>/ when set (the local stack and deployments set it); None = local only.
    bucket: str | None = None
    top_n: int = Field(default=10, ge=1, le=100)  # rows in the top talkers / flows / anomalies tables
    baseline_days: int = Field(default=7, ge=1, le=90)  # the "usual" column beside each KPI


Severity = Literal["info", "warning", "critical"]
# The numeric qos_windows columns a rule may test (docs/schema/qos_windows.md; a unit test keeps it equal to
# netqos.features.schema.WINDOW_SCHEMA, which is too heavy to import here).
QOS_WINDOW_KPIS = frozenset((
    "packets", "bytes", "bps", "pps", "active_flows", "new_flows", "tcp_segments", "tcp_retransmissions",
    "tcp_retransmission_rate", "tcp_out_of_order", "tcp_out_of_order_rate", "tcp_lost_segments", "tcp_dup_acks",
    "tcp_zero_window", "tcp_resets", "rtt_samples", "rtt_p50_s", "rtt_p95_s", "rtt_p99_s", "jitter_samples",
    "jitter_p95_s", "icmp_unreachable", "icmp_unreachable_rate", "icmp_time_exceeded", "icmp_time_exceeded_rate",
    "wlan_frames", "wlan_retry_rate", "wlan_signal_mean_dbm", "wlan_signal_min_dbm",
))  # fmt: skip


class AlertRule(_Section):
    """A threshold on one qos_windows KPI column: fires after `for_windows` consecutive windows beyond it."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    kpi: str  # a numeric qos_windows column (checked against netqos.features.schema.WINDOW_SCHEMA)
    operator: Literal[">", "<"] = ">"
    threshold: float
    window_s: Literal[10, 60] = 60
    dimension: Literal["all", "service", "dscp"] = "all"
    # a class of that dimension ("all" with dimension all); "*" = every class of the dimension, each on its own
    class_: str = Field(default="all", alias="class")
    for_windows: int = Field(default=3, ge=1, le=1000)  # consecutive firing windows before the alert fires
    severity: Severity = "warning"
    # windows with fewer packets than this are ignored (a rate over 3 packets says little)
    min_packets: int = Field(default=0, ge=0)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _kpi(self) -> AlertRule:
        if self.kpi not in QOS_WINDOW_KPIS:
            raise ValueError(
                f"alert rule {self.name!r}: kpi {self.kpi!r} is not a numeric qos_windows column "
                f"(one of: {', '.join(sorted(QOS_WINDOW_KPIS))})"
            )
        if self.dimension == "all" and self.class_ not in ("all", "*"):
            raise ValueError(f"alert rule {self.name!r}: dimension 'all' has only class 'all'")
        return self


def _default_rules() -> list[AlertRule]:
    r = AlertRule.model_validate
    return [
        # 60 s windows, 3 in a row: a condition that lasted 3 minutes, not one bad burst.
        r({"name": "rtt_p95_high", "kpi": "rtt_p95_s", "threshold": 0.150, "min_packets": 50}),
        r({"name": "rtt_p95_critical", "kpi": "rtt_p95_s", "threshold": 0.400, "severity": "critical",
           "min_packets": 50}),
        r({"name": "tcp_retransmissions_high", "kpi": "tcp_retransmission_rate", "threshold": 0.03,
           "min_packets": 100}),
        r({"name": "tcp_retransmissions_critical", "kpi": "tcp_retransmission_rate", "threshold": 0.10,
           "severity": "critical", "min_packets": 100}),
        r({"name": "voice_jitter_high", "kpi": "jitter_p95_s", "threshold": 0.030, "dimension": "dscp",
           "class": "ef", "min_packets": 50}),
        r({"name": "wlan_retries_high", "kpi": "wlan_retry_rate", "threshold": 0.20, "min_packets": 100}),
        r({"name": "icmp_unreachable_high", "kpi": "icmp_unreachable_rate", "threshold": 0.05, "min_packets": 100}),
    ]  # fmt: skip


class AlertSettings(_Section):
    """Alert rules and notifiers (netqos.alerts, docs/alerts.md)."""

    rules: list[AlertRule] = Field(default_factory=_default_rules)
    # Model anomalies (table `anomalies`): a window alerts when score > anomaly_score_threshold (None = the
    # model's own threshold, i.e. is_anomaly); for_windows consecutive flagged windows make an episode fire.
    anomalies: bool = True
    anomaly_score_threshold: float | None = None
    anomaly_for_windows: int = Field(default=2, ge=1)
    anomaly_severity: Severity = "warning"
    # Episodes: a firing episode is notified once, again every dedup_window_s (data time) while it still fires,
    # and once when it resolves (notify_resolved).
    dedup_window_s: int = Field(default=3600, ge=60)
    notify_resolved: bool = True
    # Windows read before --since so an episode already firing is recognised as the same episode.
    lookback_s: int = Field(default=6 * 3600, ge=600)
    # At most this many notifications per rolling hour (all notifiers); the rest are rate_limited and summed up
    # in one "N more alerts suppressed" message.
    max_per_hour: int = Field(default=20, ge=1)
    # Webhook (Slack / Mattermost / Rocket.Chat / Teams workflow incoming webhook): a secret, env only:
    # NETQOS_ALERTS__WEBHOOK_URL. Never logged.
    webhook_url: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_retries: int = Field(default=2, ge=0, le=10)
    # E-mail through Airflow's SmtpNotifier and this Airflow connection (AIRFLOW_CONN_<ID> or the metastore).
    email_to: list[str] = Field(default_factory=list)
    email_from: str | None = None  # None = the connection's from_email
    smtp_conn_id: str = "smtp_default"
    max_attempts: int = Field(default=3, ge=1)  # a failed delivery is retried by the next runs up to this

    @model_validator(mode="after")
    def _unique(self) -> AlertSettings:
        names = [r.name for r in self.rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup or "model_anomaly" in names:
            raise ValueError(f"alert rule names must be unique and not model_anomaly: {', '.join(dup)}")
        if self.lookback_s <= self.dedup_window_s:
            raise ValueError("alerts.lookback_s must exceed alerts.dedup_window_s (episodes are stitched over it)")
        return self


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


class ObservabilitySettings(_Section):
    """Job and agent metrics, structured logs (netqos.observability, docs/observability.md)."""

    log_format: Literal["text", "json"] = "text"  # json: one object per line for a log shipper
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Each batch job writes <metrics_dir>/<job>.prom at its end (node_exporter's textfile collector reads the
    # folder); None = <home>/metrics. textfile=False writes nothing there.
    metrics_dir: Path | None = None
    textfile: bool = True
    # Also pushed there at job end when set, e.g. http://pushgateway:9091 (grouped by job and sensor).
    pushgateway_url: str | None = None
    push_timeout_s: float = Field(default=10.0, gt=0)
    # The capture agent's /metrics endpoint; None = off (the agent still writes <spool>/metrics.prom).
    agent_port: int | None = Field(default=None, ge=1, le=65535)
    agent_addr: str = "127.0.0.1"  # 0.0.0.0 only inside a container whose port is published on purpose
    # The QoS KPI gauges read windows of this length; None = the longest of features.window_seconds.
    kpi_window_s: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _pushgateway(self) -> ObservabilitySettings:
        url = self.pushgateway_url
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"observability.pushgateway_url {url!r} must be an http(s):// URL")
        if url is not None and "@" in url.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("observability.pushgateway_url must not hold credentials (they would reach the logs)")
        return self


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
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)

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
