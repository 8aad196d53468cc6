"""Start processes detached in their own session, stop them with their whole group, ports.

A detached process (``setsid``) does not receive the terminal's Ctrl-C or a job-control signal:
the runner alone decides when it stops, and stops the whole process group (the emulator's Lambda
workers included).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"


class PortInUse(RuntimeError):
    pass


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: a connection of a server just stopped (TIME_WAIT) does not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def require_free_port(port: int, what: str, host: str = LOOPBACK) -> None:
    if not port_is_free(port, host):
        pids = sorted(listening_pids(port))
        owner = f" by PID {', '.join(map(str, pids))}" if pids else ""
        raise PortInUse(
            f"{host}:{port} is already in use{owner}, so {what} cannot start there. "
            f"Stop that process (`make stop` if it is an earlier `make run`) or pick another port."
        )


def unused_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (setsid), output appended to ``log``, no stdin."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 (argv built by the runner)
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pid: int, *, grace_seconds: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL what is left after the grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace_seconds
        while time.monotonic() < deadline:
            _reap(pid)
            if not _group_alive(pid):
                return
            time.sleep(0.1)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def listening_pids(port: int) -> set[int]:
    """PIDs holding a TCP socket that listens on ``port`` (Linux /proc; empty elsewhere)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    if not inodes:
        return set()
    wanted = {f"socket:[{inode}]" for inode in inodes}
    pids: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    pids.add(int(proc.name))
                    break
        except OSError:
            continue
    return pids
