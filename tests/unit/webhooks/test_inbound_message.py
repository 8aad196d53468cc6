"""Building the stored item and ThinkAutomation's text from a verified message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sms_automation import keys
from sms_automation.webhooks.inbound_message import (
    InboundMessage,
    channel_of,
    media_of,
    message_view,
    thinkautomation_text,
)
from tests.support.events import FIXTURES, inbound_example, inbound_examples
from tests.support.item_size import item_size, write_units

HEADERS = {"User-Agent": "TwilioProxy/1.1", "X-Twilio-Signature": "c2lnbmF0dXJl"}


def message(example_id: str, account: str = "acme") -> InboundMessage:
    params = tuple(tuple(pair) for pair in inbound_example(example_id)["params"])
    return InboundMessage(account, "2026-11-26T18:00:00.000Z", params, HEADERS)  # type: ignore[arg-type]


def read(example_id: str) -> dict[str, Any]:
    """The stored item as its readers see it."""
    return message_view(message(example_id).to_item())


@pytest.mark.parametrize("example", inbound_examples()["examples"], ids=lambda e: e["id"])
def test_item_keeps_every_param_verbatim_and_derives_the_channel(example: dict[str, Any]) -> None:
    item = read(example["id"])
    assert item["params"] == dict(example["params"])
    assert item["channel"] == example["channel"]
    assert item["kind"] == keys.KIND_INBOUND_MESSAGE
    assert item["pk"] == f"MSG#{item['message_sid']}"


def test_item_indexes_the_message_under_its_account_by_time() -> None:
    item = message("sms_plain").to_item()
    assert item[keys.GSI1_PK] == "ACCOUNT#acme#MESSAGES"
    assert item[keys.GSI1_SK] == "2026-11-26T18:00:00.000Z#SM11111111111111111111111111111111"


def test_item_lists_mms_media_in_order() -> None:
    item = read("mms_two_images")
    assert item["num_media"] == 2
    assert [m["content_type"] for m in item["media"]] == ["image/jpeg", "image/png"]
    assert item["media"][1]["url"].endswith("/Media/ME00000000000000000000000000000002")


def test_item_types_whatsapp_fields() -> None:
    item = read("whatsapp_text")
    assert item["from_number"] == "whatsapp:+14155550103"
    assert item["profile_name"] == "Zoë 🌻"
    assert item["wa_id"] == "14155550103"
    assert item["messaging_service_sid"].startswith("MG")


def test_item_records_opt_out_type_for_stop() -> None:
    assert read("sms_stop")["opt_out_type"] == "STOP"


def test_item_keeps_geography_and_segments() -> None:
    item = read("sms_plain")
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


def test_thinkautomation_text_is_read_with_the_item() -> None:
    item = read("sms_stop")
    assert "BODY: STOP\n" in item["thinkautomation_text"]


# --- one write unit (docs/cost.md) and what the readers see ------------------------------------

TYPED_COPIES = json.loads((FIXTURES / "stored_messages_typed_copies.json").read_text("utf-8"))
TWILIO_HEADERS: dict[str, str] = TYPED_COPIES["headers"]


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    assert item_size({"ab": "héllo"}) == 2 + 6
    assert item_size({"m": {"k": "v"}, "l": ["x", "yz"]}) == (1 + 3 + 1 + 1 + 1) + (1 + 3 + 2 + 3)
    assert item_size({"n": 12345, "b": True, "z": None}) == (1 + 4) + 2 + 2


@pytest.mark.parametrize("example_id", ["sms_plain", "sms_stop", "whatsapp_text"])
def test_a_typical_inbound_form_is_stored_in_one_write_unit(example_id: str) -> None:
    """All of Twilio's parameters and the kept headers, once: under 1 KB as DynamoDB counts it
    (the typed copies made the same message ~2 KB, two write units)."""
    params = tuple(tuple(pair) for pair in inbound_example(example_id)["params"])
    item = InboundMessage("acme", "2026-11-26T18:00:00.000Z", params, TWILIO_HEADERS).to_item()  # type: ignore[arg-type]
    assert item_size(item) <= 1024
    assert write_units(item) == 1
    assert write_units(TYPED_COPIES["items"][example_id]) == 2


@pytest.mark.parametrize("example_id", sorted(TYPED_COPIES["items"]))
def test_readers_see_every_field_the_typed_copies_gave_them(example_id: str) -> None:
    """What the old item stored is what the new item reads as: no reader loses a field."""
    params = tuple(tuple(pair) for pair in inbound_example(example_id)["params"])
    stored = InboundMessage("acme", "2026-11-26T18:00:00.000Z", params, TWILIO_HEADERS).to_item()  # type: ignore[arg-type]
    assert message_view(stored) == TYPED_COPIES["items"][example_id]


@pytest.mark.parametrize("example_id", sorted(TYPED_COPIES["items"]))
def test_an_item_stored_with_typed_copies_reads_as_it_was_written(example_id: str) -> None:
    old = TYPED_COPIES["items"][example_id]
    assert message_view(old) == old


def test_what_an_item_stores_wins_over_what_is_derived() -> None:
    old = {**TYPED_COPIES["items"]["sms_plain"], "channel": "legacy", "body": "as stored"}
    assert message_view(old)["channel"] == "legacy"
    assert message_view(old)["body"] == "as stored"


def test_an_automation_run_is_read_as_it_is() -> None:
    run = {"kind": keys.KIND_AUTOMATION_RUN, "params": {"From": "+14155550101"}}
    assert message_view(run) == run


def test_the_item_stores_no_typed_copies() -> None:
    item = message("sms_plain").to_item()
    assert set(item) == {
        keys.PK,
        keys.SK,
        keys.GSI1_PK,
        keys.GSI1_SK,
        "kind",
        "account",
        "message_sid",
        "received_at",
        "params",
        "headers",
    }
