"""The signed URL's route comes from the event's resource, so every Twilio route shares it."""

from __future__ import annotations

from sms_automation.inbound.request import route_path, signed_url
from tests.support.events import webhook_event


def _status_event() -> dict[str, object]:
    event = webhook_event("acme", "a=b")
    event["resource"] = "/twilio/{account}/status"
    event["requestContext"]["resourcePath"] = "/twilio/{account}/status"
    event["requestContext"]["path"] = "/dev/twilio/acme/status"
    return event


def test_route_path_fills_the_resource_template_with_path_parameters() -> None:
    assert route_path(_status_event()) == "/twilio/acme/status"
    assert route_path(webhook_event("acme", "a=b")) == "/twilio/acme/sms"


def test_route_path_falls_back_to_the_request_contexts_resource_path() -> None:
    event = _status_event()
    del event["resource"]
    assert route_path(event) == "/twilio/acme/status"


def test_route_path_without_a_resource_is_the_messaging_route() -> None:
    assert route_path({"pathParameters": {"account": "acme"}}) == "/twilio/acme/sms"


def test_signed_url_of_the_status_route_with_a_public_base_url() -> None:
    url = signed_url(_status_event(), {}, "https://sms.example.com")
    assert url == "https://sms.example.com/twilio/acme/status"
