"""The training pipeline's entry point for people and schedulers outside Airflow: same as `netqos models train`.

    .venv/bin/python ml/train.py                                  # qos_windows in the lake -> MLflow, challenger
    .venv/bin/python ml/train.py --labels runs/mixed-21 runs/degraded-31
    .venv/bin/python ml/train.py --lab-runs runs/* --test-runs mixed-11,degraded-15 --window 10

Steps (netqos/ml/train.py, one function each): dataset -> split -> fit -> evaluate -> log to MLflow -> register.
"""

from __future__ import annotations

import sys

from netqos.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["models", "train", *sys.argv[1:]]))
