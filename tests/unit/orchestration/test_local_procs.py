"""Process identity of the local stack's pid files: by start time, not by command line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from netqos.orchestration.local_procs import how_it_ended, pid_alive, running_pid, spawn, stop_group

# A child that rewrites its own command line, as Airflow components do with setproctitle.
RETITLE = "import time, setproctitle; setproctitle.setproctitle('renamed'); time.sleep(60)"


def test_spawned_process_is_ours_whatever_its_command_line(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    pid = spawn([sys.executable, "-c", RETITLE], env=os.environ, log_path=tmp_path / "child.log",
                pid_file=pid_file, cwd=tmp_path)  # fmt: skip
    try:
        while "renamed" not in Path(f"/proc/{pid}/cmdline").read_text():
            time.sleep(0.05)
        # Its command line no longer holds `python`: the recorded start time identifies it.
        assert running_pid(pid_file, "python") == pid
    finally:
        stop_group(pid, timeout=5)
    assert running_pid(pid_file, "python") is None
    assert how_it_ended(pid) == "killed by SIGTERM"


def test_a_reused_pid_is_not_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "stale.pid"
    # This process is alive and its command line has the marker, but it started at another time.
    pid_file.write_text(f"{os.getpid()} 1\n")
    assert pid_alive(os.getpid())
    assert running_pid(pid_file, "python") is None


def test_pid_file_without_start_time_falls_back_to_the_marker(tmp_path: Path) -> None:
    pid_file = tmp_path / "old.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    assert running_pid(pid_file, "no-such-marker") is None
    own_argv0 = Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()
    assert running_pid(pid_file, own_argv0) == os.getpid()


def test_exit_code_of_a_reaped_child(tmp_path: Path) -> None:
    pid = spawn([sys.executable, "-c", "raise SystemExit(3)"], env=os.environ, log_path=tmp_path / "x.log",
                pid_file=tmp_path / "x.pid", cwd=tmp_path)  # fmt: skip
    while pid_alive(pid):
        pass
    assert how_it_ended(pid) == "exit code 3"
