"""Where the runner keeps things: venvs, the shared build, and one home folder per stack."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sms_automation_local.state import STATE_DIR_NAME, STATE_FILE_NAME

ROOT = Path(__file__).resolve().parents[2]


class MissingPrerequisite(RuntimeError):
    """Something the runner needs is not installed; the message says how to get it."""


@dataclass(frozen=True, slots=True)
class Layout:
    """``home`` holds one stack's state, logs and emulator temp files (``.local`` for
    ``make run``; the end-to-end tests use their own); the SAM build is shared by all."""

    root: Path = ROOT
    home: Path = ROOT / STATE_DIR_NAME

    @property
    def state_file(self) -> Path:
        return self.home / STATE_FILE_NAME

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def tmp(self) -> Path:
        """The emulator's TMPDIR: every cold Lambda worker unpacks ~66 MB here, never removed."""
        return self.home / "tmp"

    @property
    def build_dir(self) -> Path:
        return self.root / STATE_DIR_NAME / "build"

    @property
    def build_cache_dir(self) -> Path:
        return self.root / STATE_DIR_NAME / "build-cache"

    @property
    def build_lock(self) -> Path:
        return self.root / STATE_DIR_NAME / "build.lock"

    @property
    def python_path(self) -> str:
        """PYTHONPATH for a process the runner starts in the project venv: this checkout's local
        stack package and layer (the venv's editable install may point at another checkout)."""
        return os.pathsep.join(str(self.root / folder) for folder in ("local", "layers/common"))

    @property
    def project_bin(self) -> Path:
        return self.root / ".venv" / "bin"

    @property
    def sam(self) -> Path:
        return self.root / ".venv-tools" / "bin" / "sam"

    @property
    def emulator_python(self) -> Path:
        return self.root / ".venv-emulator" / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.project_bin / "sms-automation"

    def check_prerequisites(self) -> None:
        wanted = [
            (self.cli, "make install"),
            (self.sam, "make tools"),
            (self.emulator_python, "make emulator"),
        ]
        missing = [f"{path} (run: {how})" for path, how in wanted if not path.exists()]
        if missing:
            raise MissingPrerequisite("missing: " + "; ".join(missing))
        if shutil.which("python3.12") is None and real_python312() is None:
            raise MissingPrerequisite(
                "no Python 3.12 interpreter (sam build needs one): see tools/find-python.sh"
            )


def real_python312() -> Path | None:
    """The interpreter tools/find-python.sh finds (pyenv shims do not work for sam build)."""
    import subprocess

    script = ROOT / "tools" / "find-python.sh"
    result = subprocess.run(  # noqa: S603 (our own script)
        ["/usr/bin/env", "bash", str(script), "3.12"],
        capture_output=True,
        text=True,
        check=False,
    )
    path = result.stdout.strip()
    return Path(path) if result.returncode == 0 and path else None
