"""The signed URL's route is the HTTP API's rawPath without a stage, so every route shares it."""

from __future__ import annotations

from sms_automation.webhooks.request import route_path, signed_url
from tests.support.events import webhook_event


def test_route_path_is_the_raw_path_of_the_default_stage() -> None:
    assert route_path(webhook_event("acme", "a=b", route="status")) == "/twilio/acme/status"
    assert route_path(webhook_event("acme", "a=b")) == "/twilio/acme/sms"


def test_route_path_takes_a_named_stages_segment_off_as_aws_puts_it_in_raw_path() -> None:
    event = webhook_event("acme", "a=b", stage="prod", route="status")
    assert event["rawPath"] == "/prod/twilio/acme/status"
    assert route_path(event) == "/twilio/acme/status"


def test_route_path_keeps_a_segment_that_only_starts_like_the_stage() -> None:
    event = webhook_event("acme", "a=b", stage="tw")
    event["rawPath"] = "/twilio/acme/sms"  # "/tw" is a prefix of "/twilio", not a segment
    assert route_path(event) == "/twilio/acme/sms"


def test_signed_url_of_the_status_route_with_a_public_base_url() -> None:
    url = signed_url(webhook_event("acme", "a=b", route="status"), {}, "https://sms.example.com")
    assert url == "https://sms.example.com/twilio/acme/status"


def test_signed_url_of_a_named_stage_without_a_public_base_url_keeps_the_stage() -> None:
    event = webhook_event("acme", "a=b", stage="prod")
    url = signed_url(event, {}, "")
    assert url == "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/twilio/acme/sms"
