"""One line per unit of work: the keys and values a Powertools Logger line would have, and a
valid CloudWatch Embedded Metric Format document in the same JSON object."""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import given
from hypothesis import strategies as st

from sms_automation.edge.log_lines import (
    Count,
    LogLine,
    LogLines,
    powertools_timestamp,
)

NOW = 1_795_733_506.487


@dataclass(frozen=True)
class Context:
    function_name: str = "inbound-webhook"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:inbound-webhook"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"


def lines(**kwargs: Any) -> LogLines:
    return LogLines("inbound-webhook", "SmsAutomation", location="inbound_webhook", **kwargs)


def written(outcome: LogLine, correlation_id: str | None = "SM1") -> dict[str, Any]:
    stream = io.StringIO()
    lines(stream=stream, clock=lambda: NOW).write(outcome, Context(), correlation_id)
    text = stream.getvalue()
    assert text.count("\n") == 1, "one line"
    assert text.endswith("\n")
    document: dict[str, Any] = json.loads(text)
    return document


STORED = LogLine(
    level="INFO",
    message="inbound message stored",
    fields={"account": "acme", "outcome": "stored", "channel": "sms", "from": "+1********01"},
    counts=(Count(name="MessagesReceived"),),
)


def powertools_line(fields: dict[str, Any]) -> dict[str, Any]:
    """What Powertools' Logger wrote for the same request (decorated handler, correlation id,
    account appended, the outcome as extra keys)."""
    stream = io.StringIO()
    logger = Logger(service="inbound-webhook", stream=stream, utc=True)

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: Any, context: Any) -> None:
        logger.set_correlation_id("SM1")
        logger.append_keys(account=fields["account"])
        logger.info("inbound message stored", extra=dict(fields.items()))

    handler({}, Context())
    document: dict[str, Any] = json.loads(stream.getvalue())
    return document


def test_the_line_has_powertools_keys_and_values_in_powertools_order() -> None:
    ours = written(STORED)
    theirs = powertools_line(dict(STORED.fields))
    log_keys = [key for key in ours if key not in {"_aws", "MessagesReceived"}]
    assert log_keys == list(theirs)
    for key in set(theirs) - {"timestamp", "location", "cold_start"}:
        assert ours[key] == theirs[key], key
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000", ours["timestamp"])


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_the_timestamp_is_powertools_default_in_utc(now: float) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.created, record.msecs = now, (now - int(now)) * 1000
    assert powertools_timestamp(now) == LambdaPowertoolsFormatter(utc=True).formatTime(record)


def emf_problems(document: dict[str, Any]) -> list[str]:
    """The rules of CloudWatch's EMF specification a document breaks (empty: valid)."""
    problems = []
    metadata = document.get("_aws", {})
    if not isinstance(metadata.get("Timestamp"), int):
        problems.append("_aws.Timestamp must be an integer of milliseconds")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics must be a non-empty list"]
    for directive in directives:
        if not isinstance(directive.get("Namespace"), str):
            problems.append("a directive without a Namespace")
        for names in directive["Dimensions"]:
            if len(names) > 30:
                problems.append("more than 30 dimensions")
            problems += [
                f"dimension {n} is no top-level string"
                for n in names
                if not isinstance(document.get(n), str)
            ]
        if len(directive["Metrics"]) > 100:
            problems.append("more than 100 metrics in a directive")
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            if not isinstance(value, int | float) or isinstance(value, bool):
                problems.append(f"metric {metric['Name']} has no numeric value")
    return problems


def test_the_line_is_a_valid_emf_document_counting_by_service() -> None:
    document = written(STORED)
    assert emf_problems(document) == []
    assert document["_aws"] == {
        "Timestamp": int(NOW * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": "SmsAutomation",
                "Dimensions": [["service"]],
                "Metrics": [{"Name": "MessagesReceived", "Unit": "Count"}],
            }
        ],
    }
    assert document["MessagesReceived"] == 1
    assert document["service"] == "inbound-webhook"


def test_counts_with_other_dimensions_get_their_own_directive() -> None:
    outcome = LogLine(
        level="INFO",
        message="status callback recorded",
        counts=(
            Count(name="StatusCallbacksReceived"),
            Count(name="OutboundFailed", dimensions={"ErrorCode": "30007"}),
            Count(name="StatusCallbacksUnknownSid"),
        ),
    )
    document = written(outcome)
    assert emf_problems(document) == []
    assert [
        (d["Dimensions"], [m["Name"] for m in d["Metrics"]])
        for d in document["_aws"]["CloudWatchMetrics"]
    ] == [
        ([["service"]], ["StatusCallbacksReceived", "StatusCallbacksUnknownSid"]),
        ([["service", "ErrorCode"]], ["OutboundFailed"]),
    ]
    assert document["ErrorCode"] == "30007"


def test_a_count_adds_its_value_and_the_same_metric_twice_adds_up() -> None:
    outcome = LogLine(
        "INFO",
        "batch processed",
        counts=(
            Count(name="RecordsFailed", value=0),
            Count(name="TriggersMatched", value=3),
            Count(name="TriggersMatched"),
        ),
    )
    document = written(outcome)
    assert emf_problems(document) == []
    assert document["TriggersMatched"] == 4
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert [m["Name"] for m in directive["Metrics"]] == ["TriggersMatched"]


def test_a_metric_that_counts_zero_is_left_out_of_the_line() -> None:
    """No data point rather than a 0 (docs/cost.md: ~50 bytes each); the alarms on
    application metrics treat missing data as not breaching."""
    outcome = LogLine(
        "INFO",
        "message processed",
        {"status": "completed"},
        counts=(
            Count(name="MessagesProcessed"),
            Count(name="SendsCapped", value=0),
            Count(name="OutboundFailed", dimensions={"ErrorCode": "30007"}, value=0),
        ),
    )
    document = written(outcome)
    assert emf_problems(document) == []
    assert "SendsCapped" not in document
    assert "OutboundFailed" not in document
    assert "ErrorCode" not in document
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert [m["Name"] for m in directive["Metrics"]] == ["MessagesProcessed"]

    only_zeros = LogLine("INFO", "task done", counts=(Count(name="SendsCapped", value=0),))
    assert "_aws" not in written(only_zeros)


def test_from_environ_names_the_lines_as_powertools_would() -> None:
    environ = {"POWERTOOLS_SERVICE_NAME": "svc", "POWERTOOLS_METRICS_NAMESPACE": "Ns"}
    document = json.loads(LogLines.from_environ(environ, "conversation-timer").encode(STORED, None))
    assert (document["service"], document["location"]) == ("svc", "conversation-timer")
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Ns"
    default = LogLines.from_environ({}, "conversation-timer").encode(STORED, None)
    assert json.loads(default)["service"] == "conversation-timer"
    assert json.loads(default)["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "SmsAutomation"


def test_a_field_named_like_a_metric_or_dimension_is_refused() -> None:
    clash = LogLine("WARNING", "x", {"Reason": "y"}, (Count("Rejected", {"Reason": "z"}),))
    with pytest.raises(ValueError, match="clash"):
        written(clash)
    with pytest.raises(ValueError, match="two sets of dimensions"):
        written(LogLine("INFO", "x", {}, (Count("A"), Count("A", {"R": "1"}))))
    with pytest.raises(ValueError, match="two values"):
        written(LogLine("INFO", "x", {}, (Count("A", {"R": "1"}), Count("B", {"R": "2"}))))


def test_no_metrics_no_emf_block_and_none_fields_left_out() -> None:
    document = written(LogLine("INFO", "m", {"kept": 0, "dropped": None}), None)
    assert "_aws" not in document
    assert "correlation_id" not in document
    assert document["kept"] == 0
    assert "dropped" not in document


def test_cold_start_is_true_on_every_line_of_the_first_invocation_only() -> None:
    stream = io.StringIO()
    writer = lines(stream=stream)
    first, second = Context(), Context(aws_request_id="second-request")
    for context in (first, first, second, first):
        writer.write(STORED, context)
    assert [json.loads(x)["cold_start"] for x in stream.getvalue().splitlines()] == [
        True,
        True,
        False,
        True,  # the same request id: a line of that first invocation
    ]


def test_an_error_is_written_as_powertools_writes_an_exception() -> None:
    try:
        raise RuntimeError("the store is down")
    except RuntimeError as error:
        document = written(LogLine("ERROR", "inbound webhook failed", error=error))
    assert document["exception_name"] == "RuntimeError"
    assert document["exception"].startswith("Traceback (most recent call last):")
    assert document["exception"].endswith("RuntimeError: the store is down")


def test_the_xray_trace_id_is_taken_from_lambda_s_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=5;Sampled=1"
    )
    assert written(STORED)["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_without_a_stream_it_writes_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    lines().write(STORED, None)
    assert json.loads(capsys.readouterr().out)["message"] == "inbound message stored"
