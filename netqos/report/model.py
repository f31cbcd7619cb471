"""What a report holds, independent of Spark and HTML: the day's tables (pandas) and how complete the day is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import pandas as pd  # type: ignore[import-untyped]

DayStatus = Literal["empty", "partial", "complete"]

# Below this share of the day's minutes with traffic (or before the day has ended) the report says "partial".
COMPLETE_COVERAGE = 0.95

# The report's tables, in page order; each is also <name>.csv and a key of report.json.
TABLES = (
    "volume",  # per sensor and minute: packets, bytes, bps, pps
    "sensors",  # per sensor: totals, peak rate, coverage
    "protocols",  # per IP protocol: packets, bytes
    "services",  # per service class: packets, bytes
    "top_talkers",  # per address: bytes sent / received, flows, peers
    "top_flows",  # the day's largest flows
    "kpis",  # per sensor, class and KPI: the day, the previous day, the 7-day baseline
    "anomaly_timeline",  # every scored window of the day
    "top_anomalies",  # the strongest flagged windows with their explanation and flows
    "quality",  # capture files of the day by ingest status, with the reason when not ingested
    "alerts",  # alerts raised for the day (table `alerts`, when present)
)


@dataclass(frozen=True)
class Coverage:
    status: DayStatus
    first_window: datetime | None
    last_window: datetime | None
    minutes_with_traffic: int
    day_ended: bool

    @property
    def share(self) -> float:
        return self.minutes_with_traffic / 1440

    def describe(self, day: date) -> str:
        if self.status == "empty":
            return f"No traffic was captured on {day.isoformat()} (UTC): no sensor delivered packets for this day."
        assert self.first_window is not None and self.last_window is not None
        span = f"{self.first_window:%H:%M} to {self.last_window:%H:%M} UTC"
        share = f"{self.share:.1%}" if self.share < 0.1 else f"{self.share:.0%}"  # 3 minutes are 0.2 %, not 0 %
        minutes = f"{self.minutes_with_traffic} of 1440 minutes ({share}) have traffic"
        if self.status == "complete":
            return f"Complete day: data from {span}; {minutes}."
        why = "the day has not ended yet" if not self.day_ended else "captures cover only part of the day"
        return f"Partial day ({why}): data from {span}; {minutes}."


def coverage(minutes: pd.Series, day_ended: bool) -> Coverage:
    """Coverage of a day from the start times of its 60 s windows with traffic (any sensor)."""
    if minutes.empty:
        return Coverage("empty", None, None, 0, day_ended)
    distinct = pd.to_datetime(minutes, utc=True).drop_duplicates().sort_values()
    n = int(distinct.size)
    complete = day_ended and n / 1440 >= COMPLETE_COVERAGE
    return Coverage(
        "complete" if complete else "partial",
        distinct.iloc[0].to_pydatetime(),
        distinct.iloc[-1].to_pydatetime(),
        n,
        day_ended,
    )


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    detector: str
    windows: int  # windows of the day this version scored
    flagged: int


@dataclass
class ReportData:
    day: date
    sensors: tuple[str, ...]  # sensors in the report (all with data, or the --sensor filter)
    sensor_filter: tuple[str, ...]
    generated_at: datetime
    coverage: Coverage
    models: list[ModelInfo]
    data_docs: str | None  # URI of the Data Docs index, when it exists
    baseline_days: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # things a reader must know (missing tables, no baseline...)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())

    @property
    def name(self) -> str:
        """Folder name: the day, plus the sensors when the report is filtered."""
        return self.day.isoformat() + ("_" + "+".join(self.sensor_filter) if self.sensor_filter else "")
