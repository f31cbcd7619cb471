"""Train -> register -> promote -> score against a real MLflow server (artifacts in MinIO) and a Delta lake.

The qos_windows rows are synthetic on purpose: scoring is what is under test here (decoding and windowing have
their own tshark-checked tests), and a known anomaly, a gap and an open window make the expectations exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from netqos.jobs import score_windows
from netqos.lake.tables import ANOMALIES, QOS_WINDOWS, ensure_tables
from netqos.ml import registry
from netqos.ml.train import lake_dataset, lake_windows, train
from netqos.settings import ModelSettings, Settings

pytestmark = pytest.mark.spark

S = 1_000_000_000
T0 = 1_795_000_000  # a whole multiple of 10 s
N = 60  # windows per sensor
GAP = (20, 21, 22)  # sensor s-a has no packets in these windows (an outage)
ANOMALY = 45  # sensor s-b: retransmissions and RTT jump in this window


def _window_rows(sensor: str, i: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    start = T0 + 10 * i
    bad = sensor == "s-b" and i == ANOMALY
    pps = rng.normal(200, 10)
    common = {"sensor_id": sensor, "window_s": 10, "window_start": datetime.fromtimestamp(start, UTC),
              "window_start_ns": start * S, "window_date": date.fromtimestamp(start)}  # fmt: skip
    all_row = {**common, "dimension": "all", "class": "all", "packets": int(pps * 10), "bytes": int(pps * 8000),
               "bps": pps * 6400, "pps": pps, "active_flows": int(rng.integers(20, 25)), "new_flows": 3,
               "tcp_segments": int(pps * 8), "tcp_retransmissions": 80 if bad else 1,
               "tcp_retransmission_rate": 0.05 if bad else 0.0006, "rtt_samples": 100,
               "rtt_p50_s": 0.02, "rtt_p95_s": 0.4 if bad else rng.normal(0.03, 0.002), "rtt_p99_s": 0.05,
               "jitter_samples": 500, "jitter_p95_s": 0.002}  # fmt: skip
    voip = {**common, "dimension": "service", "class": "voip", "packets": 500, "bytes": 86000, "bps": 68800.0,
            "pps": 50.0, "jitter_samples": 500, "jitter_p95_s": 0.002}  # fmt: skip
    return [all_row, voip]


def write_windows(spark: Any, settings: Settings) -> None:
    ensure_tables(spark, settings, (QOS_WINDOWS,))
    rng = np.random.default_rng(7)
    rows = [r for s in ("s-a", "s-b") for i in range(N) if not (s == "s-a" and i in GAP)
            for r in _window_rows(s, i, rng)]  # fmt: skip
    names = QOS_WINDOWS.column_names
    frame = pd.DataFrame([{c: r.get(c) for c in names} for r in rows])
    spark.createDataFrame(frame.astype(object).where(frame.notna(), None), QOS_WINDOWS.schema).writeTo(
        QOS_WINDOWS.qualified(settings)
    ).append()


@pytest.fixture
def model_settings(settings: Settings, mlflow_server: str, request: pytest.FixtureRequest) -> Settings:
    name = "qos-" + request.node.name.replace("_", "-")[:40]
    models = ModelSettings(tracking_uri=mlflow_server, registered_name=name, experiment=name,
                           detectors=("robust_kpi",))  # fmt: skip
    return settings.model_copy(update={"models": models})


def _train(spark: Any, settings: Settings) -> registry.ModelRef:
    windows, version = lake_windows(spark, settings, 10)
    result = train(settings, lake_dataset(windows, 10, QOS_WINDOWS.qualified(settings), version))
    assert result.registered is not None
    return result.registered


def _by_offset(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.set_index(rows["window_start_ns"] // S - T0)


def _anomalies(spark: Any, settings: Settings) -> pd.DataFrame:
    return spark.table(ANOMALIES.qualified(settings)).toPandas()


def test_champion_scores_every_closed_window_once_and_alias_moves_switch_versions(spark, model_settings) -> None:
    settings = model_settings
    write_windows(spark, settings)
    assert score_windows.run(spark, settings, "r0").champion is None  # no champion yet: nothing, no error

    v1 = _train(spark, settings)
    client = registry.configure(settings)
    assert registry.by_alias(client, v1.name, registry.CHALLENGER) == v1
    assert score_windows.run(spark, settings, "r1").champion is None  # a challenger alone is never used
    registry.promote(client, settings)

    report = score_windows.run(spark, settings, "r2")
    assert report.champion is not None and report.champion.version == v1.version
    rows = _anomalies(spark, settings)
    # Every window but each sensor's open (latest) one, including s-a's three empty windows.
    assert report.scored == len(rows) == 2 * (N - 1)
    a, b = (_by_offset(rows[rows["sensor_id"] == s]) for s in ("s-a", "s-b"))
    assert {10 * g for g in GAP} <= set(a.index)
    assert (rows["model_version"] == v1.version).all() and (rows["model_run_id"] == v1.run_id).all()
    assert (rows["scoring_run_id"] == "r2").all() and (rows["detector"] == "robust_kpi").all()
    assert b.loc[10 * ANOMALY, "is_anomaly"] and b.loc[10 * ANOMALY, "score"] == b["score"].max()
    top = {t["feature"] for t in b.loc[10 * ANOMALY, "top_features"]}
    assert top & {"tcp_retransmission_rate", "tcp_retransmissions", "rtt_p95_s", "other_rtt_p95_s"}
    assert rows.loc[~rows["is_anomaly"], "top_features"].isna().all()
    assert a.loc[10 * GAP[0], "is_anomaly"]  # the outage: no packets at all

    assert score_windows.run(spark, settings, "r3").scored == 0  # rerun: idempotent per window and version

    v2 = _train(spark, settings)  # a new challenger does not change what scores
    assert score_windows.run(spark, settings, "r4").scored == 0
    registry.promote(client, settings, version=v2.version)
    moved = score_windows.run(spark, settings, "r5")
    assert moved.champion is not None and moved.champion.version == v2.version
    rows = _anomalies(spark, settings)
    assert rows.groupby("model_version").size().to_dict() == {v1.version: 2 * (N - 1), v2.version: 2 * (N - 1)}
    assert not rows.duplicated(list(ANOMALIES.keys)).any()

    back = registry.rollback(client, settings)  # rollback = the alias back to v1, which already scored everything
    assert back.champion is not None and back.champion.version == v1.version
    assert score_windows.run(spark, settings, "r6").scored == 0


def test_a_model_whose_signature_does_not_match_the_table_fails_and_writes_nothing(spark, model_settings) -> None:
    import mlflow

    from netqos.ml.dataset import feature_columns
    from netqos.ml.models import IsolationForestDetector
    from netqos.ml.serving import QosAnomalyModel, signature

    settings = model_settings
    write_windows(spark, settings)
    # A model trained on an older feature set: no voip_pps, and a WLAN column the wired table does not have.
    features = [c for c in feature_columns() if c != "voip_pps"] + ["wlan_retry_rate"]
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(50, len(features))), columns=features)
    model = QosAnomalyModel(IsolationForestDetector(features, n_estimators=20).fit(x), window_s=10)
    client = registry.configure(settings)
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=model, signature=signature(features),
                                       registered_model_name=settings.models.registered_name)  # fmt: skip
    client.set_registered_model_alias(settings.models.registered_name, "champion", info.registered_model_version)
    ensure_tables(spark, settings, (ANOMALIES,))
    before = spark.table(ANOMALIES.qualified(settings)).count()

    with pytest.raises(score_windows.SignatureMismatch) as err:
        score_windows.run(spark, settings, "bad")
    assert err.value.missing == ["wlan_retry_rate"] and err.value.extra == ["voip_pps"]
    assert "wlan_retry_rate" in str(err.value) and "voip_pps" in str(err.value)
    assert spark.table(ANOMALIES.qualified(settings)).count() == before
