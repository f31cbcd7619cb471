"""Anomaly detectors over labelled QoS windows: fit / score / threshold / flag / top contributing features.

- IsolationForestDetector: the unsupervised baseline (median imputation, robust scaling, IsolationForest).
- GradientBoostingDetector: supervised on the lab labels (any impairment kind vs normal), NaN-aware.

Both report, per window, the features furthest from the training "normal" windows in robust z-scores
((x - median) / (1.4826 * MAD)): a model-agnostic explanation that reads the same for every detector.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest  # type: ignore[import-untyped]
from sklearn.impute import SimpleImputer  # type: ignore[import-untyped]
from sklearn.model_selection import GroupKFold, cross_val_predict  # type: ignore[import-untyped]
from sklearn.pipeline import Pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import RobustScaler  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution * 1.4826 = its standard deviation


class RobustBaseline:
    """Median and MAD per feature of reference windows; robust z-scores against them."""

    def __init__(self, features: list[str]) -> None:
        self.features = features
        self.median: FloatArray = np.zeros(len(features))
        self.scale: FloatArray = np.ones(len(features))

    def fit(self, x: pd.DataFrame) -> RobustBaseline:
        v = x[self.features].to_numpy(dtype=float)
        if not len(v):
            raise ValueError("RobustBaseline needs at least one reference window")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (e.g. no RTT samples) -> 0
            self.median = np.nan_to_num(np.nanmedian(v, axis=0))
            mad = np.nan_to_num(np.nanmedian(np.abs(v - self.median), axis=0))
            fallback = np.nan_to_num(np.nanmean(np.abs(v - self.median), axis=0))
        # A feature that never moves in normal traffic (MAD 0) still needs a finite scale: its mean absolute
        # deviation, else 1 % of its median, else 1e-3 (a rate/share or seconds: 0.1 % or 1 ms is one sigma).
        scale = _MAD_TO_SIGMA * mad
        scale = np.where(scale > 0, scale, fallback)
        scale = np.where(scale > 0, scale, np.maximum(np.abs(self.median) * 0.01, 1e-3))
        self.scale = scale
        return self

    def z(self, x: pd.DataFrame) -> FloatArray:
        v = x[self.features].to_numpy(dtype=float)
        return np.asarray(np.nan_to_num((v - self.median) / self.scale), dtype=float)  # missing = at the median

    def top(self, x: pd.DataFrame, k: int = 3) -> list[list[tuple[str, float]]]:
        """Per row: the k features with the largest |z|, as (name, signed z)."""
        z = self.z(x)
        order = np.argsort(-np.abs(z), axis=1)[:, :k]
        return [[(self.features[j], round(float(z[i, j]), 2)) for j in row] for i, row in enumerate(order)]


def best_f1_threshold(
    y: npt.NDArray[np.int64],
    scores: FloatArray,
    kinds: npt.NDArray[Any] | None = None,
    use: npt.NDArray[np.bool_] | None = None,
) -> float:
    """Score threshold with the best F1 on (y, scores), placed halfway down to the next lower score: the
    margin keeps a window just below the weakest training alarm from being missed. Ties -> fewer alarms.

    With `kinds` (the impairment kind of each positive), the objective is the mean per-kind F1 where every
    kind shares the false alarms (netqos.ml.evaluate): plain F1 rewards flagging everything when most windows
    are impaired, as in the lab. `use` masks out windows to ignore (e.g. partly impaired "normal" ones)."""
    if use is not None:
        y, scores = y[use], scores[use]
        kinds = None if kinds is None else kinds[use]
    cand = np.unique(scores)
    if not y.any() or len(cand) == 0:
        return float(cand[-1]) if len(cand) else 0.0
    pred = scores[None, :] >= cand[:, None]
    if kinds is None:
        tp = (pred & (y[None, :] == 1)).sum(axis=1)
        objective = 2 * tp / (pred.sum(axis=1) + y.sum())
    else:
        fp = (pred & (y[None, :] == 0)).sum(axis=1)
        per_kind = []
        for k in np.unique(kinds[y == 1]):
            m = (kinds == k) & (y == 1)
            tp_k = (pred & m[None, :]).sum(axis=1)
            per_kind.append(2 * tp_k / (tp_k + fp + m.sum()))  # F1 = 2TP / (2TP + FP + FN)
        objective = np.mean(per_kind, axis=0)
    best = np.flatnonzero(objective == objective.max())[-1]
    return float(cand[best] if best == 0 else (cand[best] + cand[best - 1]) / 2)


class Detector:
    """Shared parts: feature list, threshold, flags, explanations, params."""

    name = "detector"

    def __init__(self, features: list[str]) -> None:
        self.features = list(features)
        self.threshold = 0.0
        self.baseline = RobustBaseline(self.features)

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int64] | None = None) -> Detector:
        raise NotImplementedError

    def score(self, x: pd.DataFrame) -> FloatArray:
        """Anomaly score per window: higher = more anomalous."""
        raise NotImplementedError

    def flag(self, x: pd.DataFrame) -> npt.NDArray[np.bool_]:
        return self.score(x) >= self.threshold

    def top_features(self, x: pd.DataFrame, k: int = 3) -> list[list[tuple[str, float]]]:
        return self.baseline.top(x, k)

    def params(self) -> dict[str, Any]:
        return {"model": self.name, "n_features": len(self.features), "threshold": self.threshold}

    def _fit_baseline(self, x: pd.DataFrame, y: npt.NDArray[np.int64] | None) -> None:
        normal = x if y is None or not (y == 0).any() else x[y == 0]
        self.baseline.fit(normal)


class IsolationForestDetector(Detector):
    """Unsupervised: IsolationForest over median-imputed, robustly scaled features.

    Never sees labels: the threshold is the training-score quantile 1 - `contamination`. (Tuning it for the
    best training F1 is no good here: most lab windows are impaired, so "flag everything" wins.)"""

    name = "isolation_forest"

    def __init__(
        self, features: list[str], n_estimators: int = 300, contamination: float = 0.25, random_state: int = 0
    ) -> None:
        super().__init__(features)
        self.contamination = contamination
        self.pipeline = Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", RobustScaler()),
            ("forest", IsolationForest(n_estimators=n_estimators, random_state=random_state)),
        ])  # fmt: skip

    def fit(self, x: pd.DataFrame, y: npt.NDArray[np.int64] | None = None) -> IsolationForestDetector:
        self.pipeline.fit(x[self.features].to_numpy(dtype=float))
        self._fit_baseline(x, y)  # labels only pick the reference windows of the explanations
        self.threshold = float(np.quantile(self.score(x), 1 - self.contamination))
        return self

    def score(self, x: pd.DataFrame) -> FloatArray:
        return np.asarray(-self.pipeline.score_samples(x[self.features].to_numpy(dtype=float)), dtype=float)

    def params(self) -> dict[str, Any]:
        forest = self.pipeline.named_steps["forest"]
        return {**super().params(), "n_estimators": forest.n_estimators, "contamination": self.contamination}


class GradientBoostingDetector(Detector):
    """Supervised: HistGradientBoosting on impaired-vs-normal lab labels (missing values handled natively).

    The threshold is chosen on out-of-fold probabilities (folds = whole runs, `groups`), so it is not tuned
    on windows the model has memorised."""

    name = "gradient_boosting"

    def __init__(
        self, features: list[str], max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15,
        min_samples_leaf: int = 5, random_state: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(features)
        self.hyper: dict[str, Any] = {
            "max_iter": max_iter, "learning_rate": learning_rate, "max_leaf_nodes": max_leaf_nodes,
            "min_samples_leaf": min_samples_leaf, "l2_regularization": 1.0, "class_weight": "balanced",
            "random_state": random_state,
        }  # fmt: skip
        self.model = HistGradientBoostingClassifier(**self.hyper)
        self.threshold_from = "default_0.5"

    def fit(
        self,
        x: pd.DataFrame,
        y: npt.NDArray[np.int64] | None = None,
        groups: npt.NDArray[Any] | None = None,
        kinds: npt.NDArray[Any] | None = None,
        clean: npt.NDArray[np.bool_] | None = None,
    ) -> GradientBoostingDetector:
        if y is None:
            raise ValueError("GradientBoostingDetector is supervised: pass the window labels y")
        v = x[self.features].to_numpy(dtype=float)
        self.model.fit(v, y)
        self._fit_baseline(x, y)
        self.threshold = 0.5
        if groups is not None and len(np.unique(groups)) >= 3:
            folds = min(5, len(np.unique(groups)))
            oof = cross_val_predict(
                HistGradientBoostingClassifier(**self.hyper), v, y, groups=groups, cv=GroupKFold(folds),
                method="predict_proba",
            )[:, 1]  # fmt: skip
            self.threshold = best_f1_threshold(y, oof, kinds, clean)
            self.threshold_from = f"oof_best_{'kind_' if kinds is not None else ''}f1_{folds}fold"
        return self

    def score(self, x: pd.DataFrame) -> FloatArray:
        return np.asarray(self.model.predict_proba(x[self.features].to_numpy(dtype=float))[:, 1], dtype=float)

    def params(self) -> dict[str, Any]:
        return {**super().params(), **self.hyper, "threshold_from": self.threshold_from}


# Key KPIs and the direction in which they get worse (+1: up is bad, -1: down is bad). Rates and deviations
# only: counts (e.g. tcp_lost_segments) grow with the traffic volume, so their baseline does not carry over to
# a busier network (and in the lab runs lost-segment counts were higher in normal windows than under congestion).
KEY_KPIS: dict[str, int] = {
    "tcp_retransmission_rate": 1, "rtt_p95_s": 1, "other_rtt_p95_s": 1,
    "voip_jitter_p95_s": 1, "voip_pps": -1, "pps_dev": -1, "active_flows_dev": -1, "other_pps_dev": -1,
    "dns_pps_dev": -1, "icmp_unreachable_rate": 1, "tcp_resets": 1,
}  # fmt: skip

# Smallest one-sigma per KPI, in the KPI's unit: a KPI that is (almost) constant in normal traffic (RTT p95 ~0 on
# the server leg, VoIP at exactly 50 pps) would otherwise get a tiny scale and turn noise into huge z-scores.
# About the size of a change that is not yet a QoS problem: 1 % retransmissions, 10 ms RTT, 3 ms VoIP jitter,
# 2 pps of VoIP, a 25 % (log) rate drop against the recent past, 1 % ICMP unreachable, one reset. (The jitter
# floor was picked among 3/5/10 ms by leave-one-run-out on the 10 s training runs: 3 ms keeps the jitter spans.)
KPI_FLOORS: dict[str, float] = {
    "tcp_retransmission_rate": 0.01, "rtt_p95_s": 0.01, "other_rtt_p95_s": 0.01, "voip_jitter_p95_s": 0.003,
    "voip_pps": 2.0, "pps_dev": 0.25, "active_flows_dev": 0.25, "other_pps_dev": 0.25, "dns_pps_dev": 0.25,
    "icmp_unreachable_rate": 0.01, "tcp_resets": 1.0,
}  # fmt: skip


class RobustKpiDetector(Detector):
    """Robust baselines of key KPIs: score = the largest one-sided robust z-score against normal windows.

    No learned weights: median/MAD of each KPI over the training windows labelled normal (untouched by any
    span), with a noise floor per KPI (KPI_FLOORS), and a fixed z threshold (`z_threshold`, default 3). With
    `z_threshold=None` the threshold is the best mean per-kind F1 on the training windows instead: in-sample and
    dragged down by kinds the KPIs cannot see (latency), it gave 3-5x the false alarms out of fold.
    Explains itself: the KPI with the top z."""

    name = "robust_kpi"

    def __init__(
        self,
        features: list[str],
        kpis: dict[str, int] | None = None,
        floors: dict[str, float] | None = None,
        z_threshold: float | None = 3.0,
    ) -> None:
        super().__init__(features)
        self.z_threshold = z_threshold
        self.kpis = dict(kpis or KEY_KPIS)
        self.floors = dict(KPI_FLOORS if floors is None else floors)
        self.kpi_baseline = RobustBaseline(list(self.kpis))
        self.sign = np.array(list(self.kpis.values()), dtype=float)

    def fit(
        self,
        x: pd.DataFrame,
        y: npt.NDArray[np.int64] | None = None,
        clean: npt.NDArray[np.bool_] | None = None,
        kinds: npt.NDArray[Any] | None = None,
    ) -> RobustKpiDetector:
        normal = np.ones(len(x), bool) if y is None else y == 0
        if clean is not None and (normal & clean).any():  # untouched normal windows, when there are any
            normal &= clean
        self.kpi_baseline.fit(x[normal])
        floor = np.array([self.floors.get(k, 0.0) for k in self.kpis], dtype=float)
        self.kpi_baseline.scale = np.maximum(self.kpi_baseline.scale, floor)
        self._fit_baseline(x, y)
        if self.z_threshold is not None:
            self.threshold = self.z_threshold
        elif y is not None and y.any():
            self.threshold = best_f1_threshold(y, self.score(x), kinds, clean)
        else:
            self.threshold = 4.0
        return self

    def score(self, x: pd.DataFrame) -> FloatArray:
        return np.asarray((self.kpi_baseline.z(x) * self.sign).max(axis=1), dtype=float)

    def top_features(self, x: pd.DataFrame, k: int = 3) -> list[list[tuple[str, float]]]:
        z = self.kpi_baseline.z(x) * self.sign
        order = np.argsort(-z, axis=1)[:, :k]
        names = list(self.kpis)
        return [[(names[j], round(float(z[i, j]), 2)) for j in row] for i, row in enumerate(order)]

    def params(self) -> dict[str, Any]:
        return {**super().params(), "kpis": ",".join(self.kpis), "z_threshold": self.z_threshold,
                "floors": ",".join(f"{k}={v:g}" for k, v in self.floors.items())}  # fmt: skip
