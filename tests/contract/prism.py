"""Stoplight Prism as a mock of Twilio's API, validating every request against the spec.

``prism mock --errors`` answers a request that breaks the spec with 422 (401 without the
Basic credentials the spec requires) and logs each violation; a valid one gets the spec's
example. Started on port 0, Prism picks a free port and prints it; the log is read on a
thread throughout (Prism writes a line per route at start, and would block on a full pipe).
"""

from __future__ import annotations

import re
import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import pytest

STARTUP_SECONDS: Final = 120.0
"""How long Prism may take to parse the 2 MB spec before the test fails (seconds here)."""
_LISTENING: Final = re.compile(r"Prism is listening on (http://127\.0\.0\.1:\d+)")


class Prism:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self.base_url = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, prism_bin: Path, spec: Path) -> Self:
        process = subprocess.Popen(  # noqa: S603 - our pinned Prism, fixed arguments
            [str(prism_bin), "mock", "-h", "127.0.0.1", "-p", "0", "--errors", str(spec)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        prism = cls(process)
        if not prism._listening.wait(STARTUP_SECONDS):
            prism.stop()
            pytest.fail(f"Prism did not start within {STARTUP_SECONDS:g} s:\n{prism.log_tail()}")
        if not prism.base_url:
            prism.stop()
            pytest.fail(f"Prism exited before listening:\n{prism.log_tail()}")
        return prism

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            with self._lock:
                self._lines.append(line.rstrip())
            listening = _LISTENING.search(line)
            if listening and not self._listening.is_set():
                self.base_url = listening.group(1)
                self._listening.set()
        self._listening.set()  # exited: release start() at once

    def log_mark(self) -> int:
        with self._lock:
            return len(self._lines)

    def violations_since(self, mark: int) -> list[str]:
        """Prism's validation errors logged since ``log_mark()`` (for failure messages)."""
        with self._lock:
            return [line for line in self._lines[mark:] if "[VALIDATOR]" in line]

    def request_violations_since(self, mark: int) -> list[str]:
        """Only what Prism found wrong with requests (it validates its own answers too)."""
        return [line for line in self.violations_since(mark) if "error     Request " in line]

    def received_since(self, mark: int, method: str, path: str) -> bool:
        with self._lock:
            return any(f"{method.lower()} {path}" in line for line in self._lines[mark:])

    def log_tail(self, lines: int = 30) -> str:
        with self._lock:
            return "\n".join(self._lines[-lines:])

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
