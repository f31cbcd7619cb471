"""The training pipeline, one function per step (`netqos models train`, the netqos_train DAG, ml/train.py):

dataset   lab_dataset (lab run folders) | lake_dataset (the qos_windows table, labels from lab runs if any)
split     whole sensors/runs to one side, test after train in time (one sensor: a time cut-off)
fit       the configured detectors (supervised ones only when there are labels)
evaluate  per-kind precision/recall/F1 and detection delay on the held-out windows
log       one MLflow run per detector: params, metrics, plots, dataset reference, the pyfunc model
register  the best detector as a new version of models.registered_name, alias `challenger`
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.dataset import (
    KEY_COLUMNS,
    LABEL_COLUMNS,
    binary_target,
    build_dataset,
    feature_columns,
    time_split,
    window_features,
    window_grid,
)
from netqos.ml.evaluate import Evaluation, evaluate
from netqos.ml.labels import NORMAL, LabRun, label_windows
from netqos.ml.models import Detector, GradientBoostingDetector, IsolationForestDetector, RobustKpiDetector
from netqos.settings import Settings

if TYPE_CHECKING:
    from mlflow.data.dataset_source import DatasetSource
    from pyspark.sql import SparkSession
    from rich.console import Console

    from netqos.ml.registry import ModelRef

SUPERVISED = {"gradient_boosting"}
DETECTORS = ("isolation_forest", "gradient_boosting", "robust_kpi")
UNLABELLED = "unlabelled"  # kind of windows of sensors without lab labels


@dataclass
class Dataset:
    frame: pd.DataFrame  # KEY_COLUMNS + feature_columns() + LABEL_COLUMNS
    source: str  # what it was built from (logged as a param)
    reference: DatasetSource  # the same, as MLflow's dataset source (logged with the run's input dataset)
    runs: dict[str, LabRun] = field(default_factory=dict)  # labelled runs by sensor id

    @property
    def labelled(self) -> bool:
        return bool((self.frame["kind"] != UNLABELLED).any())


def lab_dataset(run_dirs: Sequence[Path], window_s: int) -> Dataset:
    frame = build_dataset(run_dirs, window_s)
    from mlflow.data.dataset_source_registry import resolve_dataset_source

    runs = {r.name: r for r in (LabRun.load(Path(d)) for d in run_dirs)}
    root = Path(run_dirs[0]).resolve().parent if run_dirs else Path(".")
    reference = resolve_dataset_source(str(root))  # a local-file source
    return Dataset(frame, f"lab:{root}/{{{','.join(sorted(runs))}}}@{window_s}s", reference, runs)


def lake_windows(spark: SparkSession, settings: Settings, window_s: int) -> tuple[pd.DataFrame, int]:
    """The `all` and `service` rows of qos_windows for one window length, and the table version read."""
    from pyspark.sql import functions as F

    from netqos.lake.tables import QOS_WINDOWS

    table = QOS_WINDOWS.qualified(settings)
    version = int(spark.sql(f"DESCRIBE HISTORY {table} LIMIT 1").collect()[0]["version"])
    rows = (
        spark.read.option("versionAsOf", version)
        .table(table)
        .where((F.col("window_s") == window_s) & F.col("dimension").isin("all", "service"))
        .drop("window_start", "window_date")
    )
    return rows.toPandas(), version


def lake_dataset(
    windows: pd.DataFrame, window_s: int, table: str, version: int, label_runs: Sequence[Path] = ()
) -> Dataset:
    """Model rows per sensor (netqos.ml.dataset.window_features); sensors named like a lab run get its labels.
    `table`/`version` name the qos_windows snapshot read (the dataset reference)."""
    from mlflow.data.delta_dataset_source import DeltaDatasetSource

    runs = {r.name: r for r in (LabRun.load(Path(d)) for d in label_runs)}
    frames = []
    for sensor, w in windows.groupby("sensor_id"):
        starts = window_grid(w, window_s)
        f = window_features(w, window_s, starts)
        run = runs.get(str(sensor))
        if run is not None:
            f["kind"], f["overlap"], f["span"] = label_windows(starts, window_s * 1_000_000_000, run.spans)
        else:
            f["kind"], f["overlap"], f["span"] = UNLABELLED, 0.0, -1
        f["sensor_id"] = f["run"] = str(sensor)
        f["scenario"], f["seed"], f["window_s"] = (run.scenario, run.seed, window_s) if run else ("", -1, window_s)
        frames.append(f)
    if not frames:
        raise ValueError(f"qos_windows has no {window_s} s windows to train on: ingest captures first")
    frame = pd.concat(frames, ignore_index=True)
    for col in feature_columns():  # a column the table never had (old schema) stays visible as missing values
        if col not in frame:
            frame[col] = np.nan
    reference = DeltaDatasetSource(delta_table_name=table, delta_table_version=version)
    source = f"delta:{table}@v{version}/{window_s}s"
    return Dataset(frame[[*KEY_COLUMNS, *feature_columns(), *LABEL_COLUMNS]], source, reference, runs)


def split(
    ds: Dataset, test_runs: Sequence[str] | None = None, test_share: float = 0.3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """No leakage, test after train in time. With `test_runs` (lab runs: independent, one after another), those
    whole runs are the test set and must all be recorded after the train runs. Without, one time cut-off across
    all sensors (sensors run side by side): the latest `test_share` of the time span is the test set."""
    data = ds.frame
    if test_runs:
        return time_split(data, test_runs)
    starts = data["window_start_ns"].to_numpy()
    cut = np.quantile(starts, 1 - test_share)
    return data[starts < cut].reset_index(drop=True), data[starts >= cut].reset_index(drop=True)


def fit(train: pd.DataFrame, detectors: Sequence[str]) -> list[Detector]:
    """Fit each detector; the supervised one is left out when nothing is labelled."""
    feats = feature_columns()
    labelled = (train["kind"] != UNLABELLED).to_numpy()
    y = binary_target(train)
    kinds = train["kind"].to_numpy()
    untouched = ~((train["kind"] == NORMAL) & (train["overlap"] > 0)).to_numpy()
    models: list[Detector] = []
    for name in detectors:
        if name not in DETECTORS:
            raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
        if name in SUPERVISED and not labelled.any():
            continue  # needs lab labels
        if name == "isolation_forest":
            models.append(IsolationForestDetector(feats).fit(train, y if labelled.all() else None))
        elif name == "gradient_boosting":
            t = train[labelled]
            models.append(
                GradientBoostingDetector(feats).fit(
                    t, y[labelled], groups=t["run"].to_numpy(), kinds=kinds[labelled], clean=untouched[labelled]
                )
            )
        elif labelled.any():  # robust_kpi: baselines of normal windows, threshold tuned on the labels
            t = train[labelled]
            models.append(
                RobustKpiDetector(feats).fit(t, y[labelled], clean=untouched[labelled], kinds=kinds[labelled])
            )
        else:  # robust_kpi without labels: baselines of every window, alarm at its fixed robust z
            models.append(RobustKpiDetector(feats).fit(train))
    return models


@dataclass
class Scored:
    model: Detector
    scores: np.ndarray[Any, Any]
    evaluation: Evaluation | None  # None without labelled test windows

    def metrics(self) -> dict[str, float]:
        flagged = self.scores >= self.model.threshold
        out = {"alarm_rate": float(flagged.mean()) if len(flagged) else 0.0}
        return {**out, **(self.evaluation.metrics() if self.evaluation else {})}


def evaluate_all(models: Sequence[Detector], test: pd.DataFrame) -> list[Scored]:
    labelled = (test["kind"] != UNLABELLED).to_numpy()
    out = []
    for m in models:
        s = m.score(test)
        ev = evaluate(test[labelled], (s >= m.threshold)[labelled]) if labelled.any() else None
        out.append(Scored(m, s, ev))
    return out


def best(scored: Sequence[Scored], metric: str) -> Scored:
    """Highest `metric` among evaluated detectors; without labels, the first configured one."""
    evaluated = [s for s in scored if s.evaluation is not None and metric in s.metrics()]
    if not evaluated:
        return scored[0]
    return max(evaluated, key=lambda s: np.nan_to_num(s.metrics()[metric], nan=-1.0))


@dataclass
class TrainResult:
    scored: list[Scored]
    chosen: Scored
    run_ids: dict[str, str]
    registered: ModelRef | None
    train_windows: int
    test_windows: int
    seconds: float


def train(
    settings: Settings,
    ds: Dataset,
    *,
    test_runs: Sequence[str] | None = None,
    register: bool = True,
    detectors: Sequence[str] | None = None,
) -> TrainResult:
    """Split, fit, evaluate, log every detector to MLflow and register the best one as `challenger`."""
    t0 = time.monotonic()
    train_df, test_df = split(ds, test_runs)
    if train_df.empty or test_df.empty:
        raise ValueError(f"not enough windows to train and test: {len(train_df)} train, {len(test_df)} test")
    models = fit(train_df, detectors or settings.models.detectors)
    scored = evaluate_all(models, test_df)
    chosen = best(scored, settings.models.promote_metric)
    run_ids, registered = log_runs(settings, ds, train_df, test_df, scored, chosen, register=register)
    return TrainResult(scored, chosen, run_ids, registered, len(train_df), len(test_df), time.monotonic() - t0)


def log_runs(
    settings: Settings,
    ds: Dataset,
    train_df: pd.DataFrame,
    test_df: pd.DataFrame,
    scored: Sequence[Scored],
    chosen: Scored,
    *,
    register: bool,
) -> tuple[dict[str, str], ModelRef | None]:
    """One MLflow run per detector (params, metrics, plots, dataset, eval set, model); register `chosen`."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    from netqos.ml import plots
    from netqos.ml.registry import CHALLENGER, EVAL_ARTIFACT, ModelRef, configure
    from netqos.ml.serving import QosAnomalyModel, signature

    client = configure(settings)
    feats = feature_columns()
    window_s = int(ds.frame["window_s"].iloc[0])
    dataset = from_pandas(ds.frame, source=ds.reference, name=f"qos_windows_{window_s}s", targets="kind")
    test_lab_runs = [ds.runs.get(r) or _unlabelled_run(test_df, r) for r in sorted(test_df["run"].unique())]
    common = {
        "window_s": window_s,
        "source": ds.source[:500],
        "train_runs": ",".join(sorted(train_df["run"].unique()))[:500],
        "test_runs": ",".join(sorted(test_df["run"].unique()))[:500],
        "train_windows": len(train_df),
        "test_windows": len(test_df),
        "features": len(feats),
        "labelled": ds.labelled,
    }
    run_ids: dict[str, str] = {}
    registered: ModelRef | None = None
    for s in scored:
        with mlflow.start_run(run_name=s.model.name) as run:
            run_ids[s.model.name] = run.info.run_id
            mlflow.log_input(dataset, context="training")
            mlflow.log_params({**common, **s.model.params()})
            mlflow.log_metrics({k: v for k, v in s.metrics().items() if np.isfinite(v)})
            mlflow.set_tags({"netqos.detector": s.model.name, "netqos.chosen": str(s is chosen).lower()})
            mlflow.log_figure(
                plots.score_timeline(test_df, s.scores, s.model.threshold, test_lab_runs, s.model.name),
                "plots/score_timeline.png",
            )
            if s.evaluation is not None:
                mlflow.log_figure(
                    plots.pr_curve(
                        test_df[test_df["kind"] != UNLABELLED],
                        {s.model.name: s.scores[(test_df["kind"] != UNLABELLED).to_numpy()]},
                    ),
                    "plots/pr_curve.png",
                )
                mlflow.log_table(pd.DataFrame(_table_rows(s.evaluation)), "evaluation/per_kind.json")
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(EVAL_ARTIFACT).name
                test_df.to_parquet(path, index=False)
                mlflow.log_artifact(str(path), str(Path(EVAL_ARTIFACT).parent))
            python_model = QosAnomalyModel(s.model, window_s, settings.models.top_features)
            name = settings.models.registered_name if register and s is chosen else None
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=python_model,
                signature=signature(feats),
                input_example=train_df[feats].astype(float).head(3),
                registered_model_name=name,
                pip_requirements=_requirements(),
                metadata={"window_s": window_s, "detector": s.model.name, "features": feats},
            )
            if name is not None and info.registered_model_version is not None:
                version = str(info.registered_model_version)
                client.set_registered_model_alias(name, CHALLENGER, version)
                client.set_model_version_tag(name, version, "netqos.detector", s.model.name)
                registered = ModelRef(name, version, run.info.run_id, CHALLENGER)
    return run_ids, registered


def _unlabelled_run(test_df: pd.DataFrame, name: str) -> LabRun:
    starts = test_df.loc[test_df["run"] == name, "window_start_ns"]
    return LabRun(name, Path("."), "", -1, int(starts.min()), int(starts.max()), ())


def _table_rows(ev: Evaluation) -> list[dict[str, Any]]:
    from netqos.ml.evaluate import summary_rows

    return [
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
        for r in summary_rows(ev)
    ]


def _requirements() -> list[str]:
    """Pinned to what trained the model; netqos itself must be installed where the model is loaded."""
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("mlflow", "scikit-learn", "pandas", "numpy", "pyarrow")]


def lake_source(settings: Settings, window_s: int, label_runs: Sequence[Path] = ()) -> Dataset:
    """Read qos_windows in a short-lived Spark session and build the dataset (training itself needs no Spark)."""
    from netqos.jobs.job_args import in_session
    from netqos.lake.tables import QOS_WINDOWS

    (windows, version), _ = in_session(settings, "netqos-models-train", lambda s: lake_windows(s, settings, window_s))
    return lake_dataset(windows, window_s, QOS_WINDOWS.qualified(settings), version, label_runs)


def train_and_report(
    settings: Settings,
    console: Console,
    *,
    lab_runs: Sequence[Path] | None = None,
    label_runs: Sequence[Path] = (),
    test_runs: Sequence[str] | None = None,
    window_s: int | None = None,
    detectors: Sequence[str] | None = None,
    register: bool = True,
) -> int:
    """The whole pipeline with a printed evaluation table per detector (the CLI and the netqos_train DAG)."""
    from netqos.ml.console import print_evaluation
    from netqos.ml.registry import tracking_uri

    w = window_s or settings.models.window_s
    ds = lab_dataset(lab_runs, w) if lab_runs else lake_source(settings, w, label_runs)
    result = train(settings, ds, test_runs=test_runs, register=register, detectors=detectors)
    console.print(
        f"dataset {ds.source}: {result.train_windows} train / {result.test_windows} test windows, "
        f"{len(feature_columns())} features; {'labelled' if ds.labelled else 'no labels: unsupervised only'}"
    )
    for s in result.scored:
        title = f"{s.model.name} on held-out windows (threshold {s.model.threshold:.3f})"
        if s.evaluation is not None:
            print_evaluation(console, title, s.evaluation)
        else:
            console.print(f"{title}: alarm rate {s.metrics()['alarm_rate']:.1%} (no labels to score against)")
    where = tracking_uri(settings)
    if result.registered:
        console.print(
            f"registered {result.registered.name} version {result.registered.version} "
            f"({result.chosen.model.name}) as 'challenger' in {where}; promote it in the MLflow UI or with "
            "`netqos models promote`",
            soft_wrap=True,
        )
    else:
        console.print(
            f"logged runs {', '.join(result.run_ids.values())} to {where}; nothing registered", soft_wrap=True
        )
    if result.registered and settings.models.auto_promote:
        from netqos.ml.registry import RegistryError, configure, promote

        try:
            outcome = promote(configure(settings), settings, version=result.registered.version, policy=True)
            console.print(f"auto-promotion: {outcome.reason}", soft_wrap=True)
        except RegistryError as exc:
            console.print(f"auto-promotion skipped: {exc}", soft_wrap=True)
    return 0
