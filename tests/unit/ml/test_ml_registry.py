"""Registration and promotion on a local MLflow store (SQLite file; the server path is tested in integration):
challenger after training, champion only by request or when the policy's margin is met, rollback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest

from netqos.ml import registry
from netqos.ml.dataset import KEY_COLUMNS, LABEL_COLUMNS, feature_columns
from netqos.ml.train import UNLABELLED, Dataset, train
from netqos.settings import ModelSettings, Settings

S = 1_000_000_000


def _dataset(labelled: bool = True) -> Dataset:
    """Four lab-like runs one after another; congestion windows have high retransmissions and RTT."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    rng = np.random.default_rng(3)
    frames = []
    for r in range(4):
        n = 40
        f = pd.DataFrame({c: rng.normal(1.0, 0.1, n) for c in feature_columns()})
        kind = np.where((np.arange(n) % 10) >= 7, "congestion", "normal")
        bad = kind == "congestion"
        f.loc[bad, "tcp_retransmission_rate"] = 5.0
        f.loc[bad, "rtt_p95_s"] = 8.0
        f["window_start_ns"] = (1_700_000_000 + r * 1000 + 10 * np.arange(n)) * S
        f["sensor_id"] = f["run"] = f"run-{r}"
        f["scenario"], f["seed"], f["window_s"] = "synthetic", r, 10
        f["kind"] = kind if labelled else UNLABELLED
        f["overlap"] = np.where(bad, 1.0, 0.0)
        f["span"] = np.where(bad, 0, -1)
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)[[*KEY_COLUMNS, *feature_columns(), *LABEL_COLUMNS]]
    return Dataset(frame, "synthetic", resolve_dataset_source("/tmp"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    models = ModelSettings(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", detectors=("robust_kpi",))
    return Settings(home=tmp_path, models=models)


def test_training_registers_a_challenger_and_promotion_follows_the_policy(settings: Settings) -> None:
    ds = _dataset()
    first = train(settings, ds, test_runs=["run-3"])
    assert first.registered is not None and first.chosen.metrics()["overall_f1"] == pytest.approx(1.0)
    client = registry.configure(settings)
    name = settings.models.registered_name
    assert registry.by_alias(client, name, registry.CHAMPION) is None
    assert registry.promote(client, settings, policy=True).promoted  # nothing to beat yet

    second = train(settings, ds, test_runs=["run-3"])
    assert second.registered is not None and second.registered.version == "2"
    strict = settings.model_copy(update={"models": settings.models.model_copy(update={"promote_margin": 0.5})})
    refused = registry.promote(client, strict, policy=True)
    assert not refused.promoted and "does not beat" in refused.reason
    assert registry.by_alias(client, name, registry.CHAMPION).version == "1"  # type: ignore[union-attr]

    even = settings.model_copy(update={"models": settings.models.model_copy(update={"promote_margin": 0.0})})
    assert registry.promote(client, even, policy=True).promoted  # equal F1 meets a margin of 0
    assert registry.by_alias(client, name, registry.CHAMPION).version == "2"  # type: ignore[union-attr]
    back = registry.rollback(client, settings)
    assert back.champion is not None and back.champion.version == "1"


def test_policy_refuses_to_judge_a_challenger_evaluated_without_labels(settings: Settings) -> None:
    train(settings, _dataset(), test_runs=["run-3"])
    client = registry.configure(settings)
    registry.promote(client, settings)
    train(settings, _dataset(labelled=False))
    with pytest.raises(registry.RegistryError, match="without labels"):
        registry.promote(client, settings, policy=True)
    assert registry.promote(client, settings).promoted  # a person may still promote it


def test_a_registered_version_loads_as_pyfunc_with_its_exact_signature(settings: Settings) -> None:
    import mlflow

    result = train(settings, _dataset(), test_runs=["run-3"])
    assert result.registered is not None
    model = mlflow.pyfunc.load_model(result.registered.uri)
    assert model.metadata.get_input_schema().input_names() == feature_columns()
    assert model.metadata.metadata["window_s"] == 10
    run = mlflow.get_run(result.registered.run_id)
    assert run.data.params["window_s"] == "10" and "overall_f1" in run.data.metrics
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result.registered.run_id, "plots")}
    assert artifacts == {"plots/score_timeline.png", "plots/pr_curve.png"}
    assert run.inputs.dataset_inputs  # the dataset reference
