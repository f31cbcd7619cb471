"""The alert decisions, on pandas frames (no Spark, no I/O): unit-testable end to end.

    observations   rule_observations / anomaly_observations: one row per (series, window) with its value and
                   whether it fires; a series is (source, rule, sensor_id, window_s, dimension, class)
    points         notification_points: consecutive firing windows form an episode; it fires once it has
                   `for_windows` of them, repeats every dedup window (data time) while it fires, and resolves at
                   the first window with data that does not fire
    decide         against the rows already in `alerts`: a point already recorded is never sent again, one
                   notification per episode and run, a higher-severity episode on the same KPI hides a lower
                   one, at most max_per_hour sent (the rest rate_limited)

Everything is keyed by data time (window starts), so the same data gives the same alert ids: a rerun sends nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.settings import AlertRule, AlertSettings

NS = 1_000_000_000
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
SERIES = ["source", "rule", "sensor_id", "window_s", "dimension", "class"]
ANOMALY_RULE = "model_anomaly"
# An episode survives windows without data (no packets, or under min_packets) up to this many; a longer
# silence ends it without a "resolved" (nothing showed the KPI back to normal).
MAX_GAP_WINDOWS = 5

OBSERVATION_COLUMNS = [
    *SERIES,
    "kpi",
    "operator",
    "threshold",
    "for_windows",
    "severity",
    "window_start_ns",
    "value",
    "firing",
    "model_name",
    "model_version",
    "top_features",
]


def _empty_observations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OBSERVATION_COLUMNS})


def drop_open_windows(windows: pd.DataFrame) -> pd.DataFrame:
    """Without each sensor's latest window of each length: it may still grow with the next captures (a partial
    window would fire on half its traffic). The scoring job skips it the same way."""
    if windows.empty:
        return windows
    latest = windows.groupby(["sensor_id", "window_s"])["window_start_ns"].transform("max")
    return windows[windows["window_start_ns"] < latest]


def rule_observations(windows: pd.DataFrame, rule: AlertRule) -> pd.DataFrame:
    """The windows of `windows` (qos_windows rows) the rule looks at, with its KPI and whether it fires.
    Windows without a value (null KPI, fewer than min_packets packets) are left out: they neither fire nor clear."""
    w = windows[(windows["window_s"] == rule.window_s) & (windows["dimension"] == rule.dimension)]
    if rule.class_ != "*":
        w = w[w["class"] == rule.class_]
    if rule.min_packets:
        w = w[w["packets"] >= rule.min_packets]
    w = w[w[rule.kpi].notna()]
    if w.empty:
        return _empty_observations()
    value = w[rule.kpi].astype(float)
    return pd.DataFrame(
        {
            "source": "rule",
            "rule": rule.name,
            "sensor_id": w["sensor_id"].astype(str),
            "window_s": w["window_s"].astype(int),
            "dimension": w["dimension"].astype(str),
            "class": w["class"].astype(str),
            "kpi": rule.kpi,
            "operator": rule.operator,
            "threshold": float(rule.threshold),
            "for_windows": rule.for_windows,
            "severity": rule.severity,
            "window_start_ns": w["window_start_ns"].astype(np.int64),
            "value": value,
            "firing": value > rule.threshold if rule.operator == ">" else value < rule.threshold,
            "model_name": None,
            "model_version": None,
            "top_features": None,
        }
    ).reset_index(drop=True)


def anomaly_observations(anomalies: pd.DataFrame, cfg: AlertSettings) -> pd.DataFrame:
    """`anomalies` rows as observations of the pseudo-rule model_anomaly: per window the latest scoring (a new
    champion scores windows again), firing when score > anomaly_score_threshold (None: the model's is_anomaly)."""
    if anomalies.empty or not cfg.anomalies:
        return _empty_observations()
    a = anomalies.sort_values(["scored_at", "model_version"]).drop_duplicates(
        ["sensor_id", "window_s", "window_start_ns"], keep="last"
    )
    limit = cfg.anomaly_score_threshold
    score = a["score"].astype(float)
    firing = score > limit if limit is not None else a["is_anomaly"].fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "source": "anomaly",
            "rule": ANOMALY_RULE,
            "sensor_id": a["sensor_id"].astype(str),
            "window_s": a["window_s"].astype(int),
            "dimension": "all",
            "class": "all",
            "kpi": "score",
            "operator": ">",
            "threshold": float(limit) if limit is not None else a["threshold"].astype(float),
            "for_windows": cfg.anomaly_for_windows,
            "severity": cfg.anomaly_severity,
            "window_start_ns": a["window_start_ns"].astype(np.int64),
            "value": score,
            "firing": firing,
            "model_name": a["model_name"],
            "model_version": a["model_version"],
            "top_features": a.get("top_features"),
        }
    ).reset_index(drop=True)


def alert_id(series: tuple[Any, ...], episode_start_ns: int, kind: str, seq: int) -> str:
    text = "|".join(str(v) for v in (*series, episode_start_ns, kind, seq))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class _Point:
    kind: str
    seq: int
    row: int  # index into the series frame


def _episode_points(
    firing: np.ndarray, starts: np.ndarray, window_s: int, for_windows: int, dedup_ns: int, notify_resolved: bool,
    carried_start: int | None,
) -> list[tuple[int, int, int, list[_Point]]]:  # fmt: skip
    """(first index, last index, episode start ns, points) for each episode of one series (sorted by window)."""
    out: list[tuple[int, int, int, list[_Point]]] = []
    max_gap = MAX_GAP_WINDOWS * window_s * NS
    i, n = 0, len(firing)
    while i < n:
        if not firing[i]:
            i += 1
            continue
        j = i  # the run: i..j, consecutive firing observations without a long gap
        while j + 1 < n and firing[j + 1] and starts[j + 1] - starts[j] <= max_gap + window_s * NS:
            j += 1
        carried = carried_start is not None and i == 0
        start_ns = int(carried_start) if carried and carried_start is not None else int(starts[i])
        points: list[_Point] = []
        if carried or j - i + 1 >= for_windows:
            fire = i if carried else i + for_windows - 1
            if not carried:
                points.append(_Point("firing", 0, fire))
            seq_done = 0 if not carried else max(0, int((starts[i] - start_ns) // dedup_ns))
            for k in range(fire + 1, j + 1):
                seq = int((starts[k] - start_ns) // dedup_ns)
                if seq > seq_done:
                    points.append(_Point("repeat", seq, k))
                    seq_done = seq
            ended = j + 1 < n and not firing[j + 1] and starts[j + 1] - starts[j] <= max_gap + window_s * NS
            if ended and notify_resolved:
                points.append(_Point("resolved", -1, j + 1))
            out.append((i, j, start_ns, points))
        i = j + 1
    return out


POINT_COLUMNS = [
    "alert_id", *SERIES, "kind", "seq", "severity", "kpi", "operator", "threshold", "value", "peak_value",
    "episode_start_ns", "window_start_ns", "last_window_ns", "windows", "model_name", "model_version", "top_features",
]  # fmt: skip


def notification_points(
    obs: pd.DataFrame, cfg: AlertSettings, carry: Mapping[tuple[Any, ...], int] | None = None
) -> pd.DataFrame:
    """Every notification point of every episode in `obs`. `carry`: series -> start of an episode the `alerts`
    table shows still open at the first observation (it began before the observations: same episode, same ids)."""
    carry = carry or {}
    rows: list[dict[str, Any]] = []
    dedup_ns = cfg.dedup_window_s * NS
    for series, g in obs.groupby(SERIES, sort=True):
        g = g.sort_values("window_start_ns").reset_index(drop=True)
        firing = g["firing"].to_numpy(dtype=bool)
        starts = g["window_start_ns"].to_numpy(dtype=np.int64)
        values = g["value"].to_numpy(dtype=float)
        window_s, for_windows = int(series[3]), int(g["for_windows"].iloc[0])
        worse = np.fmax if g["operator"].iloc[0] == ">" else np.fmin
        for first, last, start_ns, points in _episode_points(
            firing, starts, window_s, for_windows, dedup_ns, cfg.notify_resolved, carry.get(tuple(series))
        ):
            for p in points:
                upto = min(p.row, last)
                r = g.iloc[p.row]
                rows.append(
                    {
                        "alert_id": alert_id(tuple(series), start_ns, p.kind, p.seq),
                        **dict(zip(SERIES, series, strict=True)),
                        "kind": p.kind,
                        "seq": p.seq,
                        "severity": r["severity"],
                        "kpi": r["kpi"],
                        "operator": r["operator"],
                        "threshold": float(r["threshold"]),
                        "value": float(values[p.row]),
                        "peak_value": float(worse.reduce(values[first : upto + 1])),
                        "episode_start_ns": start_ns,
                        "window_start_ns": int(starts[p.row]),
                        "last_window_ns": int(starts[last]),
                        "windows": upto - first + 1,
                        "model_name": r["model_name"],
                        "model_version": r["model_version"],
                        "top_features": r["top_features"],
                    }
                )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in POINT_COLUMNS})
    return pd.DataFrame(rows, columns=POINT_COLUMNS)


def open_episodes(existing: pd.DataFrame, first_ns: Mapping[tuple[Any, ...], int]) -> dict[tuple[Any, ...], int]:
    """series -> episode start, for episodes that `alerts` rows show firing up to (about) the series' first observed
    window (`first_ns`) and not resolved: observations that start inside such an episode continue it."""
    if existing.empty:
        return {}
    e = existing[existing["kind"] != "resolved"]
    e = e.sort_values(["episode_start_ns", "last_window_ns"]).drop_duplicates(SERIES, keep="last")
    closed = existing[existing["kind"] == "resolved"][[*SERIES, "episode_start_ns"]]
    e = e.merge(closed, on=[*SERIES, "episode_start_ns"], how="left", indicator=True)
    e = e[e["_merge"] == "left_only"]
    out: dict[tuple[Any, ...], int] = {}
    for _, r in e.iterrows():
        key = tuple(r[c] for c in SERIES)
        first = first_ns.get(key)
        reach = int(r["last_window_ns"]) + (MAX_GAP_WINDOWS + 1) * int(r["window_s"]) * NS
        if first is not None and int(r["episode_start_ns"]) < first <= reach:
            out[key] = int(r["episode_start_ns"])
    return out


def _shadowed(points: pd.DataFrame) -> pd.Series:
    """A point of a rule is shadowed when a more severe rule on the same KPI and series has fired by that window
    and still fires (its episode's points span it)."""
    out = pd.Series(False, index=points.index)
    live = points[points["kind"] != "resolved"]
    if live.empty:
        return out
    where = ["kpi", "sensor_id", "window_s", "dimension", "class"]
    spans = (
        live.assign(rank=live["severity"].map(SEVERITY_RANK))
        .groupby([*where, "rule", "episode_start_ns"], sort=False)
        .agg(first=("window_start_ns", "min"), last=("last_window_ns", "max"), rank=("rank", "max"))
        .reset_index()
    )
    for idx, p in live.iterrows():
        same = spans[(spans[where] == p[where]).all(axis=1) & (spans["rule"] != p["rule"])]
        above = same[same["rank"] > SEVERITY_RANK[p["severity"]]]
        if ((above["first"] <= p["window_start_ns"]) & (above["last"] >= p["window_start_ns"])).any():
            out[idx] = True
    return out


def decide(
    points: pd.DataFrame,
    existing: pd.DataFrame,
    cfg: AlertSettings,
    *,
    sent_last_hour: int,
) -> pd.DataFrame:
    """The rows to write, each with `status`, `send` (deliver now) and `retry` (a failed row sent again).

    existing: rows of `alerts` (alert_id, status, attempts) for these series. Points already recorded are
    dropped, except failed ones with attempts left; sent_last_hour: rows of `alerts` notified in the last hour."""
    shadowed = _shadowed(points)
    p = points.copy()
    if p.empty:
        return p.assign(status=pd.Series(dtype=object), send=pd.Series(dtype=bool), retry=pd.Series(dtype=bool))
    known = existing.set_index("alert_id") if not existing.empty else pd.DataFrame(columns=["status", "attempts"])
    status_before = p["alert_id"].map(known["status"]) if len(known) else pd.Series(None, index=p.index)
    attempts_before = p["alert_id"].map(known["attempts"]) if len(known) else pd.Series(None, index=p.index)
    p["retry"] = (status_before == "failed") & (attempts_before.fillna(0).astype(int) < cfg.max_attempts)
    p = p[status_before.isna() | p["retry"]].copy()
    p["status"] = "deduplicated"
    p["send"] = False
    if p.empty:
        return p
    # One notification per episode and run: the firing point when it is new, else the latest point.
    p["_order"] = np.where(p["kind"] == "firing", -1, p["window_start_ns"].astype("int64") * -1)
    p["_new_firing"] = (p["kind"] == "firing") & ~p["retry"]
    chosen = (
        p.sort_values(["_new_firing", "_order"], ascending=[False, True])
        .groupby([*SERIES, "episode_start_ns"], sort=False)
        .head(1)
        .index
    )
    candidate = p.index.isin(chosen) | p["retry"]
    candidate &= ~shadowed.loc[p.index].to_numpy()
    # Rate limit: most severe first, then oldest; the excess is rate_limited.
    budget = max(0, cfg.max_per_hour - sent_last_hour)
    ranked = (
        p[candidate]
        .assign(_rank=lambda d: -d["severity"].map(SEVERITY_RANK))
        .sort_values(["_rank", "window_start_ns", "alert_id"])
    )
    allowed = ranked.index[:budget]
    p.loc[allowed, "send"] = True
    p.loc[allowed, "status"] = "sent"  # provisional: the notifiers set sent / failed
    p.loc[ranked.index[budget:], "status"] = "rate_limited"
    return p.drop(columns=["_order", "_new_firing"])


def evaluate(
    windows: pd.DataFrame,
    anomalies: pd.DataFrame,
    existing: pd.DataFrame,
    cfg: AlertSettings,
    *,
    sent_last_hour: int,
) -> pd.DataFrame:
    """observations -> points -> decisions, for everything the job extracted."""
    windows = drop_open_windows(windows)
    parts = [rule_observations(windows, r) for r in cfg.rules] if not windows.empty else []
    parts.append(anomaly_observations(anomalies, cfg))
    parts = [o for o in parts if not o.empty]
    obs = pd.concat(parts, ignore_index=True) if parts else _empty_observations()
    firsts = {tuple(k): int(v) for k, v in obs.groupby(SERIES)["window_start_ns"].min().items()}
    carry = open_episodes(existing, firsts)
    points = notification_points(obs, cfg, carry)
    return decide(points, existing, cfg, sent_last_hour=sent_last_hour)
