"""Rule evaluation, episodes, dedup and rate limiting on plain pandas frames (netqos.alerts.engine)."""

from __future__ import annotations

import pandas as pd  # type: ignore[import-untyped]
import pytest
from pydantic import ValidationError

from netqos.alerts import engine
from netqos.alerts.engine import NS, decide, evaluate, notification_points, rule_observations
from netqos.settings import QOS_WINDOW_KPIS, AlertRule, AlertSettings, Settings

T0 = 1_795_000_200  # a whole minute
RTT = {"name": "rtt", "kpi": "rtt_p95_s", "threshold": 0.15, "for_windows": 3}


def cfg(**kw) -> AlertSettings:
    base = {"rules": [RTT], "anomalies": False, "dedup_window_s": 600, "lookback_s": 3600, "max_per_hour": 100}
    return AlertSettings.model_validate(base | kw)


def windows(values: list[float | None], sensor: str = "s1", window_s: int = 60, cls: str = "all",
            dimension: str = "all", kpi: str = "rtt_p95_s", start: int = T0,
            packets: int = 500) -> pd.DataFrame:  # fmt: skip
    starts = [(start + i * window_s) * NS for i in range(len(values))]
    return pd.DataFrame({"sensor_id": sensor, "window_s": window_s, "window_start_ns": starts, "dimension": dimension,
                         "class": cls, "packets": packets, kpi: values})  # fmt: skip


def run(ws: pd.DataFrame, c: AlertSettings, existing: pd.DataFrame | None = None, sent: int = 0) -> pd.DataFrame:
    return evaluate(ws, pd.DataFrame(), existing if existing is not None else pd.DataFrame(), c, sent_last_hour=sent)


def offsets(d: pd.DataFrame, col: str = "window_start_ns") -> list[int]:
    return [int(v // NS - T0) // 60 for v in d[col]]


def test_kpi_list_matches_the_window_schema() -> None:
    import pyarrow as pa

    from netqos.features.schema import WINDOW_SCHEMA

    numeric = {f.name for f in WINDOW_SCHEMA if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)}
    assert numeric - {"window_s", "window_start_ns"} == set(QOS_WINDOW_KPIS)


def test_unknown_kpi_and_bad_rules_are_errors_at_load() -> None:
    with pytest.raises(ValidationError, match="kpi 'rtt_p95' is not a numeric qos_windows column"):
        Settings(alerts={"rules": [{"name": "x", "kpi": "rtt_p95", "threshold": 1}]})
    with pytest.raises(ValidationError, match="unique"):
        Settings(alerts={"rules": [RTT, RTT]})
    with pytest.raises(ValidationError):
        AlertRule.model_validate({**RTT, "window_s": 30})
    with pytest.raises(ValidationError):
        AlertRule.model_validate({**RTT, "operator": ">="})
    assert {r.kpi for r in Settings().alerts.rules} >= {"rtt_p95_s", "tcp_retransmission_rate", "jitter_p95_s"}


def test_rule_observations_select_window_class_and_min_packets() -> None:
    ws = pd.concat([
        windows([0.2, 0.1, None]),
        windows([0.9], window_s=10),
        windows([0.9], dimension="dscp", cls="ef"),
        windows([0.9], start=T0 + 600, packets=3),
    ])  # fmt: skip
    rule = AlertRule.model_validate({**RTT, "min_packets": 10})
    obs = rule_observations(ws, rule)
    assert list(obs["value"]) == [0.2, 0.1]  # null KPI, 10 s, dscp/ef and the 3-packet window left out
    assert list(obs["firing"]) == [True, False]
    below = rule_observations(windows([5e6, 1e5], kpi="bps"), AlertRule(name="low", kpi="bps", operator="<",
                                                                         threshold=1e6))  # fmt: skip
    assert list(below["firing"]) == [False, True]
    every = rule_observations(pd.concat([windows([0.2], dimension="dscp", cls="ef"),
                                         windows([0.2], dimension="dscp", cls="af41")]),
                              AlertRule.model_validate({**RTT, "dimension": "dscp", "class": "*"}))  # fmt: skip
    assert sorted(every["class"]) == ["af41", "ef"]


def test_one_notification_per_episode_after_for_windows() -> None:
    # windows 0..9; the last one is open (dropped). Episode A: 1..2 (too short); episode B: 4..7, resolved at 8.
    d = run(windows([0.1, 0.2, 0.3, 0.1, 0.2, 0.5, 0.3, 0.2, 0.1, 0.9]), cfg())
    assert list(d["kind"]) == ["firing", "resolved"]
    firing = d[d["kind"] == "firing"].iloc[0]
    assert offsets(d) == [6, 8] and int(firing["windows"]) == 3
    assert firing["episode_start_ns"] == (T0 + 4 * 60) * NS and firing["peak_value"] == 0.5
    assert list(d["status"]) == ["sent", "deduplicated"]  # one message: the firing; the resolve is recorded
    assert d["alert_id"].is_unique


def test_repeat_after_dedup_window_and_resolved_in_a_later_run() -> None:
    c = cfg(dedup_window_s=300)
    firing_for = windows([0.3] * 13 + [0.1])  # 0..12 fire; the window at 13 is open
    first = run(firing_for, c)
    pts = notification_points(engine.rule_observations(engine.drop_open_windows(firing_for), c.rules[0]), c)
    assert list(pts["kind"]) == ["firing", "repeat", "repeat"] and offsets(pts) == [2, 5, 10]
    assert list(first["status"]) == ["sent", "deduplicated", "deduplicated"]  # one message per episode and run
    # the next run sees the same windows plus more: nothing recorded is sent again; resolved is new
    existing = first.assign(attempts=1)
    later = run(windows([0.3] * 13 + [0.1, 0.1, 0.1]), c, existing)
    assert list(later["kind"]) == ["resolved"] and list(later["status"]) == ["sent"]
    assert offsets(later) == [13]


def test_rerun_with_the_same_data_decides_nothing() -> None:
    ws = windows([0.3] * 5 + [0.1, 0.1])
    first = run(ws, cfg())
    assert len(first) == 2
    again = run(ws, cfg(), first.assign(attempts=1))
    assert again.empty


def test_failed_rows_are_retried_until_max_attempts() -> None:
    ws = windows([0.3] * 5 + [0.1])
    first = run(ws, cfg())
    failed = first.assign(status="failed", attempts=1)
    retry = run(ws, cfg(max_attempts=2), failed)
    assert list(retry["retry"]) == [True] and list(retry["status"]) == ["sent"]
    assert run(ws, cfg(max_attempts=1), failed).empty


def test_episode_continues_across_runs_from_the_alerts_table() -> None:
    c = cfg(dedup_window_s=600)
    first = run(windows([0.3] * 6), c)  # 0..4 fire (5 is open): fired at 2
    assert list(first["kind"]) == ["firing"]
    # a later run whose range starts inside the episode: same episode start, no new "firing"
    later = run(windows([0.3] * 10, start=T0 + 4 * 60), c, first.assign(attempts=1))
    assert set(later["kind"]) == {"repeat"}
    assert set(later["episode_start_ns"]) == {T0 * NS}
    assert offsets(later) == [10]  # first window >= episode start + 600 s


def test_gap_without_data_keeps_the_episode_long_silence_ends_it() -> None:
    ws = pd.concat([windows([0.3, 0.3]), windows([0.3, 0.3], start=T0 + 4 * 60),
                    windows([0.3, 0.3, 0.3, 0.3], start=T0 + 60 * 60)])  # fmt: skip
    d = run(ws, cfg())
    assert list(d["kind"]) == ["firing", "firing"]  # 0,1,(gap),4,5 = one episode; 60.. = a new one
    assert offsets(d, "episode_start_ns") == [0, 60]


def test_more_severe_rule_shadows_the_milder_one() -> None:
    crit = {"name": "rtt_crit", "kpi": "rtt_p95_s", "threshold": 0.4, "for_windows": 3, "severity": "critical"}
    d = run(windows([0.5] * 5 + [0.2, 0.2, 0.2, 0.1, 0.1]), cfg(rules=[RTT, crit]))
    by = {(r.rule, r.kind): r.status for r in d.itertuples()}
    assert by[("rtt_crit", "firing")] == "sent"
    assert by[("rtt", "firing")] == "deduplicated"  # same window, the critical one speaks
    assert by[("rtt_crit", "resolved")] == "deduplicated"  # ... once per episode


def test_rate_limit_keeps_the_most_severe_and_counts_the_last_hour() -> None:
    crit = {"name": "rtt_crit", "kpi": "rtt_p95_s", "threshold": 0.4, "for_windows": 3, "severity": "critical"}
    ws = pd.concat([windows([0.3] * 4, sensor="s1"), windows([0.3] * 4, sensor="s2"),
                    windows([0.9] * 4, sensor="s3", kpi="rtt_p95_s")])  # fmt: skip
    d = run(ws, cfg(rules=[RTT, crit], max_per_hour=3), sent=2)
    sent = d[d["status"] == "sent"]
    assert list(sent["rule"]) == ["rtt_crit"] and list(sent["sensor_id"]) == ["s3"]
    assert sorted(d[d["status"] == "rate_limited"]["sensor_id"]) == ["s1", "s2"]
    assert (d["rule"] == "rtt").sum() == 3  # s3's milder one is recorded too, deduplicated by the critical
    assert d.loc[(d["rule"] == "rtt") & (d["sensor_id"] == "s3"), "status"].item() == "deduplicated"


def test_anomalies_fire_with_their_top_features() -> None:
    rows = [{"sensor_id": "s1", "window_s": 10, "window_start_ns": (T0 + 10 * i) * NS, "model_name": "m",
             "model_version": "3", "score": s, "threshold": 3.0, "is_anomaly": s >= 3.0,
             "top_features": [{"feature": "rtt_p95_s", "z": 8.5}] if s >= 3 else None, "scored_at": pd.Timestamp(0)}
            for i, s in enumerate([1.0, 5.0, 6.0, 1.0])]  # fmt: skip
    c = cfg(rules=[], anomalies=True, anomaly_for_windows=2)
    d = evaluate(pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame(), c, sent_last_hour=0)
    assert list(d["kind"]) == ["firing", "resolved"]
    f = d.iloc[0]
    assert f["rule"] == "model_anomaly" and f["value"] == 6.0 and f["top_features"][0]["feature"] == "rtt_p95_s"
    stricter = evaluate(pd.DataFrame(), pd.DataFrame(rows), pd.DataFrame(),
                        cfg(rules=[], anomalies=True, anomaly_for_windows=1, anomaly_score_threshold=5.5),
                        sent_last_hour=0)  # fmt: skip
    assert list(stricter["kind"]) == ["firing", "resolved"]
    assert [int(v // NS - T0) for v in stricter["window_start_ns"]] == [20, 30]  # only window 2 is above 5.5


def test_decide_on_nothing() -> None:
    empty = notification_points(engine._empty_observations(), cfg())
    assert decide(empty, pd.DataFrame(), cfg(), sent_last_hour=0).empty


def test_the_documented_configuration_loads(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "alerts.md").read_text()
    toml = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "netqos.toml").write_text(toml)
    monkeypatch.setenv("NETQOS_CONFIG", str(tmp_path / "netqos.toml"))
    a = Settings().alerts
    assert [(r.name, r.dimension, r.class_, r.operator) for r in a.rules] == [
        ("rtt_p95_high", "all", "all", ">"), ("web_retransmissions", "service", "web", ">"),
        ("sensor_quiet", "all", "all", "<"),
    ]  # fmt: skip
    assert a.email_to == ["noc@example.org"] and a.anomaly_score_threshold == 6.0
