"""tools/layer_size.py (``make build``): the built layer's unzipped size and its largest
packages, and a failed build when the layer carries the CLI or the local stack. Run as
``make build`` runs it, on a layer laid out as ``sam build`` leaves it (``python/...``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.template import ROOT

TOOL = ROOT / "tools" / "layer_size.py"


def _file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def _layer_size(layer: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own tool)
        [sys.executable, str(TOOL), str(layer), *options],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    python = tmp_path / "CommonLayer" / "python"
    _file(python / "botocore" / "data" / "dynamodb" / "service-2.json", 3_000_000)
    _file(python / "botocore" / "client.py", 500_000)
    _file(python / "sms_automation" / "webhooks" / "signature.py", 20_000)
    _file(python / "twilio" / "rest" / "api" / "__init__.py", 1_200_000)
    _file(python / "typing_extensions.py", 100_000)
    _file(python / "boto3-1.44.5.dist-info" / "RECORD", 5_000)
    return tmp_path / "CommonLayer"


def test_reports_the_unzipped_size_and_the_largest_packages_first(layer: Path) -> None:
    answer = _layer_size(layer, "--top", "3")
    assert answer.returncode == 0, answer.stderr
    lines = answer.stdout.splitlines()
    assert lines[0].startswith("layer: 4.8 MB unzipped in 6 files (2% of the 250.0 MB")
    assert lines[1] == "largest packages (of 5 entries under python/):"
    listed = [line.split()[0] for line in lines[2:]]
    assert listed == ["botocore", "twilio", "typing_extensions.py"]
    assert lines[2].split()[1:] == ["3.5", "MB", "2", "files"]


@pytest.mark.parametrize(
    ("misplaced", "reported"),
    [
        ("sms_automation_cli/main.py", "sms_automation_cli"),
        ("sms_automation_local/state.py", "sms_automation_local"),
        ("sms_automation/cli/main.py", "sms_automation/cli"),
        ("sms_automation/local/demo.py", "sms_automation/local"),
    ],
)
def test_a_layer_with_the_cli_or_the_local_stack_fails_the_build(
    layer: Path, misplaced: str, reported: str
) -> None:
    _file(layer / "python" / misplaced, 1_000)
    answer = _layer_size(layer)
    assert answer.returncode == 1
    assert f"error: the layer holds {reported}: code Lambda never runs" in answer.stderr


def test_a_missing_build_is_an_error_not_an_empty_report(tmp_path: Path) -> None:
    answer = _layer_size(tmp_path / "CommonLayer")
    assert answer.returncode == 1
    assert "is the layer built?" in answer.stderr


def test_make_build_reports_the_built_layer() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "--no-print-directory", "build"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    [command] = [line for line in dry_run.splitlines() if "tools/layer_size.py" in line]
    assert command.endswith("/python tools/layer_size.py .aws-sam/build/CommonLayer")
    assert dry_run.index("sam build") < dry_run.index("tools/layer_size.py")
