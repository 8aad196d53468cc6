"""``sam build`` (skipped when its inputs are unchanged) and ``sam deploy`` to the emulator.

SAM's output (the layer upload progress bar alone is tens of KB) goes to a log file; a failure
raises with the log's tail.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sms_automation_local.layer_prune import prune_layer
from sms_automation_local.layout import Layout, real_python312

ARCHITECTURE = "x86_64"
BUILD_INPUTS = (
    "template.yaml",
    "functions",
    "layers/common",
    "local/sms_automation_local/layer_prune.py",
)
_SKIP_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_STAMP = ".inputs.sha256"


class SamFailed(RuntimeError):
    pass


def inputs_hash(root: Path, extra: str = "") -> str:
    """SHA-256 over every build input's path and bytes, plus ``extra`` (e.g. parameters)."""
    digest = hashlib.sha256(extra.encode())
    for name in BUILD_INPUTS:
        top = root / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for path in files:
            relative = path.relative_to(root)
            if _SKIP_PARTS.intersection(relative.parts) or path.suffix == ".pyc":
                continue
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextmanager
def build_lock(layout: Layout) -> Iterator[None]:
    """One build-and-deploy at a time per checkout: ``make run`` and the e2e tests share the
    build, and a deploy packages from it."""
    layout.build_lock.parent.mkdir(parents=True, exist_ok=True)
    with layout.build_lock.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sam_env(aws: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for SAM CLI; with ``aws``, those AWS settings replace the shell's."""
    env = {k: v for k, v in os.environ.items() if aws is None or not k.startswith("AWS_")}
    env["SAM_CLI_TELEMETRY"] = "0"
    python = real_python312()
    if python is not None:  # sam build resolves `python3.12` on PATH: the real one first
        env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(aws or {})
    return env


def _run(layout: Layout, args: list[str], log_name: str, env: Mapping[str, str]) -> None:
    layout.logs.mkdir(parents=True, exist_ok=True)
    log = layout.logs / log_name
    with log.open("ab") as output:
        result = subprocess.run(  # noqa: S603 (the tools venv's sam, fixed arguments)
            [str(layout.sam), *args],
            cwd=layout.root,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise SamFailed(
            f"sam {args[0]} failed (exit {result.returncode}); log: {log}\n" + "\n".join(tail)
        )


def build(layout: Layout) -> bool:
    """Build for x86_64 into the shared build folder, the layer pruned for the emulator
    (``layer_prune``); False when it was already up to date.

    Call inside ``build_lock``.
    """
    wanted = inputs_hash(layout.root, f"Architecture={ARCHITECTURE}")
    stamp = layout.build_dir / _STAMP
    built_template = layout.build_dir / "template.yaml"
    if built_template.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return False
    stamp.unlink(missing_ok=True)
    _run(
        layout,
        [
            "build",
            "--template-file",
            str(layout.root / "template.yaml"),
            "--build-dir",
            str(layout.build_dir),
            "--cache-dir",
            str(layout.build_cache_dir),
            "--cached",
            "--parallel",
            "--parameter-overrides",
            f"Architecture={ARCHITECTURE}",
        ],
        "sam-build.log",
        _sam_env(),
    )
    # The emulator unpacks the layer for every worker it starts: see layer_prune.py.
    prune_layer(layout.build_dir / "CommonLayer" / "python")
    stamp.write_text(wanted + "\n")
    return True


def deploy(
    layout: Layout,
    *,
    endpoint_url: str,
    region: str,
    stack_name: str,
    parameters: Mapping[str, str],
) -> None:
    """``sam deploy`` of the built template to the emulator. Call inside ``build_lock``."""
    overrides = [f"{key}={value}" for key, value in parameters.items()]
    _run(
        layout,
        [
            "deploy",
            "--template-file",
            str(layout.build_dir / "template.yaml"),
            "--stack-name",
            stack_name,
            "--region",
            region,
            "--resolve-s3",
            "--s3-prefix",
            stack_name,
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--no-confirm-changeset",
            "--no-fail-on-empty-changeset",
            "--parameter-overrides",
            *overrides,
        ],
        "sam-deploy.log",
        _sam_env(emulator_credentials(endpoint_url, region)),
    )


def emulator_credentials(endpoint_url: str, region: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
