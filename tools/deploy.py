"""What ``make deploy`` does around ``sam deploy``: a first deploy without traps (docs/deploy.md).

    .venv/bin/python tools/deploy.py architecture --config-env prod   # the arch to build for
    .venv/bin/python tools/deploy.py pin-build                        # after sam build
    .venv/bin/python tools/deploy.py deploy --config-env prod [--guided]
    .venv/bin/python tools/deploy.py delete-failed-stack --config-env prod

- **One architecture.** ``make deploy`` builds for the architecture the deploy will use (``ARCH``
  if set, else the samconfig environment's ``Architecture``, else the template's default), and
  ``pin-build`` writes the built layer's architecture into the *built* template as the only
  allowed ``Architecture`` value: a deploy of that build with another architecture (``sam deploy
  --guided`` answered differently, an old stack's previous value) is refused by CloudFormation
  before anything changes, and ``deploy`` refuses it first, with the command that fixes it. The
  layer's compiled modules (pydantic-core) load only on their own architecture: a mismatch would
  deploy, answer webhooks, and fail every trigger at import.
- **No account-wide setting.** The stack's APIs are HTTP APIs: their access logs are delivered
  through a CloudWatch Logs resource policy API Gateway adds when the stage is created, so no
  account-level CloudWatch Logs role (a REST API's need) is created or set: a deploy changes
  nothing outside its stack.
- **The web console.** After a successful ``sam deploy``, ``deploy`` uploads ``console/`` to the
  stack's ``ConsoleBucketName`` bucket with the ``config.json`` the page reads (API URL, region,
  user pool and client, from the stack's outputs) and prints ``ConsoleUrl`` (docs/console.md).
- **A failed first deploy.** CloudFormation leaves a stack whose creation failed in
  ``ROLLBACK_COMPLETE``: it holds nothing and cannot be updated. ``deploy`` says so (with the
  reasons) and ``delete-failed-stack`` deletes such a stack, and only such a stack.

Extra parameter overrides (``PARAMS="AlarmEmail=ops@example.com"``, or the environment variable
``PARAMS``) are merged over the samconfig environment's list: ``sam deploy --parameter-overrides``
alone would replace the whole list. Exit status: 0 done, 1 refused or failed, 2 usage.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import yaml

ROOT: Final = Path(__file__).resolve().parent.parent
SAMCONFIG: Final = ROOT / "samconfig.toml"
TEMPLATE: Final = ROOT / "template.yaml"
BUILD_DIR: Final = ROOT / ".aws-sam" / "build"
SAM: Final = ROOT / ".venv-tools" / "bin" / "sam"
LAYER: Final = "CommonLayer"
CONSOLE_DIR: Final = ROOT / "console"

ROLLED_BACK: Final = "ROLLBACK_COMPLETE"

# ELF e_machine values of the two Lambda architectures.
_ELF_MACHINES: Final = {0x3E: "x86_64", 0xB7: "arm64"}


class Refused(Exception):
    """The deploy must not go ahead; the message says why and what to run."""


# ---- samconfig -----------------------------------------------------------------------------


def config_env_name(name: str) -> str:
    return "default" if name in ("", "dev") else name


def samconfig_section(config_env: str, path: Path = SAMCONFIG) -> dict[str, Any]:
    """The ``deploy`` parameters of one samconfig environment (global ones underneath)."""
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    env = config.get(config_env)
    if env is None:
        known = ", ".join(name for name in config if name != "version")
        raise Refused(f"samconfig.toml has no environment {config_env!r} (it has: {known})")
    merged: dict[str, Any] = dict(env.get("global", {}).get("parameters", {}))
    merged.update(env.get("deploy", {}).get("parameters", {}))
    return merged


def parse_overrides(text: str) -> dict[str, str]:
    """``K=V K2="v 2"`` (samconfig's form, and ``PARAMS``) as a dict, in order."""
    pairs: dict[str, str] = {}
    for item in shlex.split(text):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise Refused(f"parameter override {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


def template_default(name: str, path: Path = TEMPLATE) -> str:
    parameters = _load_yaml(path).get("Parameters", {})
    return str(parameters[name]["Default"])


def _load_yaml(path: Path) -> dict[str, Any]:
    class _Loader(yaml.SafeLoader):
        """Short-form intrinsics (``!Ref``) load as plain values: only literals are read."""

    _Loader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    if not isinstance(document, dict):
        raise Refused(f"{path} is not a template")
    return document


def wanted_architecture(config_env: str, environ: Mapping[str, str] = os.environ) -> str:
    """``ARCH``, else the samconfig environment's ``Architecture``, else the template default."""
    if environ.get("ARCH"):
        return environ["ARCH"]
    overrides = parse_overrides(str(samconfig_section(config_env).get("parameter_overrides", "")))
    return overrides.get("Architecture") or template_default("Architecture")


def deploy_overrides(config_env: str, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The samconfig environment's overrides, with ``Architecture`` and ``PARAMS`` over them."""
    section = samconfig_section(config_env)
    overrides = parse_overrides(str(section.get("parameter_overrides", "")))
    overrides["Architecture"] = wanted_architecture(config_env, environ)
    overrides.update(parse_overrides(environ.get("PARAMS", "")))
    return overrides


# ---- the build's architecture --------------------------------------------------------------


def elf_architectures(directory: Path) -> set[str]:
    """The architectures of the compiled modules (``*.so``) under ``directory``."""
    found: set[str] = set()
    for path in directory.rglob("*.so*"):
        if not path.is_file():
            continue
        with path.open("rb") as binary:
            header = binary.read(20)
        if len(header) == 20 and header[:4] == b"\x7fELF" and header[5] == 1:  # little-endian
            machine = int.from_bytes(header[18:20], "little")
            found.add(_ELF_MACHINES.get(machine, f"machine {machine:#x}"))
    return found


def build_architecture(build_dir: Path = BUILD_DIR) -> str:
    """The architecture of the build: what sam build resolved for the layer, checked against
    the layer's compiled modules."""
    template = build_dir / "template.yaml"
    if not template.is_file():
        raise Refused(f"no build in {build_dir}: run `make deploy` (it builds) or `make build`")
    layer = _load_yaml(template)["Resources"][LAYER]
    declared = str(layer.get("Metadata", {}).get("BuildArchitecture", ""))
    binaries = elf_architectures(build_dir / LAYER)
    if binaries and binaries != {declared}:
        raise Refused(
            f"the build in {build_dir} is inconsistent: its layer declares {declared!r} but "
            f"holds compiled modules for {', '.join(sorted(binaries))}: run `make build` again"
        )
    return declared


def pinned_architecture(build_dir: Path = BUILD_DIR) -> str | None:
    allowed = _load_yaml(build_dir / "template.yaml")["Parameters"]["Architecture"].get(
        "AllowedValues", []
    )
    return str(allowed[0]) if len(allowed) == 1 else None


def pin_build(build_dir: Path = BUILD_DIR) -> str:
    """Make the built template accept only the build's architecture (and default to it)."""
    architecture = build_architecture(build_dir)
    path = build_dir / "template.yaml"
    template = _load_yaml(path)
    parameter = template["Parameters"]["Architecture"]
    parameter["Default"] = architecture
    parameter["AllowedValues"] = [architecture]
    parameter["ConstraintDescription"] = (
        f"this build is for {architecture} (its layer's compiled modules load on no other "
        f"architecture): deploy it with Architecture={architecture}, or rebuild with "
        f"`make deploy` / `make build ARCH=<architecture>`"
    )
    path.write_text(yaml.safe_dump(template, sort_keys=False, width=100), encoding="utf-8")
    return architecture


def check_build_matches(wanted: str, build_dir: Path = BUILD_DIR) -> None:
    built = build_architecture(build_dir)
    if pinned_architecture(build_dir) != built:
        raise Refused(f"the build in {build_dir} is not pinned: run `make build`")
    if built != wanted:
        raise Refused(
            f"refusing to deploy: the build in {build_dir} is for {built} but this deploy is for "
            f"Architecture={wanted}; its functions would fail at import. Run `make deploy` "
            f"(it builds for the deploy's architecture) or `make build ARCH={wanted}`"
        )


# ---- AWS: the account setting and the stack's state ----------------------------------------


def _client(service: str, region: str | None) -> Any:
    import boto3

    session = boto3.session.Session(region_name=region)
    return session.client(service)  # type: ignore[call-overload]


def stack_status(stack_name: str, region: str | None) -> str | None:
    cloudformation = _client("cloudformation", region)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def failure_reasons(stack_name: str, region: str | None) -> list[str]:
    events = _client("cloudformation", region).describe_stack_events(StackName=stack_name)
    return [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in events["StackEvents"]
        if event.get("ResourceStatus") == "CREATE_FAILED"
    ][:5]


def refuse_rolled_back(stack_name: str, config_env: str, region: str | None) -> None:
    if stack_status(stack_name, region) != ROLLED_BACK:
        return
    reasons = "".join(f"\n  {reason}" for reason in failure_reasons(stack_name, region))
    suffix = "" if config_env == "default" else f" CONFIG_ENV={config_env}"
    raise Refused(
        f"stack {stack_name} is in {ROLLED_BACK}: its first deploy failed and was rolled back, "
        f"so it holds nothing and cannot be updated.{reasons}\nDelete it, then deploy again:\n"
        f"  make delete-failed-stack{suffix}\n  make deploy{suffix}"
    )


def delete_failed_stack(
    stack_name: str, region: str | None, report: Callable[[str], None] = print
) -> bool:
    """Delete the stack if, and only if, it is in ROLLBACK_COMPLETE; True when deleted."""
    status = stack_status(stack_name, region)
    if status is None:
        report(f"no stack {stack_name}: nothing to delete")
        return False
    if status != ROLLED_BACK:
        raise Refused(
            f"stack {stack_name} is {status}, not {ROLLED_BACK}: not deleting it (this command "
            f"only removes a stack whose first deploy failed)"
        )
    cloudformation = _client("cloudformation", region)
    cloudformation.delete_stack(StackName=stack_name)
    cloudformation.get_waiter("stack_delete_complete").wait(
        StackName=stack_name, WaiterConfig={"Delay": 2, "MaxAttempts": 300}
    )
    report(f"deleted {stack_name} (it was {ROLLED_BACK}); `make deploy` creates it again")
    return True


# ---- sam deploy ----------------------------------------------------------------------------


def sam_deploy_command(config_env: str, overrides: Mapping[str, str], guided: bool) -> list[str]:
    command = [str(SAM), "deploy", "--config-env", config_env]
    if guided:
        command.append("--guided")
    command += ["--parameter-overrides", *(f"{k}={v}" for k, v in overrides.items())]
    return command


def deploy(config_env: str, guided: bool, environ: Mapping[str, str] = os.environ) -> int:
    section = samconfig_section(config_env)
    stack_name, region = str(section["stack_name"]), section.get("region")
    overrides = deploy_overrides(config_env, environ)
    check_build_matches(overrides["Architecture"])
    refuse_rolled_back(stack_name, config_env, region)
    env = {**environ, "SAM_CLI_TELEMETRY": "0"}
    done = subprocess.run(  # noqa: S603 - the tools venv's sam, arguments built here
        sam_deploy_command(config_env, overrides, guided), cwd=ROOT, env=env, check=False
    )
    if done.returncode != 0 and stack_status(stack_name, region) == ROLLED_BACK:
        refuse_rolled_back(stack_name, config_env, region)
    if done.returncode == 0:
        publish_console(stack_name, region)
    return done.returncode


def stack_outputs(stack_name: str, region: str | None) -> dict[str, str]:
    stacks = _client("cloudformation", region).describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def publish_console(
    stack_name: str, region: str | None, report: Callable[[str], None] = print
) -> str:
    """Upload console/ and its config.json to the deployed stack's bucket; its URL."""
    # Imported here: the other commands (architecture, pin-build) need only this file.
    from sms_automation_cli.console_site import ConsoleNotPublishable, config_from_outputs, publish

    s3 = _client("s3", region)
    outputs = stack_outputs(stack_name, region)
    try:
        config = config_from_outputs(outputs, s3.meta.region_name)
    except ConsoleNotPublishable as error:
        raise Refused(f"cannot publish the console: {error}") from error
    keys = publish(s3, outputs["ConsoleBucketName"], config, CONSOLE_DIR)
    report(f"console: {len(keys)} files published; open {outputs['ConsoleUrl']}")
    return outputs["ConsoleUrl"]


def run_command(args: argparse.Namespace) -> int:
    if args.command == "architecture":
        print(wanted_architecture(args.config_env))
    elif args.command == "pin-build":
        print(f"build pinned to {pin_build()}: only a deploy for that architecture accepts it")
    elif args.command == "deploy":
        return deploy(args.config_env, args.guided)
    else:
        section = samconfig_section(args.config_env)
        delete_failed_stack(str(section["stack_name"]), section.get("region"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/deploy.py", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("architecture", "deploy", "delete-failed-stack"):
        command = commands.add_parser(name)
        command.add_argument("--config-env", default="default", type=config_env_name)
        if name == "deploy":
            command.add_argument("--guided", action="store_true")
    commands.add_parser("pin-build")
    try:
        return run_command(parser.parse_args(argv))
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    except Exception as error:
        if type(error).__module__.split(".")[0] != "botocore":
            raise
        print(f"error: {aws_failure(error)}", file=sys.stderr)
        return 1


def aws_failure(error: Exception) -> str:
    """One line for a failed AWS call: the error code and what to check (not AWS's message)."""
    response = getattr(error, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return (
        f"an AWS call failed ({code or type(error).__name__}): check the AWS credentials "
        f"(AWS_PROFILE, region) and their permissions (docs/deploy.md lists what a deploy needs)"
    )


if __name__ == "__main__":
    sys.exit(main())
