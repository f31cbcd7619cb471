"""MLflow model registry operations: store resolution, registering a challenger, promotion, rollback.

Aliases: `challenger` = the latest trained model; `champion` = the one scoring jobs use. Promotion is a person's
call (MLflow UI, or `netqos models promote`); `promote(policy=True)` only moves the alias when the challenger
beats the champion by `models.promote_margin` on `models.promote_metric`, both scored on the challenger's own
held-out evaluation set. Every move records the previous champion (registered-model tag), so rollback is one
command that moves the alias back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netqos.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

CHALLENGER = "challenger"
CHAMPION = "champion"
PREVIOUS_CHAMPION_TAG = "netqos.previous_champion"
EVAL_ARTIFACT = "evaluation/test_windows.parquet"  # the challenger's held-out windows, with labels


class RegistryError(RuntimeError):
    """A registry operation that cannot go ahead (no such alias, policy not met, no labels to compare on)."""


def tracking_uri(settings: Settings) -> str:
    """settings.models.tracking_uri, else $MLFLOW_TRACKING_URI, else a SQLite store under <home>/mlflow."""
    if settings.models.tracking_uri:
        return settings.models.tracking_uri
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    return f"sqlite:///{local_store(settings) / 'mlflow.db'}"


def local_store(settings: Settings) -> Path:
    path = settings.home / "mlflow"
    path.mkdir(parents=True, exist_ok=True)
    return path


def client(settings: Settings) -> MlflowClient:
    """Point mlflow (tracking and registry) at the store; read-only callers stop here."""
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri(settings)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(uri, registry_uri=uri)


def configure(settings: Settings) -> MlflowClient:
    """client(), plus the experiment training logs to (created with a local artifact root when the store is a
    local SQLite file: a bare `sqlite:` store would put artifacts in the working directory)."""
    import mlflow

    mlflow_client = client(settings)
    if mlflow_client.get_experiment_by_name(settings.models.experiment) is None:
        uri = tracking_uri(settings)
        artifacts = (local_store(settings) / "artifacts").as_uri() if uri.startswith("sqlite:") else None
        mlflow_client.create_experiment(settings.models.experiment, artifact_location=artifacts)
    mlflow.set_experiment(settings.models.experiment)
    return mlflow_client


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: str
    run_id: str
    alias: str | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def by_alias(client: MlflowClient, name: str, alias: str) -> ModelRef | None:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, alias)
    except MlflowException:  # no such model or alias
        return None
    return ModelRef(name, str(mv.version), str(mv.run_id), alias)


def by_version(client: MlflowClient, name: str, version: str) -> ModelRef:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, str(version))
    except MlflowException as exc:
        raise RegistryError(f"model {name} has no version {version}") from exc
    return ModelRef(name, str(mv.version), str(mv.run_id))


@dataclass(frozen=True)
class Promotion:
    promoted: bool
    champion: ModelRef | None  # the champion after the call
    previous: ModelRef | None
    reason: str


def promote(
    client: MlflowClient,
    settings: Settings,
    *,
    version: str | None = None,
    policy: bool = False,
) -> Promotion:
    """Move `champion` to `version` (default: the challenger). With `policy`, only when the challenger beats the
    current champion by the margin on the challenger's evaluation set (no champion yet: it is promoted)."""
    name = settings.models.registered_name
    target = by_version(client, name, version) if version else by_alias(client, name, CHALLENGER)
    if target is None:
        raise RegistryError(f"model {name} has no alias {CHALLENGER!r}: train one first (netqos models train)")
    current = by_alias(client, name, CHAMPION)
    if current is not None and current.version == target.version:
        return Promotion(False, current, current, f"version {target.version} is already the champion")
    reason = f"version {target.version} promoted by request"
    if policy and current is not None:
        metric, margin = settings.models.promote_metric, settings.models.promote_margin
        new, old = compare_on_eval_set(client, target, current, metric)
        if not new >= old + margin:
            return Promotion(
                False,
                current,
                current,
                f"challenger v{target.version} {metric}={new:.3f} does not beat champion v{current.version} "
                f"{metric}={old:.3f} by {margin} (same evaluation set): champion unchanged",
            )
        reason = (
            f"policy: challenger v{target.version} {metric}={new:.3f} >= champion v{current.version} "
            f"{old:.3f} + {margin}"
        )
    elif policy:
        reason = f"policy: no champion yet, version {target.version} promoted"
    client.set_registered_model_alias(name, CHAMPION, target.version)
    if current is not None:
        client.set_registered_model_tag(name, PREVIOUS_CHAMPION_TAG, current.version)
    return Promotion(True, ModelRef(name, target.version, target.run_id, CHAMPION), current, reason)


def rollback(client: MlflowClient, settings: Settings) -> Promotion:
    """Move `champion` back to the version it pointed at before the last promotion."""
    name = settings.models.registered_name
    previous = client.get_registered_model(name).tags.get(PREVIOUS_CHAMPION_TAG)
    if not previous:
        raise RegistryError(f"model {name}: no previous champion recorded, nothing to roll back to")
    return promote(client, settings, version=previous)


def compare_on_eval_set(
    client: MlflowClient, challenger: ModelRef, champion: ModelRef, metric: str
) -> tuple[float, float]:
    """(challenger, champion) `metric` on the challenger's held-out windows, each flagged by its own model."""
    import mlflow
    import pandas as pd  # type: ignore[import-untyped]

    from netqos.ml.evaluate import evaluate
    from netqos.ml.labels import NORMAL
    from netqos.ml.train import UNLABELLED

    local = mlflow.artifacts.download_artifacts(run_id=challenger.run_id, artifact_path=EVAL_ARTIFACT)
    data = pd.read_parquet(local)
    data = data[data["kind"] != UNLABELLED] if "kind" in data else data.iloc[:0]
    if data.empty or not (data["kind"] != NORMAL).any():
        raise RegistryError(
            f"challenger v{challenger.version} was evaluated without labels: the policy cannot compare it, a person "
            "decides (MLflow UI or netqos models promote --version N)"
        )
    values = []
    for ref in (challenger, champion):
        model = mlflow.pyfunc.load_model(ref.uri)
        features = [c.name for c in model.metadata.get_input_schema().inputs]
        missing = [f for f in features if f not in data.columns]
        if missing:
            raise RegistryError(f"v{ref.version} needs features the evaluation set lacks: {missing}")
        flagged = model.predict(data[features].astype(float))["is_anomaly"].to_numpy(dtype=bool)
        metrics = evaluate(data, flagged).metrics()
        if metric not in metrics:
            raise RegistryError(f"unknown promote_metric {metric!r}; one of {sorted(metrics)}")
        values.append(metrics[metric])
    return values[0], values[1]


def describe(client: MlflowClient, settings: Settings) -> list[dict[str, Any]]:
    """Every version of the registered model, newest first: version, aliases, run id, key metrics."""
    from mlflow.exceptions import MlflowException

    name = settings.models.registered_name
    try:
        model = client.get_registered_model(name)
    except MlflowException:
        return []
    aliases: dict[str, list[str]] = {}
    for alias, version in (model.aliases or {}).items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for mv in sorted(client.search_model_versions(f"name='{name}'"), key=lambda m: -int(m.version)):
        run = client.get_run(str(mv.run_id))
        rows.append(
            {
                "version": str(mv.version),
                "aliases": sorted(aliases.get(str(mv.version), [])),
                "run_id": mv.run_id,
                "detector": run.data.params.get("model", ""),
                "overall_f1": run.data.metrics.get("overall_f1"),
                "created": mv.creation_timestamp,
            }
        )
    return rows
