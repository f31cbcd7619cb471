"""`netqos models evaluate`: scored windows of a lab sensor compared with its labels.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]

from netqos.ml.judge import judge

S = 1_000_000_000
T0 = 1_795_000_000


def test_flagged_windows_are_judged_against_the_labels(tmp_path: Path) -> None:
    run = tmp_path / "mixed-21"
    run.mkdir()
    spans = [{"kind": "outage", "start_ns": (T0 + 30) * S, "end_ns": (T0 + 60) * S},
             {"kind": "congestion", "start_ns": (T0 + 100) * S, "end_ns": (T0 + 124) * S}]  # fmt: skip
    (run / "labels.json").write_text(json.dumps({"scenario": "mixed", "seed": 21, "run_start_ns": T0 * S,
                                                 "run_end_ns": (T0 + 200) * S, "impairments": spans}))  # fmt: skip
    starts = np.arange(T0 - 20, T0 + 220, 10) * S  # windows outside the run are not judged
    flagged = np.isin(starts // S - T0, [30, 40, 50, 100, 170])  # outage found; congestion 1 of 2; 1 false alarm
    scored = pd.DataFrame({"sensor_id": "mixed-21", "window_s": 10, "window_start_ns": starts, "is_anomaly": flagged})
    other = scored.assign(sensor_id="another-sensor", is_anomaly=True)  # not a labelled run: ignored
    ev, windows = judge(pd.concat([scored, other]), [run])
    assert windows == 20
    kinds = {k.kind: k for k in ev.kinds}
    assert kinds["outage"].recall == 1.0 and kinds["outage"].median_delay == 0
    assert kinds["congestion"].windows == 2 and kinds["congestion"].recall == 0.5
    assert ev.false_alarms == 1  # t=170; t=120 is only half covered: ambiguous, not counted
    assert ev.overall.precision == 4 / 5
