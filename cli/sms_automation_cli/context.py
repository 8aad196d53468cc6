"""Where the CLI finds the deployment: environment overrides first, then the stack's outputs.

boto3's normal configuration applies (profile, region, ``AWS_ENDPOINT_URL``), so the same
commands work against AWS, moto server and the local emulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sms_automation import webhook_urls
from sms_automation.adapters.aws_failures import error_code

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

    from sms_automation.adapters.dynamo_stream import StreamsClient
    from sms_automation.adapters.lambda_invoker import LambdaClient

DEFAULT_STACK = "sms-automation"

ENV_STACK = "SMS_AUTOMATION_STACK"
ENV_TABLE = "SMS_AUTOMATION_TABLE"
ENV_SECRETS_PREFIX = "SMS_AUTOMATION_SECRETS_PREFIX"
ENV_WEBHOOK_BASE_URL = "SMS_AUTOMATION_WEBHOOK_BASE_URL"
ENV_TWILIO_API_BASE_URL = "TWILIO_API_BASE_URL"
ENV_DLQ_URL = "SMS_AUTOMATION_DLQ_URL"
ENV_PROCESSOR_FUNCTION = "SMS_AUTOMATION_PROCESSOR_FUNCTION"
ENV_USER_POOL = "SMS_AUTOMATION_USER_POOL_ID"
ENV_BROADCASTS_BUCKET = "SMS_AUTOMATION_BROADCASTS_BUCKET"
ENV_BROADCAST_STATE_MACHINE = "SMS_AUTOMATION_BROADCAST_STATE_MACHINE_ARN"
DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"

# Stack outputs the CLI reads (template.yaml must keep these names).
OUTPUT_TABLE = "TableName"
OUTPUT_SECRETS_PREFIX = "SecretsPrefix"
OUTPUT_WEBHOOK_BASE_URL = "WebhookBaseUrl"
OUTPUT_DLQ_URL = "TriggerProcessorDLQUrl"
OUTPUT_PROCESSOR_FUNCTION = "TriggerProcessorFunctionName"
OUTPUT_USER_POOL = "UserPoolId"
OUTPUT_BROADCASTS_BUCKET = "BroadcastsBucketName"
OUTPUT_BROADCAST_STATE_MACHINE = "BroadcastStateMachineArn"

# A synchronous invoke of the trigger processor may take its whole timeout (120 s); a retry
# after a read timeout would run the same batch concurrently, so there is none.
_INVOKE_CONFIG = Config(read_timeout=150, retries={"mode": "standard", "total_max_attempts": 1})


_NO_SUCH_STACK = "ValidationError"
"""CloudFormation's code for ``Stack with id NAME does not exist``."""


class DeploymentNotFound(RuntimeError):
    pass


@dataclass
class CliContext:
    """Lazily resolved deployment settings and AWS clients for one CLI invocation."""

    stack_name: str = DEFAULT_STACK
    environ: dict[str, str] | None = None

    @property
    def _env(self) -> dict[str, str]:
        return dict(os.environ) if self.environ is None else self.environ

    @cached_property
    def _stack_outputs(self) -> dict[str, str]:
        cfn: CloudFormationClient = boto3.client("cloudformation")
        try:
            stacks = cfn.describe_stacks(StackName=self.stack_name)["Stacks"]
        except cfn.exceptions.ClientError as error:
            if error_code(error) != _NO_SUCH_STACK:
                raise  # denied, throttled, expired credentials: main says what to check
            raise DeploymentNotFound(
                f"stack {self.stack_name!r} not found ({error.response['Error']['Message']}); "
                f"deploy it, pass --stack NAME, or set {ENV_TABLE}, {ENV_SECRETS_PREFIX} "
                f"and {ENV_WEBHOOK_BASE_URL}"
            ) from error
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}

    def _setting(self, env_name: str, output_name: str) -> str:
        value = self._env.get(env_name)
        if value:
            return value
        outputs = self._stack_outputs
        if output_name not in outputs:
            raise DeploymentNotFound(
                f"stack {self.stack_name!r} has no output {output_name!r}; set {env_name}"
            )
        return outputs[output_name]

    @cached_property
    def table_name(self) -> str:
        return self._setting(ENV_TABLE, OUTPUT_TABLE)

    def known_table_name(self) -> str | None:
        """The table's name if known without an AWS call (set, or already resolved)."""
        outputs: dict[str, str] = self.__dict__.get("_stack_outputs", {})  # if read already
        return self._env.get(ENV_TABLE) or outputs.get(OUTPUT_TABLE)

    @cached_property
    def secrets_prefix(self) -> str:
        return self._setting(ENV_SECRETS_PREFIX, OUTPUT_SECRETS_PREFIX)

    @cached_property
    def webhook_base_url(self) -> str:
        return self._setting(ENV_WEBHOOK_BASE_URL, OUTPUT_WEBHOOK_BASE_URL).rstrip("/")

    @property
    def twilio_api_base_url(self) -> str:
        return self._env.get(ENV_TWILIO_API_BASE_URL) or DEFAULT_TWILIO_API_BASE_URL

    @cached_property
    def dlq_url(self) -> str:
        return self._setting(ENV_DLQ_URL, OUTPUT_DLQ_URL)

    @cached_property
    def processor_function_name(self) -> str:
        return self._setting(ENV_PROCESSOR_FUNCTION, OUTPUT_PROCESSOR_FUNCTION)

    @cached_property
    def user_pool_id(self) -> str:
        """The console's Cognito user pool (``sms-automation console``)."""
        return self._setting(ENV_USER_POOL, OUTPUT_USER_POOL)

    @cached_property
    def broadcasts_bucket(self) -> str:
        return self._setting(ENV_BROADCASTS_BUCKET, OUTPUT_BROADCASTS_BUCKET)

    @cached_property
    def broadcast_state_machine_arn(self) -> str:
        return self._setting(ENV_BROADCAST_STATE_MACHINE, OUTPUT_BROADCAST_STATE_MACHINE)

    @cached_property
    def s3(self) -> Any:
        return boto3.client("s3")

    @cached_property
    def stepfunctions(self) -> Any:
        return boto3.client("stepfunctions")

    @cached_property
    def cognito(self) -> Any:
        return boto3.client("cognito-idp")

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb")

    @cached_property
    def dynamodbstreams(self) -> StreamsClient:
        client: StreamsClient = boto3.client("dynamodbstreams")
        return client

    @cached_property
    def sqs(self) -> SQSClient:
        return boto3.client("sqs")

    @cached_property
    def lambda_(self) -> LambdaClient:
        client: LambdaClient = boto3.client("lambda", config=_INVOKE_CONFIG)
        return client

    @cached_property
    def secretsmanager(self) -> SecretsManagerClient:
        return boto3.client("secretsmanager")

    def messaging_request_url(self, account_name: str) -> str:
        return webhook_urls.messaging_request_url(self.webhook_base_url, account_name)
