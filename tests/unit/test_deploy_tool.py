"""tools/deploy.py (``make deploy``): the build and the deploy agree on the architecture.

The layer's compiled modules (pydantic-core) load on one architecture only: a build for x86_64
deployed as arm64 deploys fine, answers webhooks, and fails every trigger at import. Here a
build directory is made the way ``sam build`` leaves it (its template records the layer's
``BuildArchitecture``; the layer holds ELF shared objects) and pinned; the deploy of it with
another architecture is refused, and CloudFormation would refuse it too (the pinned template
allows that one value). The AWS side (a rolled-back stack, the console upload) runs against the
emulator in tests/e2e/test_deploy_guide.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.support.template import ROOT


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_tool", ROOT / "tools" / "deploy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tool = _tool()
_MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}


def elf_header(architecture: str) -> bytes:
    """The first 20 bytes of a 64-bit little-endian ELF shared object for ``architecture``."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    return ident + (3).to_bytes(2, "little") + _MACHINES[architecture].to_bytes(2, "little")


def make_build(root: Path, declared: str, binaries: str) -> Path:
    build = root / "build"
    module = build / "CommonLayer" / "python" / "pydantic_core"
    module.mkdir(parents=True)
    (module / "_pydantic_core.cpython-312-linux-gnu.so").write_bytes(
        elf_header(binaries) + bytes(44)
    )
    (module / "__init__.py").write_text("")
    template = {
        "Parameters": {
            "Architecture": {
                "Type": "String",
                "Default": "arm64",
                "AllowedValues": ["arm64", "x86_64"],
            }
        },
        "Resources": {
            "CommonLayer": {
                "Type": "AWS::Serverless::LayerVersion",
                "Metadata": {"BuildMethod": "python3.12", "BuildArchitecture": declared},
            }
        },
    }
    (build / "template.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    return build


def test_a_build_is_pinned_to_its_layers_architecture(tmp_path: Path) -> None:
    build = make_build(tmp_path, "x86_64", "x86_64")

    assert tool.pin_build(build) == "x86_64"

    parameter = yaml.safe_load((build / "template.yaml").read_text())["Parameters"]["Architecture"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("x86_64", ["x86_64"])
    assert "this build is for x86_64" in parameter["ConstraintDescription"]
    tool.check_build_matches("x86_64", build)


def test_deploying_a_build_of_another_architecture_is_refused_with_the_fix(
    tmp_path: Path,
) -> None:
    build = make_build(tmp_path, "x86_64", "x86_64")
    tool.pin_build(build)

    with pytest.raises(tool.Refused) as refused:
        tool.check_build_matches("arm64", build)

    assert "is for x86_64 but this deploy is for Architecture=arm64" in str(refused.value)
    assert "make build ARCH=arm64" in str(refused.value)


def test_an_unpinned_build_is_refused(tmp_path: Path) -> None:
    build = make_build(tmp_path, "arm64", "arm64")  # a plain `sam build`, never pinned

    with pytest.raises(tool.Refused, match="not pinned"):
        tool.check_build_matches("arm64", build)


def test_a_layer_whose_binaries_contradict_its_declared_architecture_is_refused(
    tmp_path: Path,
) -> None:
    build = make_build(tmp_path, "arm64", "x86_64")

    with pytest.raises(tool.Refused, match="holds compiled modules for x86_64"):
        tool.pin_build(build)


def test_the_deploy_uses_the_architecture_it_builds_for() -> None:
    assert tool.wanted_architecture("prod", {}) == "arm64"
    assert tool.wanted_architecture("default", {"ARCH": "x86_64"}) == "x86_64"
    overrides = tool.deploy_overrides(
        "prod", {"ARCH": "x86_64", "PARAMS": "AlarmEmail=a@b.example"}
    )
    assert overrides["Architecture"] == "x86_64"
    assert (overrides["Stage"], overrides["AlarmEmail"]) == ("prod", "a@b.example")


def make_dry_run(*args: str) -> str:
    done = subprocess.run(  # noqa: S603 - make with fixed arguments
        ["make", "--no-print-directory", "-n", *args],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done.stdout


def test_make_build_defaults_to_the_templates_architecture() -> None:
    [plain] = [line for line in make_dry_run("build").splitlines() if "sam build" in line]
    [x86] = [
        line for line in make_dry_run("build", "ARCH=x86_64").splitlines() if "sam build" in line
    ]

    assert "Architecture" not in plain  # the template's default (arm64), as the deploy's
    assert "Architecture=x86_64" in x86
    assert "pin-build" in make_dry_run("build")
