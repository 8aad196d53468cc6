"""Building the stored item and ThinkAutomation's text from a verified message."""

from __future__ import annotations

from typing import Any

import pytest

from sms_automation import keys
from sms_automation.inbound.message import (
    InboundMessage,
    channel_of,
    media_of,
    thinkautomation_text,
)
from tests.support.events import inbound_example, inbound_examples

HEADERS = {"User-Agent": "TwilioProxy/1.1", "X-Twilio-Signature": "c2lnbmF0dXJl"}


def message(example_id: str, account: str = "acme") -> InboundMessage:
    params = tuple(tuple(pair) for pair in inbound_example(example_id)["params"])
    return InboundMessage(account, "2026-11-26T18:00:00.000Z", params, HEADERS)  # type: ignore[arg-type]


@pytest.mark.parametrize("example", inbound_examples()["examples"], ids=lambda e: e["id"])
def test_item_keeps_every_param_verbatim_and_derives_the_channel(example: dict[str, Any]) -> None:
    item = message(example["id"]).to_item()
    assert item["params"] == dict(example["params"])
    assert item["channel"] == example["channel"]
    assert item["kind"] == keys.KIND_INBOUND_MESSAGE
    assert item["pk"] == f"MSG#{item['message_sid']}"


def test_item_indexes_the_message_under_its_account_by_time() -> None:
    item = message("sms_plain").to_item()
    assert item[keys.GSI1_PK] == "ACCOUNT#acme#MESSAGES"
    assert item[keys.GSI1_SK] == "2026-11-26T18:00:00.000Z#SM11111111111111111111111111111111"


def test_item_lists_mms_media_in_order() -> None:
    item = message("mms_two_images").to_item()
    assert item["num_media"] == 2
    assert [m["content_type"] for m in item["media"]] == ["image/jpeg", "image/png"]
    assert item["media"][1]["url"].endswith("/Media/ME00000000000000000000000000000002")


def test_item_types_whatsapp_fields() -> None:
    item = message("whatsapp_text").to_item()
    assert item["from_number"] == "whatsapp:+14155550103"
    assert item["profile_name"] == "Zoë 🌻"
    assert item["wa_id"] == "14155550103"
    assert item["messaging_service_sid"].startswith("MG")


def test_item_records_opt_out_type_for_stop() -> None:
    assert message("sms_stop").to_item()["opt_out_type"] == "STOP"


def test_item_keeps_geography_and_segments() -> None:
    item = message("sms_plain").to_item()
    assert item["from_geo"] == {"city": "BROOKLYN", "state": "NY", "zip": "11201", "country": "US"}
    assert item["to_geo"]["city"] == ""
    assert item["num_segments"] == 1


def test_item_keeps_repeated_params_instead_of_dropping_them() -> None:
    params = (("MessageSid", "SM1x"), ("Tag", "a"), ("Tag", "b"))
    item = InboundMessage("acme", "t", params, {}).to_item()
    assert item["params"]["Tag"] == "a"
    assert item["repeated_params"] == {"Tag": ["a", "b"]}


def test_item_has_no_repeated_params_when_none_repeat() -> None:
    assert "repeated_params" not in message("sms_plain").to_item()


@pytest.mark.parametrize(
    ("address", "num_media", "channel"),
    [
        ("+14155550100", 0, "sms"),
        ("+14155550100", 1, "mms"),
        ("whatsapp:+14155550100", 1, "whatsapp"),
        ("whatsapp:US.1234", 0, "whatsapp"),
        ("messenger:123456", 0, "messenger"),
        ("384387", 0, "sms"),
    ],
)
def test_channel_of_prefix_or_media(address: str, num_media: int, channel: str) -> None:
    assert channel_of(address, num_media) == channel


def test_media_of_stops_at_a_missing_url() -> None:
    assert media_of({"NumMedia": "3", "MediaUrl0": "u0"}) == [{"url": "u0", "content_type": ""}]


def test_thinkautomation_text_matches_the_documented_format() -> None:
    params = dict(inbound_example("sms_plain")["params"])
    text = thinkautomation_text(params, HEADERS)
    assert text == (
        "FROM: +14155550101\n"
        "BODY: Hello there\n"
        "TOCOUNTRY: US\n"
        "TOSTATE: CA\n"
        "SMSMESSAGESID: SM11111111111111111111111111111111\n"
        "SMSSID: SM11111111111111111111111111111111\n"
        "SMSSTATUS: received\n"
        "FROMCOUNTRY: US\n"
        "TO: +15005550006\n"
        "MESSAGESID: SM11111111111111111111111111111111\n"
        "ACCOUNTSID: AC0123456789abcdef0123456789abcdef\n"
        "HTTP_USER_AGENT: TwilioProxy/1.1\n"
        "HTTP_X_TWILIO_SIGNATURE: c2lnbmF0dXJl\n"
    )


def test_thinkautomation_text_is_stored_with_the_item() -> None:
    item = message("sms_stop").to_item()
    assert "BODY: STOP\n" in item["thinkautomation_text"]
