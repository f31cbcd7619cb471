"""Both detectors flag an injected anomaly in a small synthetic frame and explain it by the right feature."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
import pytest

from netqos.ml.models import GradientBoostingDetector, IsolationForestDetector, RobustKpiDetector, best_f1_threshold

FEATURES = ["pps", "tcp_retransmission_rate", "rtt_p95_s", "voip_pps"]


def _frame(n: int, seed: int, anomalies: list[int]) -> tuple[pd.DataFrame, npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({
        "pps": rng.normal(500, 40, n), "tcp_retransmission_rate": rng.uniform(0, 0.01, n),
        "rtt_p95_s": rng.normal(0.03, 0.005, n), "voip_pps": rng.normal(50, 0.3, n),
    })  # fmt: skip
    x.loc[3, "rtt_p95_s"] = np.nan  # missing values must not break either model
    y = np.zeros(n, dtype=np.int64)
    for i in anomalies:  # congestion-like: retransmissions and queueing delay jump
        x.loc[i, "tcp_retransmission_rate"] = 0.2
        x.loc[i, "rtt_p95_s"] = 0.3
        y[i] = 1
    x["run"] = np.repeat(np.arange(4), -(-n // 4))[:n]
    return x, y


def test_isolation_forest_flags_injected_anomaly() -> None:
    train, _ = _frame(120, 1, [10, 50, 90])
    model = IsolationForestDetector(FEATURES, n_estimators=100, contamination=0.03).fit(train)
    test, _ = _frame(40, 2, [25])
    flags = model.flag(test)
    assert flags[25]
    assert flags.sum() <= 4
    top = dict(model.top_features(test.iloc[[25]], k=2)[0])
    assert set(top) == {"tcp_retransmission_rate", "rtt_p95_s"}


def test_gradient_boosting_flags_injected_anomaly() -> None:
    train, y = _frame(160, 3, list(range(5, 160, 10)))
    model = GradientBoostingDetector(FEATURES, max_iter=50, min_samples_leaf=3)
    model.fit(train, y, groups=train["run"].to_numpy())
    test, y_test = _frame(40, 4, [7, 30])
    assert (model.flag(test) == y_test.astype(bool)).all()
    assert model.params()["threshold_from"].startswith("oof_best_f1")


def test_best_f1_threshold() -> None:
    y = np.array([0, 0, 1, 1, 0], dtype=np.int64)
    s = np.array([0.1, 0.4, 0.8, 0.9, 0.3])
    assert best_f1_threshold(y, s) == pytest.approx(0.6)  # halfway between 0.8 and 0.4


def test_robust_kpi_flags_voip_loss_and_names_the_kpi() -> None:
    train, y = _frame(120, 5, [10, 50, 90])
    train["voip_pps"] = train["voip_pps"].where(y == 0, 30.0)
    kpis = {"tcp_retransmission_rate": 1, "rtt_p95_s": 1, "voip_pps": -1}
    model = RobustKpiDetector(FEATURES, kpis).fit(train, y)
    test, _ = _frame(40, 6, [])
    test.loc[12, "voip_pps"] = 32.0  # a third of the RTP-like stream lost, nothing else changes
    flags = model.flag(test)
    assert flags[12] and flags.sum() == 1
    assert model.top_features(test.iloc[[12]], k=1)[0][0][0] == "voip_pps"


def test_robust_kpi_noise_floor_keeps_constant_kpis_from_exploding() -> None:
    # VoIP at exactly 50 pps in almost every normal window: MAD 0, a tiny fallback scale. Without a floor, 49.9
    # pps (one packet less in 10 s) would be a huge z-score.
    train, y = _frame(120, 7, [10, 50, 90])
    train["voip_pps"] = 50.0
    train.loc[[20, 40, 60], "voip_pps"] = 49.9
    kpis = {"tcp_retransmission_rate": 1, "rtt_p95_s": 1, "voip_pps": -1}
    model = RobustKpiDetector(FEATURES, kpis, floors={"voip_pps": 2.0})
    model.fit(train, y)
    assert model.threshold == 3.0 and model.params()["z_threshold"] == 3.0
    test, _ = _frame(8, 8, [])
    test["voip_pps"] = [49.9, 30.0, *[50.0] * 6]  # a rounding wobble, a third of the stream lost, untouched
    assert model.flag(test).tolist() == [False, True, *[False] * 6]
    unfloored = RobustKpiDetector(FEATURES, kpis, floors={}).fit(train, y)
    assert unfloored.score(test)[0] > 10 * model.score(test)[0]


def test_robust_kpi_threshold_from_training_objective() -> None:
    train, y = _frame(120, 9, [10, 50, 90])
    kpis = {"tcp_retransmission_rate": 1, "rtt_p95_s": 1, "voip_pps": -1}
    model = RobustKpiDetector(FEATURES, kpis, z_threshold=None).fit(train, y)
    s = model.score(train)
    assert s[y == 1].min() >= model.threshold > np.nanmax(s[y == 0])
