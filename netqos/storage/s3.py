"""One boto3 S3 client built from Settings.s3; credentials come from settings (env) or boto3's default chain.

Never log a client's config: it holds the secret key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from netqos.settings import S3Settings


def s3_client(s3: S3Settings) -> Any:
    import boto3
    from botocore.config import Config

    kwargs: dict[str, Any] = {"region_name": s3.region}
    if s3.endpoint_url:
        kwargs["endpoint_url"] = s3.endpoint_url
    if s3.access_key_id and s3.secret_access_key:
        kwargs["aws_access_key_id"] = s3.access_key_id.get_secret_value()
        kwargs["aws_secret_access_key"] = s3.secret_access_key.get_secret_value()
    if s3.ca_bundle:
        kwargs["verify"] = str(s3.ca_bundle)
    config = Config(
        # Path-style for MinIO and other self-hosted endpoints; our own retry loop sits above these few.
        s3={"addressing_style": "path" if s3.endpoint_url else "auto"},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        # Compute and send a SHA256 checksum only when asked (the store verifies it); the default CRC32 on every
        # request would add a second checksum to multipart parts.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client("s3", config=config, **kwargs)


def split_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/key/…' -> ('bucket', 'key/…')."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a") or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r} (expected s3://bucket/key)")
    return parsed.netloc, parsed.path.lstrip("/")


def is_s3_uri(path: str) -> bool:
    return path.startswith(("s3://", "s3a://"))
