"""Write a rendered report into its own folder (replacing an earlier run of the same day: reruns are idempotent),
refresh the index page, and copy both to the reports bucket when one is configured."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from netqos.report.render import render_index
from netqos.settings import Settings

log = logging.getLogger("netqos.report")

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Published:
    folder: Path
    html: Path
    index: Path
    s3_uri: str | None


def reports_dir(settings: Settings) -> Path:
    return settings.report.reports_dir or settings.lake.warehouse_dir.parent / "reports"


def write_folder(root: Path, name: str, files: dict[str, bytes]) -> Path:
    """Write all files into root/name at once: a reader sees the old report or the new one, never half of each."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
    for rel, content in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    staging.chmod(0o755)
    final = root / name
    if final.exists():
        old = root / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    return final


def index_entries(root: Path) -> list[dict[str, Any]]:
    entries = []
    for summary in sorted(root.glob("*/report.json")):
        try:
            doc = json.loads(summary.read_text())
        except (OSError, ValueError):
            log.warning("skipping unreadable %s", summary)
            continue
        entries.append({"name": summary.parent.name, "day": doc["day"], "sensors": doc["sensors"],
                        "status": doc["status"], "totals": doc["totals"]})  # fmt: skip
    return entries


def write_index(root: Path, now: datetime | None = None) -> Path:
    index = root / "index.html"
    tmp = root / ".index.html.tmp"
    tmp.write_bytes(render_index(index_entries(root), now or datetime.now(UTC)))
    os.replace(tmp, index)
    return index


def upload(settings: Settings, root: Path, name: str) -> str:
    """Copy the report folder and the index to s3://<report.bucket>/ (same layout as the local folder)."""
    from netqos.storage.s3 import s3_client

    bucket = settings.report.bucket
    assert bucket is not None
    client = s3_client(settings.s3)
    paths = [p for p in sorted((root / name).rglob("*")) if p.is_file()] + [root / "index.html"]
    for path in paths:
        key = path.relative_to(root).as_posix()
        extra = {"ContentType": CONTENT_TYPES.get(path.suffix, "application/octet-stream")}
        client.upload_file(str(path), bucket, key, ExtraArgs=extra)
    return f"s3://{bucket}/{name}/"


def publish(settings: Settings, name: str, files: dict[str, bytes]) -> Published:
    root = reports_dir(settings)
    folder = write_folder(root, name, files)
    index = write_index(root)
    s3_uri = upload(settings, root, name) if settings.report.bucket else None
    return Published(folder, folder / "report.html", index, s3_uri)
