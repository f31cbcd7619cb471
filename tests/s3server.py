"""A real MinIO server for tests (no mocks): `MinioServer`, plus the pytest fixtures `minio`, `minio_tls`, `bucket`.

The binary is built once by `make tools` (scripts/bootstrap.sh minio) into $NETQOS_HOME/bin (~/.cache/netqos/bin);
NETQOS_MINIO_BIN points elsewhere. A test folder gets the fixtures by importing them in its conftest.py:

    sys.path.insert(0, str(TESTS_DIR))        # tests/ holds this module
    from s3server import bucket, minio, minio_tls  # noqa: F401  (pytest finds fixtures by name)

Each server listens on a free 127.0.0.1 port with its data, certificates and log in the folder it is given.
The root user and password are random and reach MinIO only through its environment, never its command line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from netqos.orchestration.local_airflow import minio_binary  # where scripts/bootstrap.sh puts it

REGION = "us-east-1"
STARTUP_TIMEOUT = 30.0


class MinioNotInstalledError(RuntimeError):
    """The MinIO binary is missing: `make tools` builds it (CI's .ci/run does)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL MinIO if the test process dies without stopping it (Linux only)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def write_tls_certs(certs_dir: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost, laid out as MinIO's --certs-dir wants.

    Writes <certs_dir>/public.crt (server cert + CA), <certs_dir>/private.key and <certs_dir>/CAs/ca.crt;
    returns the CA file, for boto3's `verify=` or ssl.create_default_context(cafile=...).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def key_usage(**on: bool) -> x509.KeyUsage:
        names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                 "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")  # fmt: skip
        return x509.KeyUsage(**{n: on.get(n, False) for n in names})

    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(hours=1), now + dt.timedelta(days=7)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netqos test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    (certs_dir / "CAs").mkdir(parents=True, exist_ok=True)
    ca_path = certs_dir / "CAs" / "ca.crt"
    ca_path.write_bytes(ca_cert.public_bytes(pem))
    (certs_dir / "public.crt").write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    key_path = certs_dir / "private.key"
    key_path.touch(mode=0o600)
    key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return ca_path


class MinioServer:
    """One MinIO process on 127.0.0.1 with its state in `base_dir` (data/, certs/, minio.log).

    start() picks free ports the first time; stop()/kill() then start() (or restart()) come back on the same
    port, data and credentials, so a client made earlier keeps working. Use as a context manager or call stop().
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        tls: bool = False,
        console: bool = False,
        binary: Path | None = None,
        startup_timeout: float = STARTUP_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.base_dir = Path(base_dir)
        self.binary = binary or minio_binary()
        self.tls = tls
        self.console = console
        self.startup_timeout = startup_timeout
        self.extra_env = dict(env or {})  # more MinIO settings, e.g. {"MINIO_API_STALE_UPLOADS_EXPIRY": "5s"}
        self.data_dir = self.base_dir / "data"
        self.certs_dir = self.base_dir / "certs"  # always passed: MinIO would otherwise read ~/.minio/certs
        self.log_path = self.base_dir / "minio.log"
        self.access_key = "netqos-" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(30)
        self.port: int | None = None
        self.console_port: int | None = None
        self.ca_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        for d in (self.data_dir, self.certs_dir):
            d.mkdir(parents=True, exist_ok=True)
        if tls:
            self.ca_path = write_tls_certs(self.certs_dir)

    # --- addresses ---------------------------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("MinIO has not been started")
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def console_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.console_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> MinioServer:
        if self.running:
            return self
        if not self.binary.is_file() or not os.access(self.binary, os.X_OK):
            raise MinioNotInstalledError(
                f"MinIO binary not found at {self.binary}. Run `make tools` (or `bash scripts/bootstrap.sh minio`)"
                " to build it; CI's .ci/run does this through `make test`. NETQOS_MINIO_BIN overrides the path."
            )
        # New ports only the first time; after that a restart must come back where clients expect it.
        fresh_ports = self.port is None
        for attempt in range(3 if fresh_ports else 1):
            if fresh_ports:
                self.port, self.console_port = free_port(), free_port()
            try:
                self._spawn_and_wait()
                return self
            except _PortTakenError:
                if attempt == 2 or not fresh_ports:
                    raise
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL if it has not exited within `timeout`)."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL, no shutdown: what a crash or an OOM kill looks like to clients."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self) -> MinioServer:
        self.stop()
        return self.start()

    def __enter__(self) -> MinioServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- clients -----------------------------------------------------------------------------------------------
    def client(self, **kwargs: Any) -> Any:
        """A boto3 S3 client for this server: path-style, SigV4, us-east-1, the test CA trusted under TLS.

        Keyword arguments go to boto3's client() and win (e.g. `verify=True` for the default CA bundle);
        a `config` is merged over the defaults.
        """
        import boto3
        from botocore.config import Config

        config = Config(
            region_name=REGION,
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        if extra := kwargs.pop("config", None):
            config = config.merge(extra)
        args: dict[str, Any] = {
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "region_name": REGION,
            "config": config,
        }
        if self.ca_path is not None:
            args["verify"] = str(self.ca_path)
        args.update(kwargs)
        return boto3.session.Session().client("s3", **args)

    def make_bucket(self, name: str | None = None) -> str:
        name = name or bucket_name("b")
        self.client().create_bucket(Bucket=name)
        return name

    def delete_bucket(self, name: str) -> None:
        """Delete a bucket and everything in it (MinIO's `x-minio-force-delete`), one request."""
        c = self.client()

        def force(request: Any, **_: Any) -> None:
            request.headers["x-minio-force-delete"] = "true"

        c.meta.events.register("before-sign.s3.DeleteBucket", force)
        c.delete_bucket(Bucket=name)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # --- internals ---------------------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINIO_")}
        env.update(
            MINIO_ROOT_USER=self.access_key,
            MINIO_ROOT_PASSWORD=self.secret_key,
            MINIO_BROWSER="on" if self.console else "off",
            MINIO_UPDATE="off",
        )
        env.update(self.extra_env)
        return env

    def _spawn_and_wait(self) -> None:
        cmd = [
            str(self.binary), "server", str(self.data_dir),
            "--address", f"127.0.0.1:{self.port}",
            "--console-address", f"127.0.0.1:{self.console_port}",
            "--certs-dir", str(self.certs_dir),
        ]  # fmt: skip
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            stamp = dt.datetime.now().isoformat(timespec="seconds")
            log.write(f"\n=== {stamp} start on {self.endpoint_url}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        context = ssl.create_default_context(cafile=str(self.ca_path)) if self.ca_path else None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                rc = self._proc.returncode
                self._proc = None
                this_run = self.log_path.read_bytes()[log_start:].decode(errors="replace")
                error = _PortTakenError if re.search(r"already in use", this_run, re.IGNORECASE) else RuntimeError
                raise error(
                    f"MinIO exited with code {rc} while starting on {self.endpoint_url};"
                    f" {self.log_path}:\n{self.log_tail()}"
                )
            if self._healthy(context):
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"MinIO did not answer {self.endpoint_url}/minio/health/live within {self.startup_timeout:.0f} s;"
            f" {self.log_path}:\n{self.log_tail()}"
        )

    def _healthy(self, context: ssl.SSLContext | None) -> bool:
        # live = the process serves HTTP; ready = the object layer (the drive) is up and takes requests.
        for probe in ("live", "ready"):
            try:
                with urllib.request.urlopen(
                    f"{self.endpoint_url}/minio/health/{probe}", timeout=2, context=context
                ) as r:
                    if r.status != 200:
                        return False
            except (urllib.error.URLError, OSError):
                return False
        return True


class _PortTakenError(RuntimeError):
    """The port picked for MinIO was taken in between (start() then tries fresh ports)."""


def bucket_name(hint: str) -> str:
    """A valid, unique S3 bucket name (3-63 chars of a-z 0-9 -) that starts with a readable hint."""
    stem = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:40].strip("-") or "b"
    return f"t-{stem}-{uuid.uuid4().hex[:10]}"


# --- pytest fixtures (a conftest imports these names) ----------------------------------------------------------
@pytest.fixture(scope="session")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A MinIO over plain HTTP for the whole session. Tests that stop or kill a server start their own."""
    with MinioServer(tmp_path_factory.mktemp("minio")) as server:
        yield server


@pytest.fixture(scope="session")
def minio_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    """A MinIO over HTTPS with a throwaway CA (`minio_tls.ca_path`) for the whole session."""
    with MinioServer(tmp_path_factory.mktemp("minio-tls"), tls=True) as server:
        yield server


@pytest.fixture
def bucket(minio: MinioServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty bucket on `minio`, deleted with its contents afterwards."""
    name = minio.make_bucket(bucket_name(request.node.name))
    yield name
    if minio.running:
        with contextlib.suppress(Exception):
            minio.delete_bucket(name)
