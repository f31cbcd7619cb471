"""QoS anomaly models trained and judged on the traffic lab (issue 6; docs/models.md).

    labels.py    labels.json spans -> window kind/overlap (>= 50 % rule)
    dataset.py   lab run folders -> labelled window frame (cached per run) + leakage-free split
    models.py    IsolationForest baseline, gradient-boosting and robust-KPI detectors
    evaluate.py  per-kind precision/recall/F1 and detection delay
    plots.py     PR curve and score timeline figures

MLflow-agnostic: functions return plain params/metrics/figures that a tracking layer can log.
"""
