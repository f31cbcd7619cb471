"""The registered pyfunc: scores, threshold, flags and explanations from the exact feature columns; and the
scoring job's signature check, which must name every missing, extra and mistyped column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from pyspark.sql.types import DoubleType, LongType, StringType

from netqos.jobs.score_windows import SignatureMismatch, check_signature, provided_features
from netqos.lake.tables import QOS_WINDOWS
from netqos.ml.dataset import feature_columns
from netqos.ml.models import IsolationForestDetector
from netqos.ml.serving import QosAnomalyModel, signature


def _windows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({c: rng.normal(10.0, 1.0, n) for c in feature_columns()})
    return x


def test_pyfunc_flags_and_explains_only_anomalous_windows() -> None:
    train = _windows(200, 1)
    model = QosAnomalyModel(IsolationForestDetector(feature_columns(), n_estimators=50, contamination=0.02).fit(train),
                            window_s=10, top_k=2)  # fmt: skip
    test = _windows(20, 2)
    test.loc[7, feature_columns()[:12]] = 500.0  # far outside on many features, furthest on one
    test.loc[7, "tcp_retransmission_rate"] = 5000.0
    out = model.predict(None, test[feature_columns()[::-1]])  # column order does not matter, names do
    assert list(out.columns) == ["score", "threshold", "is_anomaly", "top_features"]
    assert out["is_anomaly"].iat[7] and out["score"].iat[7] == out["score"].max()
    assert (out["threshold"] == model.detector.threshold).all()
    top = json.loads(out["top_features"].iat[7])
    assert top[0]["feature"] == "tcp_retransmission_rate" and top[0]["z"] > 100
    assert out.loc[~out["is_anomaly"], "top_features"].isna().all()


def test_signature_is_the_exact_feature_schema() -> None:
    sig = signature(feature_columns())
    assert sig.inputs.input_names() == feature_columns()
    assert {c.type.name for c in sig.inputs.inputs} == {"double"}


def test_the_table_provides_exactly_the_model_features() -> None:
    provided = provided_features(QOS_WINDOWS.schema)
    assert list(provided) == feature_columns()
    inputs = {c: "double" for c in feature_columns()}
    check_signature("m v1", inputs, provided)  # no error


def test_signature_mismatch_names_missing_extra_and_mistyped_columns() -> None:
    provided = provided_features(QOS_WINDOWS.schema)
    inputs = {c: "double" for c in feature_columns() if c != "voip_pps"}  # voip_pps: extra on the table side
    inputs["wlan_retry_rate_p95"] = "double"  # the model wants a column the table does not have
    inputs["pps"] = "string"  # trained on a string column
    provided["rtt_p95_s"] = StringType()  # the table's column changed type
    with pytest.raises(SignatureMismatch) as err:
        check_signature("netqos-qos-anomaly v3", inputs, provided)
    message = str(err.value)
    assert err.value.missing == ["wlan_retry_rate_p95"]
    assert err.value.extra == ["voip_pps"]
    assert [m.split()[0] for m in err.value.mistyped] == ["pps", "rtt_p95_s"]
    for name in ("wlan_retry_rate_p95", "voip_pps", "pps (model string", "rtt_p95_s (model double, table string)"):
        assert name in message
    assert "nothing written" in message


def test_integer_table_columns_feed_double_model_inputs() -> None:
    provided = {"packets": LongType(), "pps": DoubleType()}
    check_signature("m", {"packets": "double", "pps": "double"}, provided)
