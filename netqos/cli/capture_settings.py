"""Settings for the capture commands: netqos.toml / env, overridden by command-line options, with readable errors."""

from __future__ import annotations

import argparse
from typing import Any

OPTION_FIELDS = {  # argparse dest -> CaptureSettings field
    "interface": "interfaces",
    "filter": "bpf_filter",
    "snaplen": "snaplen",
    "rotate_seconds": "rotate_seconds",
    "rotate_mb": "rotate_megabytes",
    "format": "file_format",
    "backend": "backend",
    "monitor": "monitor_mode",
    "spool": "spool_dir",
    "quota_mb": "spool_quota_mb",
    "prefix": "prefix",
    "concurrency": "upload_concurrency",
}


def add_landing_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sensor", help="sensor id (default: settings sensor_id)")
    p.add_argument("--bucket", help="landing bucket (default: s3.landing_bucket)")
    p.add_argument("--endpoint", help="S3 endpoint URL, e.g. http://127.0.0.1:9000 (default: s3.endpoint_url)")
    p.add_argument("--prefix", help="key prefix inside the bucket, ending in '/'")
    p.add_argument("--spool", help="spool directory (default: capture.spool_dir)")


def load_settings(args: argparse.Namespace) -> Any:
    """Settings with the given options applied; raises SystemExit(2) with one line per bad value."""
    from pydantic import ValidationError

    from netqos.settings import CaptureSettings, S3Settings, Settings

    try:
        base = Settings()
        capture = base.capture.model_dump()
        for dest, field in OPTION_FIELDS.items():
            value = getattr(args, dest, None)
            if value is not None and value is not False:
                capture[field] = value
        s3 = base.s3.model_dump()
        if getattr(args, "bucket", None):
            s3["landing_bucket"] = args.bucket
        if getattr(args, "endpoint", None):
            s3["endpoint_url"] = args.endpoint
        update: dict[str, Any] = {"capture": CaptureSettings(**capture), "s3": S3Settings(**s3)}
        if getattr(args, "sensor", None):
            update["sensor_id"] = args.sensor
        return base.model_copy(update=update)
    except ValidationError as exc:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or 'capture'}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        ]
        raise SystemExit("netqos: invalid settings:\n" + "\n".join(lines)) from None
