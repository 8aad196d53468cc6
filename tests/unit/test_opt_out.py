"""The opt-out rule: which bodies are Twilio's keywords, and what a refusal says."""

from __future__ import annotations

import pytest

from sms_automation.opt_out import ContactState, Keyword, keyword_of, sender_of


@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", "  Stop  ", "\tSTOP\n", "StopAll", "unsubscribe", "CANCEL", "end", "Quit"],
)
def test_opt_out_keywords_in_any_case_and_spacing(body: str) -> None:
    found = keyword_of(body)
    assert found is not None
    assert found[0] is Keyword.OPT_OUT
    assert found[1] == body.strip().upper()


@pytest.mark.parametrize("body", ["OPTOUT", "revoke"])
def test_the_newer_opt_out_keywords(body: str) -> None:
    assert keyword_of(body) == (Keyword.OPT_OUT, body.upper())


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("start", Keyword.OPT_IN),
        (" Yes ", Keyword.OPT_IN),
        ("UNSTOP", Keyword.OPT_IN),
        ("help", Keyword.HELP),
        ("Info", Keyword.HELP),
    ],
)
def test_opt_in_and_help_keywords(body: str, kind: Keyword) -> None:
    found = keyword_of(body)
    assert found is not None
    assert found[0] is kind


@pytest.mark.parametrize("body", ["stop it", "please stop", "STOP!", "", "   ", "yes please"])
def test_a_keyword_is_the_whole_body(body: str) -> None:
    assert keyword_of(body) is None


def test_twilio_opt_out_type_decides_alone() -> None:
    assert keyword_of("arrêtez", "STOP") == (Keyword.OPT_OUT, "ARRÊTEZ")
    assert keyword_of("", "START") == (Keyword.OPT_IN, "START")
    assert keyword_of("whatever", "HELP") == (Keyword.HELP, "WHATEVER")


def test_an_unknown_opt_out_type_falls_back_to_the_body() -> None:
    assert keyword_of("hello", "SOMETHING") is None
    assert keyword_of("stop", "SOMETHING") == (Keyword.OPT_OUT, "STOP")


def test_the_account_extra_opt_out_keywords() -> None:
    assert keyword_of(" halt  ", extra_opt_out=["HALT"]) == (Keyword.OPT_OUT, "HALT")
    assert keyword_of("halt") is None


def test_the_sender_is_the_messaging_service_when_there_is_one() -> None:
    number = {"to_number": "+15005550006"}
    assert sender_of(number) == "+15005550006"
    assert sender_of({**number, "messaging_service_sid": "MG" + "0" * 32}) == "MG" + "0" * 32


def test_the_refusal_masks_the_contact() -> None:
    state = ContactState(
        "acme", "+15005550006", "+14155550101", True, "STOP", "2026-12-06T10:00:00.000Z", "SM1"
    )
    assert state.refusal() == ("not sent: +1********01 opted out (STOP, 2026-12-06T10:00:00.000Z)")
