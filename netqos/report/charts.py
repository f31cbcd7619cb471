"""The report's charts as PNG data URIs, so the HTML is one self-contained file that reads offline."""

from __future__ import annotations

import base64
import io
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _png(fig: Figure) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(rows: int = 1, cols: int = 1, height: float = 3.0, **kw: Any) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display; must precede pyplot
    import matplotlib.pyplot as plt

    return plt.subplots(rows, cols, figsize=(11, height * rows), squeeze=False, **kw)


ZOOM_BELOW = timedelta(hours=6)  # data spanning less than this is shown zoomed in, not as a speck on 24 h


def time_span(times: pd.Series, day: date) -> tuple[datetime, datetime]:
    """The x range: the whole day, or the data's span plus a margin when it covers only a few hours."""
    start = datetime.combine(day, datetime.min.time(), UTC)
    end = start + timedelta(days=1)
    if times.empty:
        return start, end
    utc = pd.to_datetime(times, utc=True)
    first, last = utc.min().to_pydatetime(), utc.max().to_pydatetime()
    if last - first >= ZOOM_BELOW:
        return start, end
    margin = max(timedelta(minutes=5), (last - first) / 10)
    return max(start, first - margin), min(end, last + timedelta(minutes=1) + margin)


def _time_axis(ax: Any, span: tuple[datetime, datetime]) -> None:
    import matplotlib.dates as mdates

    ax.set_xlim(*span)
    locator = mdates.AutoDateLocator(tz=UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    ax.grid(alpha=0.3)


def with_gaps(t: pd.Series, values: pd.Series, step: pd.Timedelta) -> tuple[pd.Series, pd.Series]:
    """Break the line where windows are missing (no packets, or the sensor was down) instead of bridging them."""
    t = pd.to_datetime(t, utc=True).reset_index(drop=True)
    values = values.astype("float64").reset_index(drop=True)
    gaps = t.diff() > step
    if not gaps.any():
        return t, values
    breaks_t = t[gaps] - step / 2
    frame = pd.concat(
        [pd.DataFrame({"t": t, "v": values}), pd.DataFrame({"t": breaks_t, "v": float("nan")})], ignore_index=True
    ).sort_values("t")
    return frame["t"], frame["v"]


def _human(value: float, unit: str) -> str:
    for prefix in ("", "k", "M", "G", "T"):
        if abs(value) < 1000:
            return f"{value:.3g} {prefix}{unit}"
        value /= 1000
    return f"{value:.3g} P{unit}"


def traffic(volume: pd.DataFrame, day: date) -> str | None:
    """Throughput and packet rate per sensor over the day (00:00-24:00 UTC, so gaps and partial days show)."""
    if volume.empty:
        return None
    fig, axes = _figure(2, 1, height=2.4, sharex=True)
    span = time_span(volume["window_start"], day)
    minute = pd.Timedelta(minutes=1)
    for i, (sensor, rows) in enumerate(volume.groupby("sensor_id")):
        color = PALETTE[i % len(PALETTE)]
        for ax, column in ((axes[0][0], "bps"), (axes[1][0], "pps")):
            t, v = with_gaps(rows["window_start"], rows[column], minute)
            ax.plot(t, v, ".-", ms=3, lw=0.8, color=color, label=str(sensor))
    axes[0][0].set_ylabel("bit/s")
    axes[1][0].set_ylabel("packets/s")
    axes[0][0].yaxis.set_major_formatter(lambda v, _pos: _human(v, "b/s"))
    for ax in (axes[0][0], axes[1][0]):
        _time_axis(ax, span)
    axes[0][0].legend(loc="upper right", fontsize=8, title="sensor", title_fontsize=8)
    zoomed = "" if span[1] - span[0] == timedelta(days=1) else ", zoomed to the hours with data"
    axes[0][0].set_title(f"Traffic on {day.isoformat()} (UTC, per minute{zoomed})", fontsize=10)
    return _png(fig)


def mix(protocols: pd.DataFrame, services: pd.DataFrame) -> str | None:
    """Share of bytes per IP protocol and per service class."""
    if protocols.empty and services.empty:
        return None
    fig, axes = _figure(1, 2, height=max(2.2, 0.28 * max(len(protocols), len(services)) + 1))
    for ax, frame, key, title in ((axes[0][0], protocols, "protocol", "bytes by protocol"),
                                  (axes[0][1], services, "service", "bytes by service class")):  # fmt: skip
        if frame.empty:
            ax.set_axis_off()
            continue
        rows = frame.sort_values("bytes")
        total = float(rows["bytes"].sum()) or 1.0
        ax.barh(rows[key].astype(str), rows["bytes"] / total * 100, color=PALETTE[0])
        ax.set_xlabel("% of bytes")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def anomaly_timeline(timeline: pd.DataFrame, day: date) -> str | None:
    """Each scored window's score relative to its model's threshold (1 = alarm line); flagged windows in red."""
    if timeline.empty:
        return None
    fig, axes = _figure(1, 1, height=2.8)
    ax = axes[0][0]
    frame = timeline.copy()
    threshold = frame["threshold"].where(frame["threshold"] > 0)
    frame["severity"] = (frame["score"] / threshold).fillna(frame["score"])
    for i, ((sensor, version), rows) in enumerate(frame.groupby(["sensor_id", "model_version"])):
        t = pd.to_datetime(rows["window_start"], utc=True)
        step = pd.Timedelta(seconds=int(rows["window_s"].iloc[0]))
        gap_t, gap_v = with_gaps(rows["window_start"], rows["severity"], step)
        ax.plot(gap_t, gap_v, ".-", ms=2, lw=0.7, color=PALETTE[i % len(PALETTE)], label=f"{sensor} (v{version})")
        flagged = rows["is_anomaly"].astype(bool)
        ax.scatter(t[flagged], rows.loc[flagged, "severity"], s=14, color="#d62728", zorder=3)
    ax.axhline(1.0, color="#d62728", lw=0.8, ls="--")
    ax.set_ylabel("score / threshold")
    _time_axis(ax, time_span(frame["window_start"], day))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Anomaly score per window (red: flagged)", fontsize=10)
    return _png(fig)
