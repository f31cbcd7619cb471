"""A private PostgreSQL cluster for the local Airflow: initdb once, pg_ctl start/stop, role + database `airflow`.

Listens on 127.0.0.1 only; host connections need a SCRAM password, the Unix socket (in a directory only the
cluster's owner can enter) is trusted for the owner. As root every PostgreSQL command runs as the `postgres` user
(the server refuses root). The role's password is sent as a SCRAM verifier, so even a logged statement holds no
password.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PG_USER = "postgres"
DB_NAME = DB_USER = "airflow"


class PostgresError(RuntimeError):
    pass


def _is_root() -> bool:
    return os.geteuid() == 0


def bin_dir(install: bool = True, say: Callable[[str], None] = print) -> Path:
    """/usr/lib/postgresql/<newest>/bin; apt-get installs `postgresql` when there is none (and `install`)."""

    def found() -> Path | None:
        dirs = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
        dirs.sort(key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))
        return dirs[-1] if dirs else None

    if (d := found()) is not None:
        return d
    if not install:
        raise PostgresError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    if shutil.which("apt-get") is None:
        raise PostgresError("PostgreSQL is missing and there is no apt-get: install PostgreSQL >= 13 and rerun")
    sudo: list[str] = []
    if not _is_root():
        if shutil.which("sudo") is None:
            raise PostgresError("PostgreSQL is missing: need root or sudo to apt-get install postgresql")
        sudo = ["sudo"]
    say("installing PostgreSQL with apt-get (once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    if (d := found()) is None:
        raise PostgresError("apt-get install postgresql finished but no /usr/lib/postgresql/*/bin/initdb exists")
    return d


def _as_owner() -> dict[str, Any]:
    """subprocess arguments that run a command as the cluster owner (`postgres` when we are root)."""
    if not _is_root():
        return {}
    return {"user": PG_USER, "group": PG_USER, "extra_groups": []}


def _owner_can_enter(path: Path) -> bool:
    if not _is_root():
        return True
    r = subprocess.run(["test", "-x", str(path), "-a", "-w", str(path)], cwd="/", check=False, **_as_owner())
    return r.returncode == 0


def cluster_dir(state_dir: Path) -> Path:
    """Where the cluster lives: <state dir>/postgres, unless the `postgres` user cannot reach that (root's home and
    pytest's tmp dirs are 0700), then /var/lib/postgresql/netqos/<hash of the state dir>, with the symlink
    <state dir>/postgres pointing at it."""
    link = state_dir / "postgres"
    if link.is_symlink():
        return Path(os.readlink(link))
    if link.is_dir() or not _is_root():
        return link
    state_dir.mkdir(parents=True, exist_ok=True)
    link.mkdir()
    shutil.chown(link, PG_USER, PG_USER)
    if _owner_can_enter(link):
        return link
    link.rmdir()
    digest = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    outside = Path("/var/lib/postgresql/netqos") / digest
    outside.mkdir(parents=True, exist_ok=True)
    shutil.chown(outside.parent, PG_USER, PG_USER)
    shutil.chown(outside, PG_USER, PG_USER)
    outside.chmod(0o700)
    link.symlink_to(outside)
    return outside


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677; what libpq's PQencryptPasswordConn
    computes), so CREATE ROLE ... PASSWORD never carries the password itself."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


class LocalPostgres:
    def __init__(self, state_dir: Path, port: int, say: Callable[[str], None] = print) -> None:
        self.state_dir = state_dir
        self.port = port
        self.say = say
        self.base = cluster_dir(state_dir)
        self.base.mkdir(parents=True, exist_ok=True)
        self.data = self.base / "data"
        self.socket_dir = self.base / "run"
        self.log_path = self.base / "postgres.log"
        self._bin: Path | None = None

    @property
    def bin(self) -> Path:
        if self._bin is None:
            self._bin = bin_dir(say=self.say)
        return self._bin

    def _run(self, cmd: Sequence[str], *, stdin: str | None = None, check: bool = True) -> str:
        r = subprocess.run(
            list(cmd), input=stdin, capture_output=True, text=True, cwd=self.base, check=False, **_as_owner()
        )
        if check and r.returncode != 0:
            detail = r.stderr.strip() or r.stdout.strip()
            raise PostgresError(f"{Path(cmd[0]).name} failed ({r.returncode}): {detail}\nserver log: {self.log_path}")
        return str(r.stdout)

    @property
    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def running(self) -> bool:
        if not self.initialized:
            return False
        r = subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"], capture_output=True, text=True,
            cwd=self.base, check=False, **_as_owner(),
        )  # fmt: skip
        return r.returncode == 0

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def init(self) -> None:
        if self.initialized:
            return
        self.say(f"creating a PostgreSQL cluster in {self.data}")
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", PG_USER, "--auth-local=trust",
                   "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"])  # fmt: skip

    def start(self) -> None:
        self.init()
        if self.running():
            return
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if _is_root():
            shutil.chown(self.socket_dir, PG_USER, PG_USER)
        if len(str(self.socket_dir)) > 90:  # a Unix socket path has at most 107 bytes
            raise PostgresError(f"state dir path too long for PostgreSQL's socket: {self.socket_dir}")
        opts = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", opts, "-w",
                   "-t", "60", "start"])  # fmt: skip

    def stop(self) -> None:
        if self.initialized and self.running():
            self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def psql(self, sql: str, *, query: bool = False) -> str:
        cmd = [str(self.bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", PG_USER, "-d",
               "postgres", "-v", "ON_ERROR_STOP=1", "-X", "-q"]  # fmt: skip
        if query:
            cmd += ["-tA"]
        return self._run(cmd, stdin=sql)

    def ensure_database(self, password: str) -> None:
        """Role + database `airflow` (owner = the role, so PG15's public-schema rule does not bite); the role's
        password is (re)set from the secrets file each time."""
        verifier = scram_verifier(password)
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}';", query=True).strip() == "1"
        verb = "ALTER" if exists else "CREATE"
        self.psql(f"{verb} ROLE {DB_USER} WITH LOGIN PASSWORD '{verifier}';")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';", query=True).strip() != "1":
            self.psql(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER} ENCODING 'UTF8';")

    def ensure_extra_database(self, name: str) -> None:
        """Another database owned by the same role (MLflow's tracking store); after ensure_database()."""
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';", query=True).strip() != "1":
            self.psql(f"CREATE DATABASE {name} OWNER {DB_USER} ENCODING 'UTF8';")

    def url(self, password: str, database: str = DB_NAME) -> str:
        return f"postgresql+psycopg2://{DB_USER}:{password}@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Delete the cluster's files (after stop())."""
        link = self.state_dir / "postgres"
        shutil.rmtree(self.base, ignore_errors=True)
        if link.is_symlink():
            link.unlink()
            with contextlib.suppress(OSError):  # /var/lib/postgresql/netqos, once it holds no other cluster
                self.base.parent.rmdir()
