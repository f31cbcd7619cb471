"""Compare what a model flagged in `anomalies` with lab labels: the operator's check after promoting and scoring.

Lab captures ingested with `--sensor <run folder name>` give lake windows the run's labels; the scored windows of
those sensors are evaluated exactly like the held-out set in training (netqos.ml.evaluate).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.evaluate import Evaluation, evaluate
from netqos.ml.labels import LabRun, label_windows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from netqos.settings import Settings


def scored_rows(spark: SparkSession, settings: Settings, sensors: Sequence[str], version: str | None) -> pd.DataFrame:
    """anomalies rows of these sensors for one model version (default: the champion's)."""
    from pyspark.sql import functions as F

    from netqos.lake.tables import ANOMALIES
    from netqos.ml.registry import CHAMPION, by_alias, client

    name = settings.models.registered_name
    if version is None:
        ref = by_alias(client(settings), name, CHAMPION)
        if ref is None:
            raise ValueError(f"{name} has no champion: pass --version")
        version = ref.version
    rows = (
        spark.table(ANOMALIES.qualified(settings))
        .where((F.col("model_name") == name) & (F.col("model_version") == version) & F.col("sensor_id").isin(*sensors))
        .select("sensor_id", "window_s", "window_start_ns", "is_anomaly")
    )
    return rows.toPandas()


def judge(scored: pd.DataFrame, run_dirs: Sequence[Path]) -> tuple[Evaluation, int]:
    """Evaluation of the scored windows inside each labelled run, and how many windows it covers."""
    frames = []
    for run in (LabRun.load(Path(d)) for d in run_dirs):
        s = scored[scored["sensor_id"] == run.name]
        if s.empty:
            continue
        w_ns = int(s["window_s"].iloc[0]) * 1_000_000_000
        s = s[(s["window_start_ns"] >= run.start_ns) & (s["window_start_ns"] + w_ns <= run.end_ns)]
        starts = s["window_start_ns"].to_numpy(dtype=np.int64)
        kinds, overlap, span = label_windows(starts, w_ns, run.spans)
        frames.append(pd.DataFrame({"run": run.name, "window_start_ns": starts, "kind": kinds, "overlap": overlap,
                                    "span": span, "is_anomaly": s["is_anomaly"].to_numpy(dtype=bool)}))  # fmt: skip
    if not frames:
        raise ValueError("no scored windows of the labelled runs: ingest them with --sensor <run folder name>, score")
    data = pd.concat(frames, ignore_index=True).sort_values(["run", "window_start_ns"]).reset_index(drop=True)
    return evaluate(data, data["is_anomaly"].to_numpy(dtype=bool)), len(data)
