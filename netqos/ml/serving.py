"""The registered model: an MLflow pyfunc that carries its preprocessing, threshold and explanations.

Input: the exact feature columns of netqos.ml.dataset.feature_columns() (as doubles; the signature says so).
Output per window: score (higher = more anomalous), threshold, is_anomaly and, for flagged windows, the top
contributing features as JSON `[{"feature": ..., "z": ...}, ...]` (robust z-scores against normal training
windows). Imputation and scaling live inside the detector, so nothing has to be re-applied by a caller.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
from mlflow.models import ModelSignature
from mlflow.pyfunc.model import PythonModel
from mlflow.types import ColSpec, Schema

from netqos.ml.models import Detector

OUTPUT_COLUMNS = ("score", "threshold", "is_anomaly", "top_features")


class QosAnomalyModel(PythonModel):
    def __init__(self, detector: Detector, window_s: int, top_k: int = 3) -> None:
        self.detector = detector
        self.window_s = window_s
        self.top_k = top_k

    @property
    def features(self) -> list[str]:
        return list(self.detector.features)

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        return self.score_frame(model_input)

    def score_frame(self, model_input: pd.DataFrame) -> pd.DataFrame:
        x = model_input[self.features].astype(float).reset_index(drop=True)
        score = self.detector.score(x)
        flagged = score >= self.detector.threshold
        top: list[str | None] = [None] * len(x)
        if flagged.any():
            idx = flagged.nonzero()[0]
            for i, feats in zip(idx, self.detector.top_features(x.iloc[idx], self.top_k), strict=True):
                # A feature at its usual level explains nothing: keep the ones at least 1 robust sigma out.
                kept = [(f, z) for f, z in feats if abs(z) >= 1.0] or feats[:1]
                top[i] = json.dumps([{"feature": f, "z": z} for f, z in kept])
        return pd.DataFrame(
            {"score": score, "threshold": float(self.detector.threshold), "is_anomaly": flagged, "top_features": top}
        )


def signature(features: list[str]) -> ModelSignature:
    """Inputs: every feature as double, by name and in order; outputs: OUTPUT_COLUMNS."""
    inputs = Schema([ColSpec("double", f) for f in features])
    outputs = Schema(
        [
            ColSpec("double", "score"),
            ColSpec("double", "threshold"),
            ColSpec("boolean", "is_anomaly"),
            ColSpec("string", "top_features", required=False),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)
