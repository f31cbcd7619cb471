"""Background processes for `netqos airflow up`: start one in its own process group with its output in a log file,
record its pid, tell whether it still runs, stop its whole group. Also the secrets file those processes share.

Standard library only: `netqos airflow status` must not pay for Airflow's import.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Secrets:
    """Generated once per state dir and reused: changing them would lock the metadata DB and MinIO data out."""

    db_password: str
    admin_password: str
    viewer_password: str
    jwt_secret: str
    api_secret_key: str
    fernet_key: str
    minio_access_key: str
    minio_secret_key: str
    redis_password: str

    def values(self) -> list[str]:
        """Every secret value (the MinIO access key is an identifier, not a secret, so it is left out)."""
        return [getattr(self, f.name) for f in fields(self) if f.name != "minio_access_key"]


def _generate() -> Secrets:
    return Secrets(
        db_password=secrets.token_urlsafe(24),
        admin_password=secrets.token_urlsafe(18),
        viewer_password=secrets.token_urlsafe(18),
        jwt_secret=secrets.token_urlsafe(64),
        api_secret_key=secrets.token_urlsafe(32),
        fernet_key=base64.urlsafe_b64encode(os.urandom(32)).decode(),  # what cryptography's Fernet.generate_key makes
        minio_access_key="netqos-" + secrets.token_hex(6),
        minio_secret_key=secrets.token_urlsafe(30),
        redis_password=secrets.token_urlsafe(24),
    )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (created 0600, never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def load_or_create_secrets(path: Path) -> Secrets:
    """The secrets in `path` (JSON, mode 0600); generated and written the first time."""
    if path.is_file():
        data = json.loads(path.read_text())
        known = {f.name for f in fields(Secrets)}
        fresh = asdict(_generate())
        merged = {k: data.get(k) or fresh[k] for k in known}  # a field added later is generated, the rest kept
        result = Secrets(**merged)
        if merged != {k: data.get(k) for k in known}:
            write_private(path, json.dumps(asdict(result), indent=2) + "\n")
        return result
    result = _generate()
    write_private(path, json.dumps(asdict(result), indent=2) + "\n")
    return result


def netqos_home() -> Path:
    """$NETQOS_HOME, else <XDG_CACHE_HOME or ~/.cache>/netqos: where local servers keep their state and binaries."""
    if home := os.environ.get("NETQOS_HOME"):
        return Path(home)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "netqos"


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `port` can be bound on `host` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# --- processes -------------------------------------------------------------------------------------------------
_exit_codes: dict[int, int] = {}  # children reaped by pid_alive: pid -> exit code (negative: the signal)


def how_it_ended_by_file(pid_file: Path) -> str:
    """how_it_ended for the pid recorded in `pid_file` ('has no pid file' when there is none)."""
    pid = read_pid(pid_file)
    return f"(pid {pid}) {how_it_ended(pid)}" if pid is not None else "has no pid file"


def how_it_ended(pid: int) -> str:
    """'exit code N' / 'killed by SIGX' for a child that pid_alive reaped, else 'ended'."""
    code = _exit_codes.get(pid)
    if code is None:
        return "ended"
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def pid_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie child of ours is reaped and counts as gone)."""
    if _reaped(pid):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    if stat.rsplit(")", 1)[-1].split()[0] != "Z":
        return True
    _reaped(pid)  # it may have become a zombie since the first look
    return False


def _reaped(pid: int) -> bool:
    """Reap `pid` if it is an ended child of ours, keeping its exit code for how_it_ended."""
    with contextlib.suppress(ChildProcessError, OSError):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            _exit_codes[pid] = os.waitstatus_to_exitcode(status)
            return True
    return False


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def start_ticks(pid: int) -> int | None:
    """When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22): unlike the command line it
    never changes while the process lives (setproctitle rewrites that), and a reused pid gets another value."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[-1].split()[19])


def _recorded_start(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid recorded in `pid_file` if that process still runs: the same start time when `spawn` recorded one
    (pids wrap at 32768 here, so a long test run reuses them), else a command line containing `marker`."""
    pid = read_pid(pid_file)
    if pid is None or not pid_alive(pid):
        return None
    recorded = _recorded_start(pid_file)
    if recorded is not None:
        return pid if start_ticks(pid) == recorded else None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return pid
    return pid if marker in cmdline else None


def spawn(cmd: Sequence[str], *, env: Mapping[str, str], log_path: Path, pid_file: Path, cwd: Path) -> int:
    """Start `cmd` in a new session (its own process group), stdout+stderr appended to `log_path`; returns the pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        log.write(f"\n=== {stamp} start {os.path.basename(cmd[0])} {' '.join(cmd[1:2])}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(cmd), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
    # Identify the process by its start time: its command line may still be the parent's, or be rewritten.
    pid_file.write_text(f"{proc.pid} {start_ticks(proc.pid)}\n")
    return proc.pid


def stop_group(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM the process group led by `pid`, wait, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid) and not _group_alive(pid):
                return
            time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies of the group still count for killpg; look for a live member.
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parts = stat.read_text().rsplit(")", 1)[-1].split()
            if int(parts[2]) == pgid and parts[0] != "Z":
                return True
    return False


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
