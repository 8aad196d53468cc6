# aws-sam-translator ships no type information (and lives in .venv-tools only).
# mypy: disable-error-code="import-untyped,import-not-found"
"""checkov over the SAM-transformed template, with the skips stated in template.yaml.

    .venv-tools/bin/python tools/checkov_template.py template.yaml \
        [--transformed .aws-sam/transformed-template.json] [--checkov .venv-checkov/bin/checkov]

checkov reads CloudFormation, so it runs on what tools/validate_template.py wrote (functions,
roles, stages as CloudFormation will create them). Skips live in template.yaml, each with the
reason (``comment``), in two places:

- a resource's own ``Metadata: checkov: skip: [{id, comment}]``: applied to that resource and to
  the resources the SAM transform generates from it (``WebhookApi`` -> ``WebhookApiStage``...);
- the template's top-level ``Metadata: checkov: skip: [{id, comment, resource_types}]``: a check
  that does not apply to any resource of those CloudFormation types.

The run fails on a failed check, a skip without a comment, a skip that no longer matches any
check (stale), and on checkov itself failing. Exit status: 0 clean, 1 findings, 2 usage/tool error.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TRANSFORMED = Path(".aws-sam/transformed-template.json")
DEFAULT_CHECKOV = Path(".venv-checkov/bin/checkov")
ANNOTATED = Path(".aws-sam/checkov-template.json")


class CheckovError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Skip:
    id: str
    comment: str
    where: str  # for messages: "WebhookApi" or "Metadata (AWS::Lambda::Function)"


def _skips(metadata: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(metadata, dict):
        return []
    entries = metadata.get("checkov", {}).get("skip", [])
    if not isinstance(entries, list):
        raise CheckovError(f"{where}: Metadata.checkov.skip is not a list")
    return entries


def _skip(entry: Any, where: str) -> Skip:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise CheckovError(f"{where}: a checkov skip needs an id")
    comment = entry.get("comment")
    if not isinstance(comment, str) or len(comment.split()) < 3:
        raise CheckovError(f"{where}: skip {entry['id']} needs a comment that states why")
    return Skip(entry["id"], comment.strip(), where)


def skips_by_resource(raw: dict[str, Any], transformed: dict[str, Any]) -> dict[str, list[Skip]]:
    """Transformed logical id -> the skips that apply to it."""
    raw_ids = set(raw.get("Resources", {}))
    result: dict[str, list[Skip]] = {}
    for entry in _skips(raw.get("Metadata"), "Metadata"):
        types = entry.get("resource_types") if isinstance(entry, dict) else None
        if not isinstance(types, list) or not types:
            raise CheckovError("Metadata: a template-level checkov skip needs resource_types")
        skip = _skip(entry, f"Metadata ({', '.join(types)})")
        for logical_id, resource in transformed.get("Resources", {}).items():
            if resource.get("Type") in types:
                result.setdefault(logical_id, []).append(skip)
    for raw_id, resource in raw.get("Resources", {}).items():
        for entry in _skips(resource.get("Metadata"), raw_id):
            skip = _skip(entry, raw_id)
            for logical_id in transformed.get("Resources", {}):
                generated = logical_id.startswith(raw_id) and logical_id not in raw_ids
                if logical_id == raw_id or generated:
                    result.setdefault(logical_id, []).append(skip)
    return result


def annotate(transformed: dict[str, Any], skips: dict[str, list[Skip]]) -> dict[str, Any]:
    """A copy of the transformed template with each resource's skips in its Metadata."""
    annotated = copy.deepcopy(transformed)
    for logical_id, resource_skips in skips.items():
        metadata = annotated["Resources"][logical_id].setdefault("Metadata", {})
        metadata["checkov"] = {
            "skip": [{"id": skip.id, "comment": skip.comment} for skip in resource_skips]
        }
    return annotated


def run_checkov(checkov: Path, template: Path) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - the pinned checkov of this repository
        [
            str(checkov),
            "--file",
            str(template),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # checkov exits 1 when a check fails; anything else, or no JSON, is checkov failing.
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise CheckovError(
            f"checkov failed (exit {result.returncode}): {result.stderr[-2000:]}"
        ) from error
    if isinstance(report, list):  # one report per framework
        (report,) = report
    if result.returncode not in (0, 1) or not isinstance(report, dict):
        raise CheckovError(f"checkov failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return report


def findings(report: dict[str, Any], skips: dict[str, list[Skip]]) -> list[str]:
    results = report.get("results", {})
    problems = [
        f"{check['resource']}: {check['check_id']} {check['check_name']}"
        for check in results.get("failed_checks", [])
    ]
    if report.get("summary", {}).get("parsing_errors"):
        problems.append("checkov could not parse the template")
    used = {
        (check["resource"].rsplit(".", 1)[-1], check["check_id"])
        for check in results.get("skipped_checks", [])
    }
    declared = {
        (skip.where, skip.id) for resource_skips in skips.values() for skip in resource_skips
    }
    matched = {
        (skip.where, skip.id)
        for logical_id, resource_skips in skips.items()
        for skip in resource_skips
        if (logical_id, skip.id) in used
    }
    problems.extend(
        f"{where}: skip {check_id} matches no check any more: remove it"
        for where, check_id in sorted(declared - matched)
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("template", type=Path)
    parser.add_argument("--transformed", type=Path, default=DEFAULT_TRANSFORMED)
    parser.add_argument("--checkov", type=Path, default=DEFAULT_CHECKOV)
    parser.add_argument("--annotated", type=Path, default=ANNOTATED)
    args = parser.parse_args(argv)
    from samtranslator.yaml_helper import yaml_parse

    try:
        raw = yaml_parse(args.template.read_text(encoding="utf-8"))
        transformed = json.loads(args.transformed.read_text(encoding="utf-8"))
        skips = skips_by_resource(raw, transformed)
        args.annotated.parent.mkdir(parents=True, exist_ok=True)
        args.annotated.write_text(json.dumps(annotate(transformed, skips), indent=2) + "\n")
        report = run_checkov(args.checkov, args.annotated)
    except (OSError, CheckovError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = findings(report, skips)
    for line in problems:
        print(f"{args.template}: checkov: {line}", file=sys.stderr)
    if problems:
        print(f"error: {len(problems)} checkov finding(s)", file=sys.stderr)
        return 1
    summary = report.get("summary", {})
    print(
        f"{args.template}: checkov clean ({summary.get('passed', 0)} passed, "
        f"{summary.get('skipped', 0)} skipped with a reason in the template)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
