# aws-sam-translator and cfn-lint ship no type information (and live in .venv-tools only).
# mypy: disable-error-code="import-untyped,import-not-found"
"""Validate a SAM template offline: SAM transform, then cfn-lint on the SAM and the CloudFormation.

    .venv-tools/bin/python tools/validate_template.py template.yaml [--transform-only]
        [--output .aws-sam/transformed-template.json] [--parameter Name=Value ...]

1. Transform the template with aws-sam-translator, as CloudFormation's SAM transform would, and
   write the result (default ``.aws-sam/transformed-template.json``). Policy templates, Globals,
   events and implicit resources all resolve here, so errors that ``sam deploy`` would report
   after uploading show up now.
2. Run cfn-lint on the SAM template itself (it validates SAM resources against SAM's schemas)
   and on the transformed CloudFormation (where it sees the real IAM roles, permissions,
   stages...), errors, warnings and informational findings alike, bar IGNORED_CHECKS.

No AWS access is needed or attempted: the translator resolves AWS managed policy names from its
bundled map first; a name it does not know falls back to MANAGED_POLICIES below, and one that is
in neither fails the run instead of reaching CloudFormation as a bogus ARN.

Needs the tools venv (`make tools`): aws-sam-translator and cfn-lint pin pydantic apart from the
application's. Exit status: 0 clean, 1 findings, 2 usage or transform error.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
from pathlib import Path
from typing import Any

# Managed policies this project may name in `Policies:` that the translator's bundled map might
# lack (it ships one, but pinning the ones we rely on keeps the result independent of it).
# Values are partition-relative; ${AWS::Partition} is substituted by the translator's caller.
MANAGED_POLICIES: dict[str, str] = {
    "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaDynamoDBExecutionRole": "service-role/AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaSQSQueueExecutionRole": "service-role/AWSLambdaSQSQueueExecutionRole",
    "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
    "AmazonAPIGatewayPushToCloudWatchLogs": "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
}

# cfn-lint rule id -> why it does not apply. Keep every entry justified, and scoped to the
# template (SAM source or transformed output) where it has to be.
IGNORED_CHECKS_SAM: dict[str, str] = {}
IGNORED_CHECKS_TRANSFORMED: dict[str, str] = {
    "I3042": "the SAM transform itself writes arn:aws: into the execute-api permission and the "
    "integration URI it generates; our own ARNs use ${AWS::Partition} (checked on the source)",
}

# Regions the stack is linted for (resource and runtime availability differs per region).
LINT_REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]

DEFAULT_OUTPUT = Path(".aws-sam/transformed-template.json")
PARTITION = "aws"
# Any commercial region: it only fills AWS::Region/AWS::Partition for the transform.
TRANSFORM_REGION = "us-east-1"


class ValidationError(Exception):
    """A problem that stops validation; the message is meant for the terminal."""


def load_template(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON CloudFormation template, short-form tags included."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        template = yaml_parse(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error}") from error
    except Exception as error:  # the YAML library's errors carry line and column
        raise ValidationError(f"{path}: not valid YAML/JSON: {error}") from error
    if not isinstance(template, dict):
        raise ValidationError(f"{path}: a template is a mapping, got {type(template).__name__}")
    return template


class StaticManagedPolicyLoader:
    """The translator's ManagedPolicyLoader interface, answered from MANAGED_POLICIES (no IAM).

    The translator only asks for the map when a name is missing from its bundled one; every name
    it then cannot resolve is recorded so the run can fail on it.
    """

    def __init__(self, policies: dict[str, str], partition: str = PARTITION) -> None:
        self._map = {
            name: f"arn:{partition}:iam::aws:policy/{path}" for name, path in policies.items()
        }

    def load(self) -> dict[str, str]:
        return dict(self._map)


# Properties that take a local path which `sam build`/`sam package` upload; the translator itself
# accepts only S3 locations there.
LOCAL_ARTIFACT_PROPERTIES: dict[str, str] = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Serverless::Api": "DefinitionUri",
    "AWS::Serverless::HttpApi": "DefinitionUri",
    "AWS::Serverless::StateMachine": "DefinitionUri",
}
PLACEHOLDER_BUCKET = "local-artifact-placeholder"


def replace_local_artifacts(template: dict[str, Any], base_dir: Path) -> list[str]:
    """Swap local artifact paths for S3 placeholders in place, as `sam validate` does.

    Returns the problems found: a local path that does not exist would only fail at build time.
    """
    problems = []
    targets: list[tuple[str, dict[str, Any], str]] = []
    globals_function = template.get("Globals", {}).get("Function", {})
    if isinstance(globals_function, dict):
        targets.append(("Globals.Function", globals_function, "CodeUri"))
    for logical_id, resource in template.get("Resources", {}).items():
        if not isinstance(resource, dict):
            continue
        prop = LOCAL_ARTIFACT_PROPERTIES.get(resource.get("Type", ""))
        properties = resource.get("Properties")
        if prop and isinstance(properties, dict):
            targets.append((logical_id, properties, prop))
    for where, properties, prop in targets:
        value = properties.get(prop)
        if not isinstance(value, str) or value.startswith("s3://"):
            continue  # absent, an S3 URI, or an {Bucket, Key} mapping
        if not (base_dir / value).exists():
            problems.append(f"{where}.{prop}: local path {value!r} does not exist")
        key = value.strip("./") or "root"
        properties[prop] = f"s3://{PLACEHOLDER_BUCKET}/{key}"
    return problems


def unresolved_managed_policies(transformed: dict[str, Any]) -> list[str]:
    """Managed policy entries of IAM roles that are neither an ARN nor an intrinsic function.

    The translator passes an unknown name through unchanged; CloudFormation would only reject
    it at deploy time.
    """
    problems = []
    for logical_id, resource in sorted(transformed.get("Resources", {}).items()):
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::IAM::Role":
            continue
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns", []):
            if isinstance(arn, str) and not arn.startswith("arn:"):
                problems.append(
                    f"{logical_id}: unknown managed policy {arn!r}: use its ARN, or add it to "
                    "MANAGED_POLICIES in tools/validate_template.py"
                )
    return problems


def transform(
    template: dict[str, Any],
    parameters: dict[str, str],
    base_dir: Path,
    region: str = TRANSFORM_REGION,
) -> dict[str, Any]:
    """Run the SAM transform offline and return the CloudFormation template.

    Mirrors ``samtranslator.translator.transform.transform`` but hands the translator a session
    with a fixed region: it reads the region (for AWS::Region/AWS::Partition) from the session,
    and the default session would need an AWS profile or environment.
    """
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import (
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    loader = StaticManagedPolicyLoader(MANAGED_POLICIES)
    template = copy.deepcopy(template)
    missing = replace_local_artifacts(template, base_dir)
    if missing:
        raise ValidationError("missing artifacts:\n  - " + "\n  - ".join(missing))
    parameters = dict(parameters)
    to_py27_compatible_template(template, parameters)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        translated = translator.translate(
            template, parameter_values=parameters, get_managed_policy_map=loader.load
        )
    except InvalidDocumentException as error:
        causes = "\n".join(f"  - {cause.message}" for cause in error.causes)
        raise ValidationError(f"SAM transform failed:\n{causes}") from error
    result: dict[str, Any] = undo_mark_unicode_str_in_template(translated)
    unresolved = unresolved_managed_policies(result)
    if unresolved:
        raise ValidationError(
            "SAM transform left unresolved managed policies:\n  - " + "\n  - ".join(unresolved)
        )
    return result


def lint(label: str, template_text: str, ignored: dict[str, str]) -> list[str]:
    """cfn-lint findings (all levels, minus the ignored rules) as printable lines."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    config = ManualArgs(
        regions=LINT_REGIONS,
        include_checks=["I"],
        ignore_checks=list(ignored),
    )
    matches = cfn_lint(template_text, config=config)
    return [
        f"{label}:{match.linenumber}:{match.columnnumber}: {match.rule.id} {match.message}"
        for match in matches
    ]


def parse_parameters(pairs: list[str]) -> dict[str, str]:
    parameters = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValidationError(f"--parameter wants Name=Value, got {pair!r}")
        parameters[name] = value
    return parameters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("template", type=Path)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--transform-only",
        action="store_true",
        help="write the transformed template and skip cfn-lint",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="template parameter override for the transform (repeatable)",
    )
    args = parser.parse_args(argv)
    # The translator warns about every feature flag its default (empty) config lacks.
    logging.getLogger("samtranslator.feature_toggle.feature_toggle").setLevel(logging.ERROR)

    try:
        parameters = parse_parameters(args.parameter)
        template = load_template(args.template)
        transformed = transform(template, parameters, args.template.parent)
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(transformed, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    if args.transform_only:
        print(f"transformed {args.template} -> {args.output}")
        return 0

    findings = lint(
        str(args.template), args.template.read_text(encoding="utf-8"), IGNORED_CHECKS_SAM
    )
    findings += lint(
        str(args.output), args.output.read_text(encoding="utf-8"), IGNORED_CHECKS_TRANSFORMED
    )
    for line in findings:
        print(line, file=sys.stderr)
    if findings:
        print(f"error: {len(findings)} cfn-lint finding(s)", file=sys.stderr)
        return 1
    ignored = ", ".join(sorted({*IGNORED_CHECKS_SAM, *IGNORED_CHECKS_TRANSFORMED})) or "none"
    print(f"{args.template}: SAM transform and cfn-lint clean (ignored: {ignored}, see script)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
