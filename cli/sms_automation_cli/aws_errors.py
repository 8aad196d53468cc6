"""One line for an AWS call that failed, the same from every command.

``main`` prints it for any AWS error a command lets through (``AWS_ERRORS``), naming the
command; a command that can say more about its outcome (``run``: "nothing was started")
prints it itself with its own outcome. The line names the error code and, when a retry may
succeed (``is_transient``: throttling, 5xx, no connection), ends in "try again"; otherwise it
says what to check. Missing credentials, profile or region get how to configure them. The AWS
error message is not printed: it may quote what was sent (keys, numbers), and the code and the
operation say what failed.
"""

from __future__ import annotations

import argparse
import functools
from typing import TYPE_CHECKING, Final, NamedTuple

import botocore.session
from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from sms_automation.adapters.aws_failures import error_code, is_transient
from sms_automation_cli.context import (
    ENV_DLQ_URL,
    ENV_PROCESSOR_FUNCTION,
    ENV_SECRETS_PREFIX,
    ENV_TABLE,
)

if TYPE_CHECKING:
    from sms_automation_cli.context import CliContext

CREDENTIAL_ERRORS: Final = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
)
_NOT_AGAIN: Final = "trying again will not help"


class _Resource(NamedTuple):
    label: str  # the service, as the transient line names it
    what: str  # what the permissions are on
    where: str  # what says which one is the deployment's


_TABLE: Final = _Resource("DynamoDB", "the table", f"--stack, {ENV_TABLE}")
"""Also what a refusal is checked against when the call's service is not known."""

_RESOURCES: Final = {
    "dynamodb": _TABLE,
    "dynamodbstreams": _TABLE,
    "sqs": _Resource("SQS", "the DLQ", f"--stack, {ENV_DLQ_URL}"),
    "secretsmanager": _Resource(
        "Secrets Manager", "the auth token secrets", f"--stack, {ENV_SECRETS_PREFIX}"
    ),
    "lambda": _Resource(
        "Lambda", "the trigger processor function", f"--stack, {ENV_PROCESSOR_FUNCTION}"
    ),
    "stepfunctions": _Resource("Step Functions", "the conversation state machine", "--stack"),
    "cloudformation": _Resource("CloudFormation", "the stack", "--stack"),
}
"""The services the CLI calls, by botocore name."""


def command_name(args: argparse.Namespace) -> str:
    """``sms-automation accounts list``: the command ``args`` were parsed for."""
    words = ["sms-automation", getattr(args, "group", None), getattr(args, "command", None)]
    return " ".join(word for word in words if word)


def aws_failure(error: Exception, context: CliContext, outcome: str) -> str:
    """One line for a failed AWS call: its error code, ``outcome`` (what it means for the
    command), and "try again" when a retry may succeed, else what to check."""
    code = error_code(error)
    if isinstance(error, ProfileNotFound):
        return (
            f"error: the AWS profile in AWS_PROFILE is not configured ({code}); {outcome}. "
            "Set AWS_PROFILE to a profile of ~/.aws/config (aws configure list-profiles), "
            f"or unset it; {_NOT_AGAIN}"
        )
    if isinstance(error, CREDENTIAL_ERRORS):
        return (
            f"error: no usable AWS credentials ({code}); {outcome}. Configure them: "
            "AWS_PROFILE naming a profile of ~/.aws/config (aws configure; for SSO, "
            "aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; "
            f"{_NOT_AGAIN}"
        )
    if isinstance(error, NoRegionError):
        return (
            f"error: no AWS region configured ({code}); {outcome}. Set AWS_DEFAULT_REGION to the "
            "deployment's region, or a region in the profile AWS_PROFILE names "
            f"(aws configure set region REGION); {_NOT_AGAIN}"
        )
    operation = error.operation_name if isinstance(error, ClientError) else None
    service = _service_of(operation) if operation else None
    resource = _RESOURCES.get(service or "")
    if is_transient(error):
        who = resource.label if resource else "AWS"
        return f"error: {who} did not answer or refused for now ({code}); {outcome}: try again"
    resource = resource or _TABLE
    on = resource.what
    if resource is _TABLE:
        table = context.known_table_name()
        on = f"table {table!r}" if table else "the deployment's table"
    action = f" ({_iam_prefix(service)}:{operation})" if service and operation else ""
    return (
        f"error: AWS refused the request ({code}); {outcome}. Check your AWS credentials "
        f"(profile, region), their permissions on {on}{action}, and that {resource.what} is "
        f"the deployment's ({resource.where}); {_NOT_AGAIN}"
    )


def _iam_prefix(service: str) -> str:
    return {"dynamodbstreams": "dynamodb", "stepfunctions": "states"}.get(service, service)


@functools.cache
def _service_of(operation: str) -> str | None:
    """The service (of those the CLI calls) with an operation of that name (botocore's
    models, read only when a call has failed)."""
    session = botocore.session.get_session()
    for service in _RESOURCES:
        if operation in session.get_service_model(service).operation_names:
            return service
    return None
