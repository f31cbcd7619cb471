"""A real MLflow tracking server for the model tests: SQLite backend, artifacts proxied to the session's MinIO.

Clients talk HTTP only (`mlflow-artifacts:` URIs); the server alone holds the S3 keys, as in a deployment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from s3server import free_port

ARTIFACT_BUCKET = "mlflow-artifacts"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory, lake_minio) -> Iterator[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=lake_minio.endpoint_url, aws_access_key_id=lake_minio.access_key,
                      aws_secret_access_key=lake_minio.secret_key, region_name="us-east-1")  # fmt: skip
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    env |= {
        "MLFLOW_S3_ENDPOINT_URL": lake_minio.endpoint_url,
        "AWS_ACCESS_KEY_ID": lake_minio.access_key,
        "AWS_SECRET_ACCESS_KEY": lake_minio.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    cmd = [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
           "--artifacts-destination", f"s3://{ARTIFACT_BUCKET}"]  # fmt: skip
    log = open(root / "mlflow.log", "wb")  # noqa: SIM115  (closed after the server stops)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"MLflow server did not start: {(root / 'mlflow.log').read_text()[-3000:]}")
        time.sleep(0.5)
    try:
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
        log.close()
