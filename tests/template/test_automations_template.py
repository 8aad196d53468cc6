"""Automations (issue 8) in template.yaml: the API is SigV4 on every method and invokes its
function itself, each role grants what its handler uses, the schedule sync may touch only the
stack's schedule group, and the stream filters and the rule name what the code expects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation import keys
from sms_automation.automations import events
from tests.support.aws import ACCOUNT_ID, REGION
from tests.support.template import load_template, resolved
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]
API_PATHS = {
    ("/automations/{account}/{name}/runs", "post"),
    ("/automations/{account}/{name}/runs", "get"),
    ("/automations/{account}/{name}/runs/{run_id}", "get"),
    ("/automations/{account}/{name}/broadcasts", "post"),
    ("/automations/{account}/{name}/broadcasts/{broadcast_id}", "get"),
    ("/automations/{account}/{name}/broadcasts/{broadcast_id}/report", "get"),
    ("/automations/{account}/{name}/broadcasts/{broadcast_id}/pause", "post"),
    ("/automations/{account}/{name}/broadcasts/{broadcast_id}/resume", "post"),
    ("/automations/{account}/{name}/broadcasts/{broadcast_id}/cancel", "post"),
}


def role_actions(template: Template, role: str) -> dict[str, list[dict[str, Any]]]:
    """Action -> the statements that grant it, for one transformed role."""
    granted: dict[str, list[dict[str, Any]]] = {}
    for logical_id, statement in checks.policy_statements(template):
        if logical_id == role:
            for action in checks._as_list(statement["Action"]):
                granted.setdefault(action, []).append(statement)
    return granted


def test_every_automations_api_route_is_aws_iam(raw_template: Template) -> None:
    routes = {
        key: route
        for key, route in checks.http_api_routes(raw_template).items()
        if route["api"] == "AutomationsApi"
    }
    assert {
        (path, method.lower()) for method, path in (key.split(" ", 1) for key in routes)
    } == API_PATHS, "no OPTIONS (no CORS), no $default route, no other route"
    for key, route in routes.items():
        assert route["authorization"] == "AWS_IAM", key
        assert route["function"] == "AutomationApiFunction", key


def test_the_automations_api_has_no_key_cors_authorizer_or_public_route(
    raw_template: Template,
) -> None:
    api = raw_template["Resources"]["AutomationsApi"]["Properties"]
    assert "CorsConfiguration" not in api
    assert "Body" not in api
    for _, route in checks.resources(raw_template, checks.HTTP_API_ROUTE):
        properties = route["Properties"]
        if properties["ApiId"] != {"Ref": "AutomationsApi"}:
            continue  # the console API's routes have their JWT authorizer (test_console_template)
        assert "ApiKeyRequired" not in properties
        assert "AuthorizerId" not in properties
    # API Gateway invokes the function under its own resource permission: the integration
    # carries no credentials, so callers never need lambda:InvokeFunction.
    integration = raw_template["Resources"]["AutomationApiIntegration"]["Properties"]
    assert "CredentialsArn" not in integration
    permission = raw_template["Resources"]["AutomationApiPermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert "${AutomationsApi}/" in permission["SourceArn"]["Fn::Sub"]


def test_api_role_reads_and_starts_runs_only(transformed_template: Template) -> None:
    granted = role_actions(transformed_template, "AutomationApiFunctionRole")
    assert sorted(granted) == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        # broadcasts: start one, read its progress and its rows file (for a report); pause,
        # resume, cancel: its record's status, its execution stopped
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:ListBucketVersions",
        "states:DescribeExecution",
        "states:DescribeMapRun",
        "states:ListMapRuns",
        "states:StartExecution",
        "states:StopExecution",
    ]
    (rows,) = granted["s3:GetObject"]
    assert rows["Resource"] == {"Fn::Sub": "${BroadcastsBucket.Arn}/rows/*"}
    # a start identifies its file (ETag, version) from the uploads' version listing: no contacts
    (versions,) = granted["s3:ListBucketVersions"]
    assert versions["Resource"] == {"Fn::GetAtt": ["BroadcastsBucket", "Arn"]}
    assert versions["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*"]}}
    (status,) = granted["dynamodb:UpdateItem"]
    assert status["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["BROADCAST#*"]}
    }, "the API updates broadcast records only (never a run, a contact or an account)"
    (stop,) = granted["states:StopExecution"]
    assert stop["Resource"]["Fn::Sub"].endswith(":execution:${AWS::StackName}-broadcast:*")


def test_events_role_starts_runs_and_scheduled_broadcasts_only(
    transformed_template: Template,
) -> None:
    granted = role_actions(transformed_template, "AutomationEventsFunctionRole")
    assert sorted(granted) == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "sqs:SendMessage",
        "states:StartExecution",
    ]
    (dlq,) = granted["sqs:SendMessage"]
    assert dlq["Resource"] == {"Fn::GetAtt": ["AutomationsDLQ", "Arn"]}
    # A schedule's broadcast: its file's name seen in a listing of uploads/ (never its
    # contacts: no s3:GetObject), its execution started on the broadcast machine only.
    (listing,) = granted["s3:ListBucket"]
    assert granted["s3:ListBucketVersions"] == [listing]  # the start pins the file's version
    assert listing["Resource"] == {"Fn::GetAtt": ["BroadcastsBucket", "Arn"]}
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["uploads/*"]}}
    (start,) = granted["states:StartExecution"]
    assert start["Resource"]["Fn::Sub"].endswith(":stateMachine:${AWS::StackName}-broadcast")


def test_sync_role_manages_only_the_groups_schedules(transformed_template: Template) -> None:
    granted = role_actions(transformed_template, "ScheduleSyncFunctionRole")
    scheduler = {action for action in granted if action.startswith("scheduler:")}
    assert scheduler == {
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:ListSchedules",
    }
    group_schedules = {
        "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
        "schedule/${AutomationSchedules}/*"
    }
    for action in scheduler - {"scheduler:ListSchedules"}:
        for statement in granted[action]:
            assert statement["Resource"] == group_schedules, action
    (pass_role,) = granted["iam:PassRole"]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["AutomationSchedulerRole", "Arn"]}
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
    assert set(granted) - scheduler == {"iam:PassRole", "dynamodb:GetItem", "sqs:SendMessage"}


def test_scheduler_role_may_only_invoke_automation_events(raw_template: Template) -> None:
    role = raw_template["Resources"]["AutomationSchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"},
        "aws:SourceArn": {"Fn::GetAtt": ["AutomationSchedules", "Arn"]},
    }
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("lambda:InvokeFunction", {"Fn::GetAtt": ["AutomationEventsFunction", "Arn"]})
    ]


def test_sync_function_targets_what_the_role_allows(raw_template: Template) -> None:
    variables = raw_template["Resources"]["ScheduleSyncFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["SCHEDULE_GROUP_NAME"] == {"Ref": "AutomationSchedules"}
    assert variables["AUTOMATION_EVENTS_FUNCTION_ARN"] == {
        "Fn::GetAtt": ["AutomationEventsFunction", "Arn"]
    }
    assert variables["SCHEDULER_ROLE_ARN"] == {"Fn::GetAtt": ["AutomationSchedulerRole", "Arn"]}


def test_sync_stream_filters_name_the_trigger_pointer(raw_template: Template) -> None:
    mapping = raw_template["Resources"]["ScheduleSyncFunction"]["Properties"]["Events"][
        "TriggerPointers"
    ]["Properties"]
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert patterns == [
        {
            "eventName": ["INSERT", "MODIFY"],
            "dynamodb": {"NewImage": {"kind": {"S": [keys.KIND_TRIGGER_POINTER]}}},
        },
        {
            "eventName": ["MODIFY"],
            "dynamodb": {"NewImage": {"kind": {"S": [keys.KIND_ACCOUNT]}}},
        },
        {
            "eventName": ["REMOVE"],
            "dynamodb": {"Keys": {keys.SK: {"S": [keys.trigger_pointer_key("any")[keys.SK]]}}},
        },
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["AutomationsDLQ", "Arn"]
    }


def test_processor_stream_filter_lets_started_runs_through(raw_template: Template) -> None:
    """A started run is only an origin item in the table: if the trigger processor's filter
    left ``automation_run`` out, no run would ever be run on AWS."""
    mapping = raw_template["Resources"]["TriggerProcessorFunction"]["Properties"]["Events"][
        "NewInboundMessages"
    ]["Properties"]
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern["eventName"] == ["INSERT"]
    assert set(pattern["dynamodb"]["NewImage"]["kind"]["S"]) == keys.PROCESSED_KINDS
    assert keys.KIND_AUTOMATION_RUN in keys.PROCESSED_KINDS


def test_events_rule_and_failures(raw_template: Template) -> None:
    function = raw_template["Resources"]["AutomationEventsFunction"]["Properties"]
    rule = function["Events"]["StartEvent"]["Properties"]
    assert rule["Pattern"] == {"source": [events.SOURCE], "detail-type": [events.DETAIL_TYPE]}
    assert rule["EventBusName"] == {"Ref": "AutomationsEventBus"}
    assert raw_template["Resources"]["AutomationsEventBus"]["Type"] == "AWS::Events::EventBus"
    invoke = function["EventInvokeConfig"]
    assert invoke["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["AutomationsDLQ", "Arn"]},
    }
    dlq = raw_template["Resources"]["AutomationsDLQ"]["Properties"]
    assert dlq["SqsManagedSseEnabled"] is True


def bus_policy(stack_name: str, **parameters: Any) -> dict[str, Any]:
    bus = load_template()["Resources"]["AutomationsEventBus"]["Properties"]
    return dict(resolved(bus, stack_name=stack_name, parameters=parameters))


def test_each_stack_has_its_own_bus() -> None:
    names = {bus_policy(stack)["Name"] for stack in ("sms-automation", "sms-automation-prod")}
    assert names == {"sms-automation-automations", "sms-automation-prod-automations"}


def test_bus_policy_lets_this_account_put_start_events_only() -> None:
    """Only this account (and the accounts a parameter lists) may put events on the bus, and
    nobody may put an event of another source or detail-type (Deny beats any Allow)."""
    bus = bus_policy("dev")
    arn = f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/dev-automations"
    statements = bus["Policy"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert [(s["Principal"], s["Action"], s["Resource"]) for s in allows] == [
        ({"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "events:PutEvents", arn)
    ]
    denies = {
        key: (s["Principal"], s["Action"], s["Resource"], value)
        for s in statements
        if s["Effect"] == "Deny"
        for key, value in s["Condition"]["StringNotEquals"].items()
    }
    assert denies == {
        "events:source": ("*", "events:PutEvents", arn, events.SOURCE),
        "events:detail-type": ("*", "events:PutEvents", arn, events.DETAIL_TYPE),
    }
    more = bus_policy("dev", AutomationsEventSenderAccounts=["111122223333", "444455556666"])
    principals = [s["Principal"] for s in more["Policy"]["Statement"] if s["Effect"] == "Allow"]
    assert principals[1:] == [{"AWS": ["111122223333", "444455556666"]}]


def test_outputs_name_the_automations_entry_points(raw_template: Template) -> None:
    names = [
        "AutomationsApiUrl",
        "AutomationsApiId",
        "AutomationRunsUrlPattern",
        "AutomationsEventBusName",
        "AutomationsEventBusArn",
        "AutomationEventsFunctionName",
        "AutomationScheduleGroupName",
        "AutomationsDLQUrl",
    ]
    assert checks.missing_outputs(raw_template, names) == []
