"""Validation outcomes on disk, one JSON file per (run, table): every job of a DAG run records what its gate
found, and the run's `validate` task reads them back to fail the run explicitly and publish Data Docs, without
starting Spark. Folder: <warehouse>/../quality_runs/<run_id>/<table>.json (beside data_docs/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from netqos.quality.outcome import ValidationOutcome
from netqos.settings import Settings


def runs_dir(settings: Settings) -> Path:
    return settings.lake.warehouse_dir.parent / "quality_runs"


def run_dir(run_id: str, settings: Settings) -> Path:
    # Airflow run ids hold ':' and '+'; keep one portable folder name per run.
    return runs_dir(settings) / re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


def record(outcome: ValidationOutcome, settings: Settings) -> Path:
    """Write the outcome of `outcome.table` for its run (atomic). A later pass or task retry of the same run may
    replace a passing record, never a failing one: the run did quarantine data, and its gate must say so."""
    folder = run_dir(outcome.run_id, settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outcome.table}.json"
    if outcome.success and path.is_file() and not json.loads(path.read_text())["success"]:
        return path
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{outcome.table}.", suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        out.write(outcome.to_json())
    os.replace(tmp, path)
    return path


def recorded(run_id: str, settings: Settings) -> list[ValidationOutcome]:
    """The outcomes recorded for a run, in table order of the pipeline (none when no job validated anything)."""
    folder = run_dir(run_id, settings)
    if not folder.is_dir():
        return []
    order = {"packets": 0, "tcp_analysis": 1, "flows": 2, "qos_windows": 3}
    paths = sorted(folder.glob("*.json"), key=lambda p: (order.get(p.stem, 9), p.stem))
    return [ValidationOutcome.from_dict(json.loads(p.read_text())) for p in paths]


def expire(settings: Settings, cutoff: datetime) -> list[str]:
    """Delete the records of runs whose newest record was written before `cutoff` (the maintenance job passes its
    quarantine retention, so a run's record and its quarantined rows go together); returns the folders removed."""
    root = runs_dir(settings)
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        written = [p.stat().st_mtime for p in folder.glob("*.json")]
        if folder.is_dir() and (not written or max(written) < cutoff.timestamp()):
            shutil.rmtree(folder)
            removed.append(folder.name)
    return removed
