"""Score the qos_windows the champion model has not scored yet into the Delta table `anomalies`.

    resolve    models:/<models.registered_name>@champion -> version, run id, the pyfunc's QosAnomalyModel
    check      the model's input signature against what the table provides (SignatureMismatch names the
               missing / extra / mistyped columns; nothing is written)
    extract    per sensor, the windows from ROLLING windows before its first unscored one (deviation context)
    transform  per sensor: netqos.ml.dataset.window_features (the training code path), minus windows this
               version already scored, minus each sensor's open (latest) window; then the model, per partition
    load       MERGE on (sensor_id, window_s, window_start_ns, model_name, model_version): insert only

Idempotent per window and model version: a rerun scores nothing new; moving the alias to another version makes
the next run score every window with that version (rows of the old one stay, for comparison).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    NumericType,
    StringType,
    StructField,
    StructType,
)

from netqos.jobs.job_args import add_run_id_arg, add_warehouse_arg, default_run_id, in_session, settings_from_args
from netqos.jobs.sensor_ranges import date_of_ns
from netqos.lake.tables import ANOMALIES, QOS_WINDOWS, TOP_FEATURE, ensure_tables, merge_by_keys
from netqos.observability.job_run import job_metrics
from netqos.settings import Settings

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped]

    from netqos.ml.registry import ModelRef
    from netqos.ml.serving import QosAnomalyModel

NS = 1_000_000_000


class SignatureMismatch(ValueError):
    """The model's input schema and the features the table provides disagree."""

    def __init__(self, model: str, missing: list[str], extra: list[str], mistyped: list[str]) -> None:
        parts = []
        if missing:
            parts.append(f"missing from the table: {', '.join(missing)}")
        if extra:
            parts.append(f"provided by the table but not in the model signature: {', '.join(extra)}")
        if mistyped:
            parts.append(f"mistyped: {', '.join(mistyped)}")
        super().__init__(f"{model} does not match qos_windows ({'; '.join(parts)}): nothing scored, nothing written")
        self.missing, self.extra, self.mistyped = missing, extra, mistyped


@dataclass(frozen=True)
class Champion:
    ref: ModelRef
    model: QosAnomalyModel
    inputs: dict[str, str]  # signature input column -> MLflow type name, in order


@dataclass
class ScoreReport:
    champion: ModelRef | None
    scored: int = 0
    flagged: int = 0
    sensors: list[str] = field(default_factory=list)
    note: str = ""


def resolve_champion(settings: Settings, alias: str = "champion") -> Champion | None:
    import mlflow

    from netqos.ml.registry import by_alias, client

    ref = by_alias(client(settings), settings.models.registered_name, alias)
    if ref is None:
        return None
    pyfunc = mlflow.pyfunc.load_model(ref.uri)
    schema = pyfunc.metadata.get_input_schema()
    inputs = {c.name: str(c.type.name if hasattr(c.type, "name") else c.type) for c in schema.inputs}
    return Champion(ref, pyfunc.unwrap_python_model(), inputs)


def provided_features(table_schema: StructType) -> dict[str, DataType]:
    """Each model feature the table can provide, with the Spark type it comes from."""
    from netqos.ml.dataset import BASE_FEATURES, DEVIATION_OF, SERVICE_FEATURES

    types = {f.name: f.dataType for f in table_schema.fields}
    out: dict[str, DataType] = {c: types[c] for c in BASE_FEATURES if c in types}
    for cls, cols in SERVICE_FEATURES.items():
        out |= {f"{cls}_{c}": types[c] for c in cols if c in types}
    out |= {f"{c}_dev": DoubleType() for c in DEVIATION_OF if c in out}
    return out


_NUMERIC_SIGNATURE_TYPES = {"double", "float", "long", "integer"}


def check_signature(model_name: str, inputs: dict[str, str], provided: dict[str, DataType]) -> None:
    missing = [c for c in inputs if c not in provided]
    extra = [c for c in provided if c not in inputs]
    mistyped = [
        f"{c} (model {t}, table {provided[c].simpleString()})"
        for c, t in inputs.items()
        if c in provided and (t not in _NUMERIC_SIGNATURE_TYPES or not isinstance(provided[c], NumericType))
    ]
    if missing or extra or mistyped:
        raise SignatureMismatch(model_name, missing, extra, mistyped)


def extract(spark: SparkSession, settings: Settings, scored: DataFrame, window_s: int) -> DataFrame:
    """The sensor's windows from ROLLING windows before its first window this version has not scored (`scored`:
    scored_keys()). Service and deviation features derive from the BASE_FEATURES columns the table has."""
    from netqos.ml.dataset import BASE_FEATURES, ROLLING

    table = spark.table(QOS_WINDOWS.qualified(settings))
    windows = table.where((F.col("window_s") == window_s) & F.col("dimension").isin("all", "service")).select(
        "sensor_id",
        "window_s",
        "window_start_ns",
        "dimension",
        "class",
        *(c for c in BASE_FEATURES if c in table.columns),
    )
    first = (
        windows.where(F.col("dimension") == "all")
        .select("sensor_id", "window_start_ns")
        .join(scored, ["sensor_id", "window_start_ns"], "left_anti")
        .groupBy("sensor_id")
        .agg(F.min("window_start_ns").alias("first_unscored_ns"))
    )
    return windows.join(F.broadcast(first), "sensor_id").where(
        F.col("window_start_ns") >= F.col("first_unscored_ns") - F.lit(ROLLING * window_s * NS)
    )


def scored_keys(spark: SparkSession, settings: Settings, champion: Champion, window_s: int) -> DataFrame:
    return (
        spark.table(ANOMALIES.qualified(settings))
        .where(
            (F.col("model_name") == champion.ref.name)
            & (F.col("model_version") == champion.ref.version)
            & (F.col("window_s") == window_s)
        )
        .select("sensor_id", "window_start_ns")
    )


def feature_schema(features: Sequence[str]) -> StructType:
    return StructType(
        [
            StructField("sensor_id", StringType()),
            StructField("window_start_ns", LongType()),
            StructField("first_unscored_ns", LongType()),
            StructField("last_window_ns", LongType()),
            *(StructField(f, DoubleType()) for f in features),
        ]
    )


def sensor_features(pdf: pd.DataFrame, window_s: int, features: list[str]) -> pd.DataFrame:
    """One sensor's context windows -> model input rows from its first unscored window on."""
    import numpy as np
    import pandas as pd

    from netqos.ml.dataset import window_features, window_grid

    first = int(pdf["first_unscored_ns"].iloc[0])
    starts = window_grid(pdf, window_s)
    f = window_features(pdf, window_s, starts)
    f = f[f["window_start_ns"] >= first].reset_index(drop=True)
    out = {
        "sensor_id": str(pdf["sensor_id"].iloc[0]),
        "window_start_ns": f["window_start_ns"].astype(np.int64),
        "first_unscored_ns": first,
        "last_window_ns": int(starts.max()) if len(starts) else first,
    }
    for c in features:
        out[c] = f[c].astype(float) if c in f else np.nan
    return pd.DataFrame(out)


OUTPUT_SCHEMA = StructType(
    [
        StructField("sensor_id", StringType()),
        StructField("window_start_ns", LongType()),
        StructField("score", DoubleType()),
        StructField("threshold", DoubleType()),
        StructField("is_anomaly", BooleanType()),
        StructField("top_features_json", StringType()),
    ]
)


def transform(df: DataFrame, champion: Champion, settings: Settings, scored: DataFrame) -> DataFrame:
    """Context windows -> scored rows (OUTPUT_SCHEMA) for every window this version has not scored yet."""
    window_s = champion.model.window_s
    features = list(champion.inputs)
    model = champion.model  # shipped to the executors inside the closure (cloudpickle): no registry access there

    def build(pdf):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202  (PySpark infers UDF kinds from hints)
        return sensor_features(pdf, window_s, features)

    def score(batches):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
        yield from score_batches(batches, model, features)

    rows = df.groupBy("sensor_id").applyInPandas(build, feature_schema(features))
    rows = rows.join(scored, ["sensor_id", "window_start_ns"], "left_anti")  # empty windows scored before
    if not settings.models.score_open_windows:
        rows = rows.where(F.col("window_start_ns") < F.col("last_window_ns"))
    return rows.mapInPandas(score, OUTPUT_SCHEMA)


def score_batches(
    batches: Iterator[pd.DataFrame], model: QosAnomalyModel, features: list[str]
) -> Iterator[pd.DataFrame]:
    for pdf in batches:
        if pdf.empty:
            continue
        out = model.score_frame(pdf[features])
        out.insert(0, "window_start_ns", pdf["window_start_ns"].to_numpy())
        out.insert(0, "sensor_id", pdf["sensor_id"].to_numpy())
        yield out.rename(columns={"top_features": "top_features_json"})


def load(spark: SparkSession, scored: DataFrame, champion: Champion, settings: Settings, run_id: str) -> None:
    window_s = champion.model.window_s
    rows = scored.select(
        "sensor_id",
        F.lit(window_s).cast("int").alias("window_s"),
        F.timestamp_micros((F.col("window_start_ns") / 1000).cast("long")).alias("window_start"),
        "window_start_ns",
        F.lit(champion.ref.name).alias("model_name"),
        F.lit(champion.ref.version).alias("model_version"),
        F.lit(champion.ref.run_id).alias("model_run_id"),
        F.lit(champion.model.detector.name).alias("detector"),
        "score",
        "threshold",
        "is_anomaly",
        F.from_json("top_features_json", ArrayType(TOP_FEATURE)).alias("top_features"),
        F.lit(datetime.now(UTC)).alias("scored_at"),
        F.lit(run_id).alias("scoring_run_id"),
        date_of_ns("window_start_ns").alias("window_date"),
    )
    merge_by_keys(spark, ANOMALIES, settings, rows, update=False)


def run(spark: SparkSession, settings: Settings, run_id: str | None = None, alias: str = "champion") -> ScoreReport:
    ensure_tables(spark, settings, (QOS_WINDOWS, ANOMALIES))
    champion = resolve_champion(settings, alias)
    if champion is None:
        return ScoreReport(
            None, note=f"no model has alias {alias!r} in {settings.models.registered_name}: nothing scored"
        )
    provided = provided_features(spark.table(QOS_WINDOWS.qualified(settings)).schema)
    check_signature(f"{champion.ref.name} v{champion.ref.version}", champion.inputs, provided)
    window_s = champion.model.window_s
    scored = scored_keys(spark, settings, champion, window_s)
    out = transform(extract(spark, settings, scored, window_s), champion, settings, scored)
    out = out.localCheckpoint()  # scored once: the counts below and the MERGE read the same rows
    counts = out.agg(F.count("*").alias("n"), F.sum(F.col("is_anomaly").cast("int")).alias("flagged")).first()
    n, flagged = (int(counts["n"] or 0), int(counts["flagged"] or 0)) if counts else (0, 0)
    if n:
        load(spark, out, champion, settings, run_id or default_run_id())
    sensors = sorted(r["sensor_id"] for r in out.select("sensor_id").distinct().collect())
    return ScoreReport(champion.ref, n, flagged, sensors)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="score_windows", description="Score new qos_windows with the champion.")
    add_warehouse_arg(parser)
    add_run_id_arg(parser)
    parser.add_argument("--alias", default="champion", help="model alias to score with (default champion)")
    args = parser.parse_args(argv)
    settings = settings_from_args(args, Settings())
    run_id = args.run_id or default_run_id()
    with job_metrics("score_windows", settings, run_id) as m:
        try:
            report, timings = in_session(
                settings, "netqos-score-windows", lambda s: run(s, settings, run_id, args.alias)
            )
        except SignatureMismatch as exc:
            m.fail()
            print(f"score_windows: {exc}", file=sys.stderr)
            return 3
        m.rows("anomalies", report.scored)
    if report.champion is None:
        print(f"score_windows: {report.note}")
        return 0
    print(
        f"score_windows: {report.champion.name} v{report.champion.version} scored {report.scored} windows "
        f"({report.flagged} anomalies) of {len(report.sensors)} sensors ({sum(timings.values()):.1f}s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
