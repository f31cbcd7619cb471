"""Train and judge the QoS anomaly models on traffic-lab runs (issue 6; no MLflow here).

    sudo .venv/bin/python ml/train_lab.py [--set slots60|short] [--runs DIR] [--out DIR] [--window 10]
    sudo .venv/bin/python ml/train_lab.py --runs /tmp/netqos-lab-runs10 --window 10 --out ~/.cache/netqos/ml-lab/w10

Two run sets (RUN_SETS): "short" (the first lab runs: 150-180 s, spans of a few seconds; for 1-5 s windows) and
"slots60" (600 s runs with 60 s impairment slots, `lab run --slot-seconds 60`: spans of 30-50 s, so 10 s windows
are whole-impairment or whole-normal). The set defaults to slots60 for windows of 10 s or more, else short;
--train/--test replace its run lists (specs scenario-seed:duration).

Generates the lab runs that are missing (needs root; each takes its duration + ~5 s), builds the labelled
window dataset, trains the IsolationForest baseline and the gradient-boosting detector on the train runs,
evaluates both on held-out runs (other seeds and scenario mixes, recorded later in time), prints a table per
impairment kind and writes plots + metrics.json to --out.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from netqos.ml.console import print_evaluation
from netqos.ml.dataset import binary_target, build_dataset, feature_columns, time_split
from netqos.ml.evaluate import evaluate
from netqos.ml.labels import NORMAL, LabRun
from netqos.ml.models import Detector, GradientBoostingDetector, IsolationForestDetector, RobustKpiDetector
from netqos.ml.plots import pr_curve, save, score_timeline


@dataclass(frozen=True)
class RunSpec:
    scenario: str
    seed: int
    duration: int
    slot_s: float | None = None  # `lab run --slot-seconds`

    @property
    def name(self) -> str:
        return f"{self.scenario}-{self.seed}"


# Test seeds are never trained on. The impaired train runs are recorded before the test runs (generation
# order); the two baseline runs (no impairments: untouched normal windows, which 5-10 s windows of the other
# scenarios hardly have) were added later, so the split skips the train-before-test check (see time_split).
TRAIN = (RunSpec("mixed", 1, 180), RunSpec("mixed", 2, 180), RunSpec("congestion", 3, 150),
         RunSpec("voip", 4, 150), RunSpec("outage", 5, 150), RunSpec("mixed", 6, 180),
         RunSpec("baseline", 7, 150))  # fmt: skip
TEST = (RunSpec("mixed", 11, 180), RunSpec("voip", 12, 150), RunSpec("outage", 13, 150),
        RunSpec("baseline", 14, 150))  # fmt: skip

# 10 s windows: 600 s runs with one impairment per ~60 s slot (spans 30-50 s, normal traffic between). All train
# runs were recorded before the test runs. Test: seeds never trained on, and "degraded" (congestion, loss and
# outage only, busier traffic) is a scenario mix no train run has.
TRAIN10 = (RunSpec("mixed", 1, 600, 60), RunSpec("mixed", 2, 600, 60), RunSpec("congestion", 3, 600, 60),
           RunSpec("voip", 4, 600, 60), RunSpec("outage", 5, 600, 60), RunSpec("baseline", 7, 600, 60))  # fmt: skip
TEST10 = (RunSpec("mixed", 11, 600, 60), RunSpec("degraded", 15, 600, 60), RunSpec("baseline", 14, 600, 60),
          RunSpec("voip", 12, 600, 60), RunSpec("outage", 13, 600, 60),
          RunSpec("degraded", 16, 600, 60))  # fmt: skip


@dataclass(frozen=True)
class RunSet:
    train: tuple[RunSpec, ...]
    test: tuple[RunSpec, ...]
    root: Path  # default --runs
    train_first: bool  # every train window precedes every test window (time_split checks it)


RUN_SETS = {
    "short": RunSet(TRAIN, TEST, Path("/tmp/netqos-lab-runs"), train_first=False),  # baseline-7 came later
    "slots60": RunSet(TRAIN10, TEST10, Path("/tmp/netqos-lab-runs10"), train_first=True),
}


def parse_spec(text: str, slot_s: float | None) -> RunSpec:
    """Parse "mixed-11:600" into RunSpec("mixed", 11, 600, slot_s)."""
    name, _, duration = text.partition(":")
    scenario, _, seed = name.rpartition("-")
    if not scenario or not seed.isdigit() or not duration.isdigit():
        raise argparse.ArgumentTypeError(f"run spec {text!r}: expected scenario-seed:duration, e.g. mixed-11:600")
    return RunSpec(scenario, int(seed), int(duration), slot_s)


def ensure_runs(root: Path, specs: tuple[RunSpec, ...]) -> list[Path]:
    """Run the lab for every spec without a finished run folder (one at a time: runs are real time)."""
    dirs = []
    for spec in specs:
        d = root / spec.name
        if not (d / "labels.json").exists():
            print(f"lab run {spec.name} ({spec.duration} s) ...", file=sys.stderr)
            cmd = [sys.executable, "-m", "netqos", "lab", "run", "--scenario", spec.scenario, "--seed",
                   str(spec.seed), "--duration", str(spec.duration), "--out", str(d), "--no-progress"]  # fmt: skip
            if spec.slot_s is not None:
                cmd += ["--slot-seconds", str(spec.slot_s)]
            subprocess.run(cmd, check=True)
        dirs.append(d)
    return dirs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=sorted(RUN_SETS), help="run set (default: slots60 for --window >= 10)")
    ap.add_argument("--runs", type=Path, help="lab run folders (default: the set's, e.g. /tmp/netqos-lab-runs10)")
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/netqos/ml-lab", help="plots, metrics.json")
    ap.add_argument("--window", type=int, default=10, help="window length in seconds (divides 3600)")
    ap.add_argument("--train", nargs="+", metavar="SPEC", help="train runs instead of the set's (mixed-1:600 ...)")
    ap.add_argument("--test", nargs="+", metavar="SPEC", help="test runs instead of the set's")
    args = ap.parse_args(argv)
    run_set = RUN_SETS[args.set or ("slots60" if args.window >= 10 else "short")]
    slot = run_set.train[0].slot_s
    train_specs = tuple(parse_spec(t, slot) for t in args.train) if args.train else run_set.train
    test_specs = tuple(parse_spec(t, slot) for t in args.test) if args.test else run_set.test
    runs_root = args.runs or run_set.root
    console = Console(width=130)  # a fixed width keeps the table readable in logs and pipes
    t0 = time.monotonic()
    train_dirs = ensure_runs(runs_root, train_specs)
    test_dirs = ensure_runs(runs_root, test_specs)
    t_lab = time.monotonic()
    data = build_dataset([*train_dirs, *test_dirs], args.window)
    train, test = time_split(data, test_runs=[s.name for s in test_specs], train_first=run_set.train_first)
    if train["window_start_ns"].max() >= test["window_start_ns"].min():
        later = sorted(set(train.loc[train["window_start_ns"] >= test["window_start_ns"].min(), "run"]))
        console.print(f"note: train runs recorded after the first test run: {later} (independent lab runs)")
    t_data = time.monotonic()
    feats = feature_columns()
    y_train = binary_target(train)
    untouched = ~((train["kind"] == NORMAL) & (train["overlap"] > 0)).to_numpy()
    kinds = train["kind"].to_numpy()
    models: list[Detector] = [
        IsolationForestDetector(feats).fit(train, y_train),
        GradientBoostingDetector(feats).fit(
            train, y_train, groups=train["run"].to_numpy(), kinds=kinds, clean=untouched
        ),
        RobustKpiDetector(feats).fit(train, y_train, clean=untouched, kinds=kinds),
    ]
    t_fit = time.monotonic()
    console.print(f"dataset: {len(train)} train windows ({int(y_train.sum())} impaired) from {len(train_specs)} runs, "
                  f"{len(test)} test windows from {len(test_specs)} runs, {len(feats)} features, "
                  f"{args.window} s windows")  # fmt: skip
    report: dict[str, Any] = {"window_s": args.window, "train_runs": [s.name for s in train_specs],
                              "test_runs": [s.name for s in test_specs], "features": feats, "models": {}}  # fmt: skip
    test_runs = [LabRun.load(d) for d in test_dirs]
    scores = {}
    figures = {}
    for model in models:
        s = model.score(test)
        scores[model.name] = s
        ev = evaluate(test, s >= model.threshold)
        print_evaluation(console, f"{model.name} on held-out runs (threshold {model.threshold:.3f})", ev)
        flagged = np.flatnonzero(s >= model.threshold)[:5]
        for i, top in zip(flagged, model.top_features(test.iloc[flagged]), strict=True):
            console.print(f"  {test['run'].iat[i]} t={(test['window_start_ns'].iat[i]) // 10**9} "
                          f"{test['kind'].iat[i]}: {top}", highlight=False)  # fmt: skip
        report["models"][model.name] = {"params": model.params(), "metrics": ev.metrics()}
        figures[f"timeline_{model.name}"] = score_timeline(test, s, model.threshold, test_runs, model.name)
    # The yardstick: "flag every window" scores recall 1 and precision = prevalence. A model is only as good as
    # its margin over this row (at 5-10 s windows most lab windows are impaired, so the margin is small).
    trivial = evaluate(test, np.ones(len(test), dtype=bool))
    report["flag_all_metrics"] = trivial.metrics()
    yardstick = ", ".join(f"{s.kind} {s.f1:.2f}/{s.f1_vs_normal:.2f}" for s in [*trivial.kinds, trivial.overall])
    console.print(f"flag-every-window baseline F1 (issue def. / vs normal): {yardstick}", highlight=False)
    figures["pr_curve"] = pr_curve(test, scores)
    paths = save(figures, args.out)
    report["timings_s"] = {"lab": round(t_lab - t0, 1), "dataset": round(t_data - t_lab, 1),
                           "fit": round(t_fit - t_data, 1), "total": round(time.monotonic() - t0, 1)}  # fmt: skip
    (args.out / "metrics.json").write_text(json.dumps(report, indent=1, default=float))
    console.print(f"plots: {', '.join(str(p) for p in paths)}; timings {report['timings_s']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
