"""`netqos upload PATH...`: land existing capture files in the landing bucket, the way the agent does."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from netqos.cli.capture_settings import add_landing_args, load_settings


def register(sub: Any) -> None:
    p = sub.add_parser("upload", help="land existing pcap/pcapng files in S3/MinIO (idempotent, verified)")
    p.add_argument("paths", nargs="+", help="capture files, directories or globs")
    add_landing_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from netqos.capture.filemeta import describe
    from netqos.capture.model import DropCounters, SpoolEntry
    from netqos.capture.upload import Landing, UploadFailed, land_existing
    from netqos.decode.readers import CaptureFormatError, open_capture
    from netqos.spark.datasource import expand_capture_paths
    from netqos.storage.s3 import s3_client

    settings = load_settings(args)
    landing = Landing(s3_client(settings.s3), settings.s3.landing_bucket, settings.capture.prefix)
    try:
        landing.ensure_bucket()
    except Exception as exc:  # a put-only sensor may neither check nor create buckets; the uploads say what is wrong
        print(f"could not check or create bucket {landing.bucket}: {exc}", file=sys.stderr)
    failed = 0
    for path in map(Path, expand_capture_paths(args.paths)):
        try:
            open_capture(path).close()  # not a capture: refuse it here rather than land it
            meta = describe(path, sensor_id=settings.sensor_id, seq=0, backend="upload", drops=DropCounters())
            # A capture without packets is named by its modification time.
            meta = dataclasses.replace(meta, closed_ns=path.stat().st_mtime_ns)
            result = land_existing(landing, SpoolEntry(path, meta))
        except (CaptureFormatError, UploadFailed, OSError, ValueError) as exc:
            failed += 1
            print(f"netqos upload: {path}: {exc}", file=sys.stderr)
            continue
        print(f"{path} -> s3://{landing.bucket}/{result.key} ({result.status})")
    return 1 if failed else 0
