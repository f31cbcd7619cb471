"""The text of an alert (one line a chat client shows in full) and of the rate-limit summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

NS = 1_000_000_000


def when(ns: int) -> str:
    return datetime.fromtimestamp(ns / NS, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _num(v: float) -> str:
    return f"{v:.4g}"


def _where(a: Mapping[str, Any]) -> str:
    cls = "" if a["dimension"] == "all" else f" {a['dimension']}={a['class']}"
    return f"sensor {a['sensor_id']}{cls} ({a['window_s']} s windows)"


def top_features_text(features: Sequence[Mapping[str, Any]] | None) -> str:
    if features is None or len(features) == 0:
        return ""
    return ", ".join(f"{f['feature']} (z {float(f['z']):.1f})" for f in features)


def alert_text(a: Mapping[str, Any]) -> str:
    """E.g. `[CRITICAL] rtt_p95_critical: sensor edge-1 (60 s windows): rtt_p95_s 0.52 > 0.4 for 3 windows since
    2026-11-27 10:00:00Z`. Anomalies name the model and the features that drove the score."""
    since = when(int(a["episode_start_ns"]))
    at = when(int(a["window_start_ns"]))
    if a["source"] == "anomaly":
        what = f"anomaly score {_num(a['value'])} > {_num(a['threshold'])} ({a['model_name']} v{a['model_version']})"
    else:
        what = f"{a['kpi']} {_num(a['value'])} {a['operator']} {_num(a['threshold'])}"
    head = f"{a['rule']}: {_where(a)}"
    if a["kind"] == "resolved":
        text = (
            f"[RESOLVED] {head}: {a['kpi']} back to {_num(a['value'])} at {at}, after {a['windows']} firing windows "
            f"since {since} (worst {_num(a['peak_value'])})"
        )
    else:
        still = "still firing: " if a["kind"] == "repeat" else ""
        text = (
            f"[{str(a['severity']).upper()}] {head}: {still}{what} for {a['windows']} windows since {since} "
            f"(worst {_num(a['peak_value'])}, last at {at})"
        )
    top = top_features_text(a.get("top_features"))
    if top and a["kind"] != "resolved":
        text += f"; top features: {top}"
    return text


def subject(a: Mapping[str, Any]) -> str:
    tag = "RESOLVED" if a["kind"] == "resolved" else str(a["severity"]).upper()
    return f"[netqos {tag}] {a['rule']} on {a['sensor_id']}"


def summary_text(suppressed: Sequence[Mapping[str, Any]], max_per_hour: int) -> str:
    """`N more alerts suppressed by the rate limit (20/h): rtt_p95_high x3 (edge-1, edge-2), ...`."""
    by_rule: dict[str, list[str]] = {}
    for a in suppressed:
        sensors = by_rule.setdefault(str(a["rule"]), [])
        sensors.append(str(a["sensor_id"]))
    parts = [f"{rule} x{len(s)} ({', '.join(sorted(set(s)))})" for rule, s in sorted(by_rule.items())]
    n = len(suppressed)
    return (
        f"[netqos] {n} more alert{'s' if n != 1 else ''} suppressed by the rate limit ({max_per_hour}/h): "
        + "; ".join(parts)
        + " (all recorded in the alerts table, status rate_limited)"
    )
