"""ReportData -> the report's files: report.html (charts embedded), report.json and one CSV per table, all from the
same DataFrames so the three always carry the same numbers."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]

from netqos.report import charts
from netqos.report.kpis import KPIS, assess
from netqos.report.model import TABLES, ReportData

SCHEMA_VERSION = 1
_TEMPLATES = Path(__file__).with_name("templates")


def _env() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined
    )
    env.filters.update(bytes=fmt_bytes, rate=fmt_rate, num=fmt_num, pct=fmt_pct, ts=fmt_ts, kpi=fmt_kpi)
    return env


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def fmt_bytes(value: Any) -> str:
    if _missing(value):
        return "-"
    v = float(value)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(v) < 1000 or unit == "TB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1000
    return str(value)


def fmt_rate(value: Any) -> str:
    """bit/s with an SI prefix."""
    if _missing(value):
        return "-"
    v = float(value)
    for unit in ("b/s", "kb/s", "Mb/s", "Gb/s"):
        if abs(v) < 1000 or unit == "Gb/s":
            return f"{v:.1f} {unit}"
        v /= 1000
    return str(value)


def fmt_num(value: Any, digits: int = 0) -> str:
    if _missing(value):
        return "-"
    return f"{float(value):,.{digits}f}"


def fmt_pct(value: Any) -> str:
    return "-" if _missing(value) else f"{float(value) * 100:.2f} %"


def fmt_ts(value: Any) -> str:
    if _missing(value):
        return "-"
    ts = pd.Timestamp(value)
    return str((ts.tz_convert("UTC") if ts.tzinfo else ts).strftime("%Y-%m-%d %H:%M:%S"))


_UNITS = {k.name: k.unit for k in KPIS}


def fmt_kpi(value: Any, kpi: str) -> str:
    unit = _UNITS.get(kpi, "")
    if _missing(value):
        return "-"
    if unit == "%":
        return fmt_pct(value)
    if unit == "ms":
        return f"{float(value):.2f} ms"
    if unit == "dBm":
        return f"{float(value):.1f} dBm"
    return fmt_num(value)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    if df.empty:
        return []
    out: list[dict[str, Any]] = json.loads(df.to_json(orient="records", date_format="iso", date_unit="us"))
    return out


def totals(data: ReportData) -> dict[str, Any]:
    sensors = data.table("sensors")
    timeline = data.table("anomaly_timeline")
    quality = data.table("quality")
    alerts = data.table("alerts")
    return {
        "packets": int(sensors["packets"].sum()) if not sensors.empty else 0,
        "bytes": int(sensors["bytes"].sum()) if not sensors.empty else 0,
        "flows": int(sensors["flows"].sum()) if not sensors.empty else 0,
        "peak_bps": float(sensors["peak_bps"].max()) if not sensors.empty else None,
        "windows_scored": (len(timeline)),
        "anomalies": int(timeline["is_anomaly"].sum()) if not timeline.empty else 0,
        "alerts": (len(alerts)),
        "files": (len(quality)),
        "files_not_ingested": int((quality["status"] != "ingested").sum()) if not quality.empty else 0,
    }


def to_json(data: ReportData) -> str:
    doc = {
        "report": "netqos nightly QoS report",
        "schema_version": SCHEMA_VERSION,
        "day": data.day.isoformat(),
        "sensors": list(data.sensors),
        "sensor_filter": list(data.sensor_filter),
        "generated_at": data.generated_at.isoformat(),
        "status": data.coverage.status,
        "coverage": {
            "description": data.coverage.describe(data.day),
            "first_window": data.coverage.first_window.isoformat() if data.coverage.first_window else None,
            "last_window": data.coverage.last_window.isoformat() if data.coverage.last_window else None,
            "minutes_with_traffic": data.coverage.minutes_with_traffic,
            "day_ended": data.coverage.day_ended,
        },
        "totals": totals(data),
        "models": [m.__dict__ for m in data.models],
        "data_docs": data.data_docs,
        "notes": data.notes,
        "tables": {name: _records(data.table(name)) for name in TABLES},
    }
    return json.dumps(doc, indent=2, default=str)


def to_csv(df: pd.DataFrame) -> str:
    return str(df.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ"))


def to_html(data: ReportData) -> str:
    kpis = data.table("kpis")
    if not kpis.empty:
        kpis = kpis.assign(
            assessment=[assess(k, d, b) for k, d, b in zip(kpis["kpi"], kpis["day"], kpis["baseline"], strict=True)]
        )
    page = _env().get_template("report.html.j2")
    return str(
        page.render(
            d=data,
            status=data.coverage.status,
            coverage=data.coverage.describe(data.day),
            totals=totals(data),
            t={name: data.table(name) for name in TABLES},
            kpi_groups=[(key, rows) for key, rows in kpis.groupby(["sensor_id", "class"], sort=False)]
            if not kpis.empty
            else [],
            charts={
                "traffic": charts.traffic(data.table("volume"), data.day),
                "mix": charts.mix(data.table("protocols"), data.table("services")),
                "anomalies": charts.anomaly_timeline(data.table("anomaly_timeline"), data.day),
            },
            tables=TABLES,
            baseline_days=data.baseline_days,
        )
    )


def render(data: ReportData) -> dict[str, bytes]:
    """Relative path -> content of every file of one report."""
    files = {"report.html": to_html(data).encode(), "report.json": to_json(data).encode()}
    for name in TABLES:
        files[f"csv/{name}.csv"] = to_csv(data.table(name)).encode()
    return files


def render_index(entries: list[dict[str, Any]], generated_at: datetime) -> bytes:
    """The index page: one line per report folder (from its report.json), newest day first."""
    page = _env().get_template("index.html.j2")
    ordered = sorted(entries, key=lambda e: (e["day"], e.get("name", "")), reverse=True)
    return str(page.render(entries=ordered, generated_at=generated_at)).encode()
