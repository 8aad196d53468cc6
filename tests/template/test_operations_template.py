"""Operations (issue 6): the dashboard shows what the code really emits, every alarm notifies the
encrypted topic, every function has its alarms, every function log group masks phone numbers.

The metrics the handlers emit are read from their source and their composition's
(``sms_automation.composition``: ``add_metric`` / ``single_metric`` and
the dimensions added before them, plus Powertools' ``service`` dimension; the webhooks' request
lines: ``Count(name=..., dimensions={...})`` and the route's ``rejected_metric`` by Reason), so
renaming a metric in a handler without the dashboard (or the other way round) fails here.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.template import ROOT
from tests.template import checks

pytestmark = pytest.mark.template

Template = dict[str, Any]
NAMESPACE = "SmsAutomation"
TOPIC_REF = {"Ref": "AlarmTopic"}
SQS_QUEUE = "AWS::SQS::Queue"
APP = ROOT / "layers" / "common" / "sms_automation" / "composition"
PHONE_IDENTIFIERS = {"PhoneNumber-US", "PhoneNumber-GB", "E164PhoneNumber"}


@dataclass(frozen=True, slots=True)
class EmittedMetric:
    name: str
    service: str
    dimensions: frozenset[str]  # besides ``service``


# --- what the code emits -----------------------------------------------------------------------


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _keyword(node: ast.Call, name: str) -> str | None:
    for keyword in node.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            return value if isinstance(value, str) else None
    return None


def _metric_names(node: ast.Call, tables: dict[str, list[str]]) -> list[str]:
    """``name="X"``, or every value of ``name=TABLE[key]`` for a module-level dict of names."""
    constant = _keyword(node, "name")
    if constant:
        return [constant]
    for keyword in node.keywords:
        value = keyword.value
        if (
            keyword.arg == "name"
            and isinstance(value, ast.Subscript)
            and isinstance(value.value, ast.Name)
        ):
            return tables.get(value.value.id, [])
    return []


def _name_tables(module: ast.Module) -> dict[str, list[str]]:
    """Module-level ``NAME = {"key": "Metric", ...}`` mappings (the outcome -> metric tables)."""
    tables = {}
    for statement in module.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Dict)
        ):
            values = [v.value for v in statement.value.values if isinstance(v, ast.Constant)]
            tables[statement.targets[0].id] = [v for v in values if isinstance(v, str)]
    return tables


def _route_rejections(module: ast.Module) -> set[tuple[str, frozenset[str]]]:
    """A Twilio webhook route counts its rejections itself (``webhooks.route``), by Reason."""
    return {
        (rejected, frozenset({"Reason"}))
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and _call_name(node) == "TwilioRoute"
        for rejected in [_keyword(node, "rejected_metric")]
        if rejected
    }


def _count_dimensions(node: ast.Call) -> frozenset[str]:
    """The keys of a request line ``Count``'s ``dimensions={...}`` literal."""
    for keyword in node.keywords:
        if keyword.arg == "dimensions" and isinstance(keyword.value, ast.Dict):
            return frozenset(
                key.value
                for key in keyword.value.keys
                if isinstance(key, ast.Constant) and isinstance(key.value, str)
            )
    return frozenset()


def _counted(
    call: ast.Call, tables: dict[str, list[str]], added: frozenset[str]
) -> set[tuple[str, frozenset[str]]]:
    """``add_metric`` (with the dimensions added before it) or a request line's ``Count``."""
    if _call_name(call) == "add_metric":
        return {(name, added) for name in _metric_names(call, tables)}
    if _call_name(call) == "Count":
        return {(name, _count_dimensions(call)) for name in _metric_names(call, tables)}
    return set()


def metrics_in_source(source: str) -> set[tuple[str, frozenset[str]]]:
    """(metric name, extra dimensions) per ``add_metric``/``single_metric`` call.

    A metric carries the dimensions ``add_dimension`` added earlier in the same function (as
    Powertools flushes them together), or inside its ``with single_metric(...)`` block.
    """
    found: set[tuple[str, frozenset[str]]] = set()
    module = ast.parse(source)
    tables = _name_tables(module)
    found |= _route_rejections(module)
    for function in ast.walk(module):
        if not isinstance(function, ast.FunctionDef):
            continue
        calls = sorted(
            (node for node in ast.walk(function) if isinstance(node, ast.Call)),
            key=lambda node: (node.lineno, node.col_offset),
        )
        dimensions: set[str] = set()
        singles: list[tuple[str, ast.With]] = []
        for node in ast.walk(function):
            if isinstance(node, ast.With):
                for item in node.items:
                    call = item.context_expr
                    if isinstance(call, ast.Call) and _call_name(call) == "single_metric":
                        singles.append((_keyword(call, "name") or "", node))
        for call in calls:
            if _call_name(call) == "add_dimension":
                name = _keyword(call, "name")
                inside_single = any(
                    block.lineno <= call.lineno <= (block.end_lineno or 0) for _, block in singles
                )
                if name and name != "service" and not inside_single:
                    dimensions.add(name)
            else:
                found |= _counted(call, tables, frozenset(dimensions))
        for name, block in singles:
            extra = {
                dimension
                for node in ast.walk(block)
                if isinstance(node, ast.Call) and _call_name(node) == "add_dimension"
                for dimension in [_keyword(node, "name")]
                if dimension and dimension != "service"
            }
            found.add((name, frozenset(extra)))
    return found


def emitted_metrics(raw: Template) -> set[EmittedMetric]:
    """Every application metric of every function in the template, with its service name."""
    emitted = set()
    for _, resource in checks.resources(raw, checks.SERVERLESS_FUNCTION):
        properties = checks.effective_function_properties(raw, resource)
        service = properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        handler = checks.handler_module_path(ROOT / properties["CodeUri"], properties["Handler"])
        for source in (handler, *composition_modules(handler)):
            for name, dimensions in metrics_in_source(source.read_text(encoding="utf-8")):
                emitted.add(EmittedMetric(name, service, dimensions))
    return emitted


def composition_modules(module: Path) -> list[Path]:
    """The ``sms_automation.composition`` modules a handler calls, and those they import: where its
    lines and metrics are written."""
    found = []
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "sms_automation.composition":
            found += [APP / f"{alias.name}.py" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "sms_automation.composition."
        ):
            found.append(APP / f"{(node.module or '').rpartition('.')[2]}.py")
    return [
        path for composition in found for path in (composition, *composition_modules(composition))
    ]


def test_source_scan_finds_dimensions_and_single_metrics() -> None:
    source = (
        "_OUTCOMES = {'stored': 'Stored', 'duplicate': 'Duplicate'}\n"
        "def f():\n"
        "    metrics.add_metric(name=_OUTCOMES[outcome], unit=1, value=1)\n"
        "    metrics.add_metric(name='Plain', unit=1, value=1)\n"
        "    metrics.add_dimension(name='Reason', value='x')\n"
        "    metrics.add_metric(name='ByReason', unit=1, value=1)\n"
        "    with single_metric(name='Single', unit=1, value=1) as m:\n"
        "        m.add_dimension(name='service', value='s')\n"
        "        m.add_dimension(name='ErrorCode', value='1')\n"
        "_route = TwilioRoute(name='x', rejected_metric='Refused', lines=l)\n"
        "def g():\n"
        "    return (Count(name=_OUTCOMES[o]), Count(name='ByCode', dimensions={'ErrorCode': c}))\n"
    )
    assert metrics_in_source(source) == {
        ("Stored", frozenset()),
        ("Duplicate", frozenset()),
        ("Plain", frozenset()),
        ("ByReason", frozenset({"Reason"})),
        ("Single", frozenset({"ErrorCode"})),
        ("Refused", frozenset({"Reason"})),
        ("ByCode", frozenset({"ErrorCode"})),
    }


def test_the_handlers_emit_the_documented_metrics(raw_template: Template) -> None:
    names = {metric.name for metric in emitted_metrics(raw_template)}
    assert {"MessagesReceived", "MessagesRejected", "TriggersMatched", "OutboundFailed"} <= names


# --- the dashboard -----------------------------------------------------------------------------

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
_SEARCH = re.compile(
    r"SEARCH\('\{(?P<schema>[^}]*)\}(?P<terms>[^']*)',\s*'(?P<stat>\w+)',\s*(?P<period>\d+)\)"
)
_TERM = re.compile(r'(\w+)="([^"]*)"')


def dashboard_body(raw: Template) -> dict[str, Any]:
    """The DashboardBody with ``${X}`` kept as ``<X>`` (JSON-safe) and parsed."""
    dashboards = list(checks.resources(raw, "AWS::CloudWatch::Dashboard"))
    assert len(dashboards) == 1, "one dashboard"
    body = dashboards[0][1]["Properties"]["DashboardBody"]
    assert isinstance(body, dict), "DashboardBody: !Sub"
    assert isinstance(body.get("Fn::Sub"), str), "DashboardBody: !Sub with a string"
    parsed: dict[str, Any] = json.loads(_SUB_VARIABLE.sub(r"<\1>", body["Fn::Sub"]))
    return parsed


def widget_metrics(body: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(widget title, metric entry) for every entry of every metric widget."""
    return [
        (widget["properties"]["title"], entry)
        for widget in body["widgets"]
        if widget["type"] == "metric"
        for entry in widget["properties"]["metrics"]
    ]


def _plain_metric(entry: list[Any]) -> tuple[str, str, dict[str, str]] | None:
    values = [item for item in entry if not isinstance(item, dict)]
    if len(values) < 2 or len(values) % 2:
        return None
    namespace, name, *pairs = values
    return namespace, name, dict(zip(pairs[::2], pairs[1::2], strict=True))


def _searched_metric(entry: list[Any]) -> tuple[str, str, dict[str, str]] | None:
    options = entry[0] if len(entry) == 1 and isinstance(entry[0], dict) else None
    match = _SEARCH.fullmatch(options.get("expression", "")) if options else None
    if match is None:
        return None
    namespace, *dimension_names = (part.strip() for part in match["schema"].split(","))
    terms = dict(_TERM.findall(match["terms"]))
    name = terms.pop("MetricName")
    return namespace, name, {dimension: terms.get(dimension, "*") for dimension in dimension_names}


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, str, dict[str, str]]]:
    """(title, namespace, metric, dimensions) of plain entries and SEARCH expressions."""
    found = []
    for title, entry in widget_metrics(body):
        parsed = _plain_metric(entry) or _searched_metric(entry)
        assert parsed is not None, f"{title}: unreadable metric entry {entry!r}"
        found.append((title, *parsed))
    return found


def test_application_widgets_reference_metrics_the_code_emits(raw_template: Template) -> None:
    emitted = {(m.name, m.service): m.dimensions for m in emitted_metrics(raw_template)}
    shown = set()
    for title, namespace, name, dimensions in dashboard_metrics(dashboard_body(raw_template)):
        if namespace != NAMESPACE:
            continue
        key = (name, dimensions.get("service", ""))
        assert key in emitted, f"{title}: {name} (service {key[1]!r}) is not emitted by any handler"
        assert set(dimensions) - {"service"} == emitted[key], f"{title}: {name} dimensions"
        shown.add(key)
    assert shown == set(emitted), f"emitted but not on the dashboard: {set(emitted) - shown}"


def test_aws_widgets_name_the_stacks_resources(raw_template: Template) -> None:
    names = {
        properties["FunctionName"]["Fn::Sub"].replace("${AWS::StackName}", "<AWS::StackName>")
        for _, resource in checks.resources(raw_template, checks.SERVERLESS_FUNCTION)
        for properties in [resource["Properties"]]
    }
    by_metric: dict[tuple[str, str], set[str]] = {}
    for _, namespace, name, dimensions in dashboard_metrics(dashboard_body(raw_template)):
        for value in dimensions.values():
            by_metric.setdefault((namespace, name), set()).add(value)
    for metric in ("Duration", "Errors", "Throttles"):
        assert by_metric[("AWS/Lambda", metric)] == names, f"Lambda {metric}: every function"
    assert by_metric[("AWS/Lambda", "IteratorAge")] == {"<AWS::StackName>-trigger-processor"}
    # HTTP APIs' metrics (4xx, 5xx: REST APIs name them 4XXError, 5XXError) per ApiId.
    api_ids = {
        f"<{logical_id}>" for logical_id, _ in checks.resources(raw_template, checks.HTTP_API)
    }
    for metric in ("Count", "4xx", "5xx", "Latency"):
        assert by_metric[("AWS/ApiGateway", metric)] == api_ids
    queues = {
        f"<{logical_id}.QueueName>" for logical_id, _ in checks.resources(raw_template, SQS_QUEUE)
    }
    assert by_metric[("AWS/SQS", "ApproximateNumberOfMessagesVisible")] == queues
    machines = list(checks.resources(raw_template, "AWS::Serverless::StateMachine"))
    for _, machine in machines:
        name = machine["Properties"]["Name"]["Fn::Sub"].replace("${", "<").replace("}", ">")
        for metric in ("ExecutionsStarted", "ExecutionsFailed", "ExecutionsTimedOut"):
            arns = by_metric[("AWS/States", metric)]
            assert any(arn.endswith(f":stateMachine:{name}") for arn in arns), metric


# --- alarms ------------------------------------------------------------------------------------


def alarms(raw: Template) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in checks.resources(raw, "AWS::CloudWatch::Alarm")
    }


def _alarm_metrics(properties: dict[str, Any]) -> list[dict[str, Any]]:
    """The alarm's metric(s): the single-metric form, or each MetricStat of a math alarm."""
    if "MetricName" in properties:
        return [properties]
    queries = properties["Metrics"]
    return [query["MetricStat"]["Metric"] for query in queries if "MetricStat" in query]


def _dimension_values(metric: dict[str, Any]) -> dict[str, Any]:
    return {dimension["Name"]: dimension["Value"] for dimension in metric.get("Dimensions", [])}


def test_every_alarm_notifies_the_topic_on_alarm_and_recovery(raw_template: Template) -> None:
    found = alarms(raw_template)
    assert found
    for logical_id, properties in found.items():
        assert properties.get("AlarmActions") == [TOPIC_REF], logical_id
        assert properties.get("OKActions") == [TOPIC_REF], logical_id
        assert properties.get("TreatMissingData") == "notBreaching", logical_id


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use(raw_template: Template) -> None:
    resources = raw_template["Resources"]
    topic = resources["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlarmTopicKey"}
    key = resources["AlarmTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = [
        statement["Principal"].get("Service")
        for statement in key["KeyPolicy"]["Statement"]
        if isinstance(statement["Principal"], dict)
    ]
    assert "cloudwatch.amazonaws.com" in services
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_every_function_has_an_errors_and_a_throttles_alarm(raw_template: Template) -> None:
    watched: dict[str, set[Any]] = {"Errors": set(), "Throttles": set()}
    for properties in alarms(raw_template).values():
        for metric in _alarm_metrics(properties):
            if metric.get("Namespace") == "AWS/Lambda" and metric["MetricName"] in watched:
                value = _dimension_values(metric)["FunctionName"]
                watched[metric["MetricName"]].add(value["Fn::Sub"])
    functions = {
        resource["Properties"]["FunctionName"]["Fn::Sub"]
        for _, resource in checks.resources(raw_template, checks.SERVERLESS_FUNCTION)
    }
    assert watched == {"Errors": functions, "Throttles": functions}


def _watching(raw: Template, namespace: str, metric_name: str) -> list[dict[str, Any]]:
    return [
        metric
        for properties in alarms(raw).values()
        for metric in _alarm_metrics(properties)
        if metric.get("Namespace") == namespace and metric.get("MetricName") == metric_name
    ]


def test_api_dlq_iterator_age_and_state_machine_are_alarmed(raw_template: Template) -> None:
    apis = _watching(raw_template, "AWS/ApiGateway", "5xx")
    assert sorted(_dimension_values(api)["ApiId"]["Ref"] for api in apis) == [
        logical_id for logical_id, _ in checks.resources(raw_template, checks.HTTP_API)
    ]
    assert all(set(_dimension_values(api)) == {"ApiId"} for api in apis)
    dlqs = _watching(raw_template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert sorted(_dimension_values(dlq)["QueueName"]["Fn::GetAtt"][0] for dlq in dlqs) == sorted(
        logical_id for logical_id, _ in checks.resources(raw_template, SQS_QUEUE)
    )
    (age,) = _watching(raw_template, "AWS/Lambda", "IteratorAge")
    assert _dimension_values(age)["FunctionName"] == {
        "Fn::Sub": "${AWS::StackName}-trigger-processor"
    }
    age_alarm = alarms(raw_template)["StreamIteratorAgeAlarm"]
    assert age_alarm["Threshold"] == {"Ref": "IteratorAgeAlarmSeconds"}
    assert "/ 1000" in next(q["Expression"] for q in age_alarm["Metrics"] if "Expression" in q)
    if list(checks.resources(raw_template, "AWS::Serverless::StateMachine")):
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
            assert _watching(raw_template, "AWS/States", metric), metric


def test_signature_rejection_alarm_watches_the_metric_the_webhook_emits(
    raw_template: Template,
) -> None:
    (metric,) = _watching(raw_template, NAMESPACE, "MessagesRejected")
    dimensions = _dimension_values(metric)
    assert dimensions["Reason"] == "invalid_signature"
    assert EmittedMetric(
        "MessagesRejected", dimensions["service"], frozenset({"Reason"})
    ) in emitted_metrics(raw_template)
    source = (ROOT / "layers/common/sms_automation/webhooks/rejections.py").read_text()
    assert '"invalid_signature"' in source


def test_the_send_cap_alarm_watches_every_function_that_counts_capped_sends(
    raw_template: Template,
) -> None:
    """An SMS over the send cap can be refused wherever automatic messages are sent: the
    processor (triggers, automations), the conversation tasks (prompts, reminders, what
    follows a conversation). The alarm adds them all, a silent service counting 0 (FILL), never
    hiding the others."""
    emitting = {m.service for m in emitted_metrics(raw_template) if m.name == "SendsCapped"}
    watched = {
        _dimension_values(metric)["service"]
        for metric in _watching(raw_template, NAMESPACE, "SendsCapped")
    }
    assert (
        emitting
        == watched
        == {
            "trigger-processor",
            "conversation-register",
            "conversation-timer",
            "conversation-resume",
        }
    )
    alarm = alarms(raw_template)["SendsCappedAlarm"]
    [expression] = [query["Expression"] for query in alarm["Metrics"] if "Expression" in query]
    for query in alarm["Metrics"]:
        if "MetricStat" in query:
            assert f"FILL({query['Id']}, 0)" in expression
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_the_alarms_on_application_metrics_take_no_data_as_nothing_counted(
    raw_template: Template,
) -> None:
    """An application metric is written only when it counts something (``edge.log_lines``
    leaves a 0 out of the line: docs/cost.md): a quiet period has no data point. Every alarm
    on one must read that as 0, never as breaching or as hiding another series."""
    watching = {
        logical_id: properties
        for logical_id, properties in alarms(raw_template).items()
        if any(metric.get("Namespace") == NAMESPACE for metric in _alarm_metrics(properties))
    }
    assert set(watching) == {"SignatureRejectionsAlarm", "SendsCappedAlarm"}
    for logical_id, properties in watching.items():
        assert properties["TreatMissingData"] == "notBreaching", logical_id
        assert properties["ComparisonOperator"].startswith("GreaterThan"), logical_id
        if "Metrics" in properties:
            [expression] = [q["Expression"] for q in properties["Metrics"] if "Expression" in q]
            for query in properties["Metrics"]:
                if "MetricStat" in query:
                    assert f"FILL({query['Id']}, 0)" in expression, logical_id


def test_lambda_s_platform_lines_are_a_parameter_off_by_default(
    transformed_template: Template,
) -> None:
    """Lambda's start and report line per invocation are most of a message's log bytes
    (docs/cost.md): WARN by default, INFO one parameter away. No alarm or dashboard widget
    reads a log line (they read metrics), so nothing depends on them."""
    parameter = transformed_template["Parameters"]["SystemLogLevel"]
    assert parameter["Default"] == "WARN"
    assert set(parameter["AllowedValues"]) == {"WARN", "INFO", "DEBUG"}
    functions = [
        resource
        for resource in transformed_template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    ]
    assert functions
    for function in functions:
        config = function["Properties"]["LoggingConfig"]
        assert config["LogFormat"] == "JSON"
        assert config["SystemLogLevel"] == {"Ref": "SystemLogLevel"}
    widgets = dashboard_body(transformed_template)["widgets"]
    assert {widget["type"] for widget in widgets} <= {"metric", "text"}


# --- logs, limits, outputs ---------------------------------------------------------------------


def test_every_function_log_group_masks_phone_numbers(raw_template: Template) -> None:
    groups = [
        (logical_id, resource["Properties"])
        for logical_id, resource in checks.resources(raw_template, "AWS::Logs::LogGroup")
        if resource["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/")
    ]
    assert len(groups) == len(list(checks.resources(raw_template, checks.SERVERLESS_FUNCTION)))
    policies = []
    for logical_id, properties in groups:
        assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        policy = properties.get("DataProtectionPolicy")
        assert policy is not None, f"{logical_id}: no DataProtectionPolicy"
        operations = [next(iter(statement["Operation"])) for statement in policy["Statement"]]
        assert operations == ["Audit", "Deidentify"], logical_id
        for statement in policy["Statement"]:
            names = {
                item if isinstance(item, str) else item["Fn::Sub"].rsplit("/", 1)[-1]
                for item in statement["DataIdentifier"]
            }
            assert names >= PHONE_IDENTIFIERS, logical_id
        policies.append(policy)
    assert all(policy == policies[0] for policy in policies), "the groups' policies differ"
    (custom,) = policies[0]["Configuration"]["CustomDataIdentifier"]
    pattern = re.compile(custom["Regex"])
    assert pattern.search("from +14155550100 to +447700900123")
    assert not pattern.search("+1********01 SM0123456789abcdef0123456789abcdef")


def test_limits_are_parameters(raw_template: Template) -> None:
    resources = raw_template["Resources"]
    processor = resources["TriggerProcessorFunction"]["Properties"]
    assert processor["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "HasProcessorReservedConcurrency",
            {"Ref": "TriggerProcessorReservedConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    dlq = resources["TriggerProcessorDLQ"]["Properties"]
    assert dlq["MessageRetentionPeriod"] == {"Ref": "DlqRetentionSeconds"}
    assert raw_template["Parameters"]["DlqRetentionSeconds"]["MaxValue"] == 1209600


def test_outputs_give_the_urls_an_operator_needs(raw_template: Template) -> None:
    assert (
        checks.missing_outputs(
            raw_template,
            [
                "MessagingRequestUrlPattern",
                "StatusCallbackUrlPattern",
                "DashboardUrl",
                "AlarmTopicArn",
            ],
        )
        == []
    )
    url, _variables = raw_template["Outputs"]["DashboardUrl"]["Value"]["Fn::Sub"]
    assert url.endswith("#dashboards:name=${OperationsDashboard}")  # the host: test_deploy_outputs


def test_transformed_template_keeps_alarms_dashboard_and_log_policies(
    transformed_template: Template, raw_template: Template
) -> None:
    for kind in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::SNS::Topic"):
        assert dict(checks.resources(transformed_template, kind)) == dict(
            checks.resources(raw_template, kind)
        ), kind
    processor = transformed_template["Resources"]["TriggerProcessorFunction"]["Properties"]
    assert "ReservedConcurrentExecutions" in processor


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_samconfig_environments_set_only_valid_template_parameters(
    raw_template: Template, environment: str
) -> None:
    import shlex
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config[environment]["deploy"]["parameters"]["parameter_overrides"]
    parameters = raw_template["Parameters"]
    for pair in shlex.split(overrides):
        name, _, value = pair.partition("=")
        assert name in parameters, f"{environment}: {name} is not a template parameter"
        declared = parameters[name]
        if "AllowedValues" in declared:
            assert value in [str(v) for v in declared["AllowedValues"]], f"{environment}: {name}"
        if "MinValue" in declared:
            assert float(value) >= declared["MinValue"], f"{environment}: {name}"
        if "MaxValue" in declared:
            assert float(value) <= declared["MaxValue"], f"{environment}: {name}"


def test_the_log_level_cannot_drop_the_metrics(raw_template: Template) -> None:
    """Metrics are log lines (EMF) that Lambda counts as INFO: a WARN or ERROR application log
    level would drop every one of them, and the dashboard and alarms would go blind."""
    allowed = set(raw_template["Parameters"]["LogLevel"]["AllowedValues"])
    assert allowed <= {"DEBUG", "INFO"}


def test_tracing_is_one_parameter_off_by_default(transformed_template: Template) -> None:
    """X-Ray's cost is opt-in: Lambda's Active sampling (1/s + 5 %) cannot be lowered and would
    trace nearly every request at an even volume (docs/cost.md); ``Tracing=Active`` turns it on
    for every function and the state machine at once."""
    parameter = transformed_template["Parameters"]["Tracing"]
    assert parameter["Default"] == "PassThrough"
    assert set(parameter["AllowedValues"]) == {"PassThrough", "Active"}
    resources = transformed_template["Resources"].items()
    functions = {name: r for name, r in resources if r["Type"] == "AWS::Lambda::Function"}
    assert functions
    for name, function in functions.items():
        assert function["Properties"]["TracingConfig"] == {"Mode": {"Ref": "Tracing"}}, name
    machines = [r for _, r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert machines
    for machine in machines:
        assert machine["Properties"]["TracingConfiguration"] == {
            "Enabled": {"Fn::If": ["IsTracingActive", True, False]}
        }
    assert transformed_template["Conditions"]["IsTracingActive"] == {
        "Fn::Equals": [{"Ref": "Tracing"}, "Active"]
    }
