"""Lab run folders -> one labelled frame of QoS windows (one row per sensor and window).

Per run: decode the rotated captures, featurize them stitched as one sensor (sensor_id = run name), keep the
`dimension == "all"` windows of one length, add a few per-service columns and rolling-baseline deviations,
and label each window from labels.json (netqos.ml.labels). The featurized windows are cached per run as
`<run>/qos_windows_<w>s.parquet`, so rebuilding the dataset with other options does not decode again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
import pyarrow as pa
import pyarrow.parquet as pq

from netqos.ml.labels import MIN_OVERLAP, NORMAL, LabRun, label_windows

# Columns of the `all` windows used as features. Left out: keys and time (sensor_id, window_s, window_start*,
# dimension, class), WLAN columns (wired lab: always 0/null) and counts duplicated by their rates.
BASE_FEATURES: tuple[str, ...] = (
    "packets", "bytes", "bps", "pps", "active_flows", "new_flows", "tcp_segments", "tcp_retransmissions",
    "tcp_retransmission_rate", "tcp_out_of_order_rate", "tcp_lost_segments", "tcp_dup_acks", "tcp_zero_window",
    "tcp_resets", "rtt_samples", "rtt_p50_s", "rtt_p95_s", "rtt_p99_s", "jitter_samples", "jitter_p95_s",
    "icmp_unreachable", "icmp_unreachable_rate", "icmp_time_exceeded_rate",
)  # fmt: skip
# Per-service columns from the `service` dimension: a 50 pps VoIP stream losing a third of its packets is
# invisible in the total pps of a link carrying bulk TCP, but obvious in the voip class alone.
SERVICE_FEATURES: dict[str, tuple[str, ...]] = {
    "voip": ("pps", "jitter_p95_s", "jitter_samples"),
    "dns": ("pps",),
    "other": ("pps", "rtt_p95_s", "tcp_retransmission_rate", "new_flows"),
}
# Deviation from the sensor's own recent past (median of the previous ROLLING windows): rates differ between
# sensors and traffic mixes, a sudden drop or jump does not. Past windows only, so no look-ahead.
ROLLING = 6
DEVIATION_OF: tuple[str, ...] = ("pps", "bps", "active_flows", "voip_pps", "other_pps", "dns_pps", "rtt_p95_s")
# Counts are 0 in a window without packets (the windows table has no row for it); rates/percentiles stay NaN.
_COUNT_LIKE = ("packets", "bytes", "bps", "pps", "active_flows", "new_flows", "tcp_", "rtt_samples",
               "jitter_samples", "icmp_unreachable")  # fmt: skip

# Empty windows between two windows of a sensor are filled in up to this many (10 min of 10 s windows).
MAX_GAP_WINDOWS = 60

KEY_COLUMNS = ("sensor_id", "run", "scenario", "seed", "window_start_ns", "window_s")
LABEL_COLUMNS = ("kind", "overlap", "span")


def feature_columns() -> list[str]:
    """The model's input columns, in order (the exact schema a registered model must get)."""
    svc = [f"{c}_{col}" for c, cols in SERVICE_FEATURES.items() for col in cols]
    dev = [f"{c}_dev" for c in DEVIATION_OF]
    return [*BASE_FEATURES, *svc, *dev]


def run_windows(run: LabRun, window_s: int = 10, *, refresh: bool = False) -> pd.DataFrame:
    """Featurized windows (all dimensions) of one lab run, cached as parquet in the run folder."""
    cache = run.path / f"qos_windows_{window_s}s.parquet"
    if cache.exists() and not refresh:
        return pq.read_table(cache).to_pandas()
    table = _featurize_run(run, window_s)
    tmp = cache.with_name(cache.name + ".partial")
    pq.write_table(table, tmp)
    tmp.replace(cache)
    return table.to_pandas()


def _featurize_run(run: LabRun, window_s: int) -> pa.Table:
    # Imported here: decoding pulls in Numba kernels, which a cached dataset does not need.
    from netqos.decode.export import decode_each
    from netqos.features import FeatureConfig, featurize
    from netqos.flows import FlowConfig

    files = sorted((run.path / "captures" / "ready").glob("*.pcapng"))  # names end in a sequence number
    if not files:
        raise FileNotFoundError(f"{run.path}: no captures in captures/ready/")
    tables = [d.table for d in decode_each(files) if d.table is not None and d.table.num_rows]
    cfg = FeatureConfig(
        flow=FlowConfig(sensor_id=run.name, per_file=False), window_seconds=(window_s,), bytes_in_flight=False
    )
    windows = featurize(pa.concat_tables(tables), cfg).windows
    # The decoder may carry the capture agent's sensor name; the run name keeps runs apart.
    i = windows.column_names.index("sensor_id")
    return windows.set_column(i, "sensor_id", pa.array([run.name] * windows.num_rows, pa.string()))


def run_frame(run: LabRun, windows: pd.DataFrame, window_s: int = 10) -> pd.DataFrame:
    """One row per window of the run (empty windows included), feature columns, keys and labels."""
    w_ns = window_s * 1_000_000_000
    # Whole windows inside the run only: a window cut by the run's start/end has a lower pps for no QoS reason.
    first = -(-run.start_ns // w_ns) * w_ns
    starts = np.arange(first, run.end_ns - w_ns + 1, w_ns, dtype=np.int64)
    frame = window_features(windows, window_s, starts)
    kinds, overlap, span = label_windows(starts, w_ns, run.spans)
    frame["kind"], frame["overlap"], frame["span"] = kinds, overlap, span
    frame["sensor_id"], frame["run"], frame["scenario"], frame["seed"] = run.name, run.name, run.scenario, run.seed
    frame["window_s"] = window_s
    return frame[[*KEY_COLUMNS, *feature_columns(), *LABEL_COLUMNS]]


def window_grid(windows: pd.DataFrame, window_s: int, max_gap: int = MAX_GAP_WINDOWS) -> npt.NDArray[np.int64]:
    """The window starts of one sensor: every window that has a row, plus the empty windows of gaps up to
    `max_gap` windows long. A window without packets (an outage) has no row in qos_windows but is a window to
    learn from and to score; a longer silence (the sensor was off, or captures from another day) is not."""
    w_ns = window_s * 1_000_000_000
    present = np.unique(windows.loc[windows["window_s"] == window_s, "window_start_ns"].to_numpy(dtype=np.int64))
    if len(present) < 2:
        return present
    gaps = np.diff(present) // w_ns - 1  # empty windows between neighbours
    pairs = zip(present[:-1], present[1:], gaps, strict=True)
    fill = [np.arange(a + w_ns, b, w_ns, dtype=np.int64) for a, b, g in pairs if 0 < g <= max_gap]
    return np.sort(np.concatenate([present, *fill])) if fill else present


def window_features(windows: pd.DataFrame, window_s: int, starts: npt.NDArray[np.int64]) -> pd.DataFrame:
    """The model input of one sensor: `window_start_ns` + feature_columns(), one row per start in `starts`.

    `windows` are that sensor's qos_windows rows (any dimensions; `all` and `service` are used). Training and
    scoring both build their input here, so a model never sees features computed another way. Deviations look
    at the previous windows in `starts` only: pass the ROLLING windows before the first one to score as context.
    Column dtypes follow the table (counts keep their integer type where no window is missing).
    """
    frame = pd.DataFrame({"window_start_ns": np.asarray(starts, dtype=np.int64)})
    w = windows[windows["window_s"] == window_s]
    base_cols = [c for c in BASE_FEATURES if c in w.columns]
    base = w[w["dimension"] == "all"].set_index("window_start_ns")[base_cols]
    frame = frame.join(base, on="window_start_ns")
    svc = w[w["dimension"] == "service"]
    for cls, cols in SERVICE_FEATURES.items():
        have = [c for c in cols if c in w.columns]
        part = svc[svc["class"] == cls].set_index("window_start_ns")[have]
        frame = frame.join(part.add_prefix(f"{cls}_"), on="window_start_ns")
    counts = [c for c in frame.columns if c != "window_start_ns" and _is_count(c)]
    frame[counts] = frame[counts].fillna(0.0)
    for col in DEVIATION_OF:
        if col in frame.columns:
            frame[f"{col}_dev"] = _deviation(frame[col].astype(float))
    return frame


def _is_count(col: str) -> bool:
    name = col.split("_", 1)[1] if col.split("_", 1)[0] in SERVICE_FEATURES else col
    return name.startswith(_COUNT_LIKE) and not name.endswith(("_rate", "_s"))


def _deviation(x: pd.Series) -> pd.Series:
    """log((x + 1) / (rolling median of the previous windows + 1)); 0 where there is no past yet."""
    past = x.shift(1).rolling(ROLLING, min_periods=1).median()
    return np.log1p(x.fillna(0.0)).sub(np.log1p(past)).fillna(0.0)


def build_dataset(run_dirs: Sequence[Path], window_s: int = 10, *, refresh: bool = False) -> pd.DataFrame:
    """Labelled windows of several lab runs, sorted by run start then time."""
    runs = sorted((LabRun.load(Path(d)) for d in run_dirs), key=lambda r: r.start_ns)
    frames = [run_frame(r, run_windows(r, window_s, refresh=refresh), window_s) for r in runs]
    return pd.concat(frames, ignore_index=True)


def time_split(
    data: pd.DataFrame, test_runs: Sequence[str] | None = None, test_share: float = 0.3, *, train_first: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/test without leakage: whole runs (sensors) go to one side.

    With `test_runs`, those runs are the test set and every train window must lie before the first test window
    in time (else ValueError: a later run would teach the model about the future). `train_first=False` drops
    that check for independent lab runs (own namespaces and seeds, nothing carries over between them) where
    a train run happened to be recorded later. Without `test_runs`, the latest runs by start time form the test
    set, about `test_share` of the windows.
    """
    starts = data.groupby("run")["window_start_ns"].min().sort_values()
    if test_runs is None:
        cum = data.groupby("run").size().reindex(starts.index).cumsum() / len(data)
        test_runs = list(cum.index[cum > 1 - test_share]) or [starts.index[-1]]
    test_mask = data["run"].isin(list(test_runs))
    train, test = data[~test_mask], data[test_mask]
    if train_first and len(train) and len(test) and train["window_start_ns"].max() >= test["window_start_ns"].min():
        raise ValueError("train windows overlap or follow the test windows in time: split by later runs")
    return train.reset_index(drop=True), test.reset_index(drop=True)


def binary_target(data: pd.DataFrame) -> npt.NDArray[np.int64]:
    """1 for windows labelled with an impairment kind."""
    return np.asarray(data["kind"].to_numpy() != NORMAL, dtype=np.int64)


__all__ = [
    "BASE_FEATURES",
    "MIN_OVERLAP",
    "binary_target",
    "build_dataset",
    "feature_columns",
    "run_frame",
    "run_windows",
    "time_split",
    "window_features",
    "window_grid",
]  # fmt: skip
