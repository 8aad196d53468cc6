"""What ``make build`` says about the built Lambda layer: its unzipped size, its largest packages,
and that it carries only what Lambda runs.

Lambda allows 250 MB unzipped for a function and all its layers; the size here is the sum of the
files' sizes (what Lambda counts), not the disk blocks ``du`` reports. Fails (exit 1) when the
layer holds the command line or the local stack (``sms_automation_cli``, ``sms_automation_local``,
or the packages' old places under ``sms_automation/``): nothing a function runs imports them.

    python tools/layer_size.py .aws-sam/build/CommonLayer [--top 8]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

LAMBDA_UNZIPPED_LIMIT: Final = 250 * 1000 * 1000
NOT_FOR_LAMBDA: Final = (
    "sms_automation_cli",
    "sms_automation_local",
    "sms_automation/cli",
    "sms_automation/local",
)
"""Paths under the layer's ``python/`` that must not exist: the CLI and the local stack."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A top-level entry of the layer's ``python/`` (a package, a module, a .dist-info)."""

    name: str
    size: int
    files: int


def entries(python_dir: Path) -> list[Entry]:
    """Each top-level entry with the bytes and files under it, largest first."""
    found = []
    for child in python_dir.iterdir():
        files = [child] if child.is_file() else [p for p in child.rglob("*") if p.is_file()]
        found.append(Entry(child.name, sum(p.stat().st_size for p in files), len(files)))
    return sorted(found, key=lambda entry: (-entry.size, entry.name))


def misplaced(python_dir: Path) -> list[str]:
    """The paths of ``NOT_FOR_LAMBDA`` that the layer holds."""
    return [path for path in NOT_FOR_LAMBDA if (python_dir / path).exists()]


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def report(layer_dir: Path, top: int) -> tuple[list[str], list[str]]:
    """(the report's lines, the problems found)."""
    python_dir = layer_dir / "python"
    if not python_dir.is_dir():
        return [], [f"{python_dir} does not exist: is the layer built?"]
    found = entries(python_dir)
    total = sum(entry.size for entry in found)
    share = f"{total / LAMBDA_UNZIPPED_LIMIT:.0%}"
    lines = [
        f"layer: {megabytes(total)} unzipped in {sum(e.files for e in found):,} files "
        f"({share} of the {megabytes(LAMBDA_UNZIPPED_LIMIT)} Lambda allows for a function "
        "and its layers)",
        f"largest packages (of {len(found)} entries under python/):",
    ]
    width = max((len(entry.name) for entry in found[:top]), default=0)
    lines += [
        f"  {entry.name:<{width}}  {megabytes(entry.size):>9}  {entry.files:>6,} files"
        for entry in found[:top]
    ]
    problems = [
        f"the layer holds {path}: code Lambda never runs (it belongs outside layers/common)"
        for path in misplaced(python_dir)
    ]
    return lines, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layer_dir", type=Path, help="the built layer (holds python/)")
    parser.add_argument("--top", type=int, default=8, help="how many packages to list")
    args = parser.parse_args(argv)
    lines, problems = report(args.layer_dir, args.top)
    for line in lines:
        print(line)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
