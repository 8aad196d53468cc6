"""``http_request`` rendering: substitution encoded for where it goes (URL component, query,
JSON, header), the template's own text kept as written, the host out of a variable's reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sms_automation.triggers import HttpRequest
from sms_automation.triggers.loader import parse_trigger_text
from sms_automation_cli.main import main
from tests.unit.triggers.builders import SENDER, evaluate, message, trigger_set


def http(**fields: Any) -> dict[str, Any]:
    return {"name": "t", "actions": [{"type": "http_request", **fields}]}


def request_for(action: dict[str, Any], **message_fields: str) -> HttpRequest:
    evaluation = evaluate(action, message(**message_fields))
    assert evaluation.errors == ()
    [step] = evaluation.plan
    assert isinstance(step, HttpRequest)
    return step


def sent_query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


def test_a_phone_number_in_the_query_is_sent_with_its_plus_encoded() -> None:
    step = request_for(http(url="https://crm.example.com/api/customers?phone=%From%"))
    assert step.url == "https://crm.example.com/api/customers?phone=%2B447700900123"
    assert sent_query(step.url) == {"phone": [SENDER]}


@pytest.mark.parametrize("body", ["hello world", "café", "a&b=c#d", "100%", "1+1", "x\ny"])
def test_message_text_in_the_query_parses_back_exactly(body: str) -> None:
    step = request_for(http(url="https://x.example/hook?text=%Body%&from=%From%"), Body=body)
    assert sent_query(step.url) == {"text": [body], "from": [SENDER]}


# Any text a message may carry: controls, separators, percent signs, plus signs, any script.
message_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("&=#%+?/;@:[] \t\r\n\x00\x7f\\\"'<>"), st.characters(codec="utf-8")
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(body=message_text, sender=message_text)
def test_any_text_substituted_in_the_query_parses_back_to_the_original(
    body: str, sender: str
) -> None:
    step = request_for(
        http(url="https://x.example/hook?text=%Body%&from=%From%&k=v"), Body=body, From=sender
    )
    assert sent_query(step.url) == {"text": [body], "from": [sender], "k": ["v"]}
    assert urlsplit(step.url).hostname == "x.example"
    assert all(33 <= ord(char) < 127 for char in step.url)


@settings(max_examples=200, deadline=None)
@given(body=message_text)
def test_text_substituted_in_a_path_segment_stays_one_segment(body: str) -> None:
    step = request_for(http(url="https://x.example/users/%Body%/orders?x=1"), Body=body)
    parts = urlsplit(step.url)
    assert parts.hostname == "x.example"
    root, users, segment, orders = parts.path.split("/")
    assert (root, users, orders) == ("", "users", "orders")
    assert unquote(segment, errors="strict") == body
    assert sent_query(step.url) == {"x": ["1"]}


@pytest.mark.parametrize("body", [".", ".."])
def test_a_dot_segment_from_a_variable_cannot_climb_the_path(body: str) -> None:
    step = request_for(http(url="https://x.example/files/%Body%/x"), Body=body)
    assert step.url == f"https://x.example/files/{body.replace('.', '%2E')}/x"


def test_the_templates_own_text_is_kept_as_written() -> None:
    url = "https://user-api.example.com:8443/v1/a%2Fb/items;v=2?q=50%25&sort=-date&flag#top"
    assert request_for(http(url=url)).url == url


def test_a_variable_in_the_fragment_is_encoded() -> None:
    step = request_for(http(url="https://x.example/page#%Body%"), Body="a b#c")
    assert step.url == "https://x.example/page#a%20b%23c"


@pytest.mark.parametrize(
    "body",
    ["evil.com@127.0.0.1", "127.0.0.1#", "evil.com/x", "a:1", "a%2f@b", "a\\b", "a b", "café", ""],
)
def test_a_variable_in_the_host_cannot_change_it(body: str) -> None:
    evaluation = evaluate(http(url="https://%Body%.tenants.example.com/x"), message(Body=body))
    assert evaluation.plan == ()
    [error] = evaluation.errors
    assert "host" in error.message
    if body:
        assert body not in error.message  # message text is not echoed


def test_a_host_label_from_a_variable_is_allowed() -> None:
    step = request_for(http(url="https://%Body%.tenants.example.com/x"), Body="acme-1")
    assert step.url == "https://acme-1.tenants.example.com/x"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("%Body%", "start with http:// or https://"),
        ("%scheme%://x.example/", "start with http:// or https://"),
        ("https://evil.com@%Body%/", "user name"),
        ("https://x.example:%Body%/", "port"),
        ("https://x.exa mple/", "host"),
        ("https:///path", "host"),
        ("https://x.example\\@y/", "host"),
    ],
)
def test_urls_whose_scheme_or_host_is_not_plain_are_refused_when_loaded(url: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        trigger_set(http(url=url))


def test_a_stored_version_with_a_url_refused_now_skips_that_step_and_runs_the_rest() -> None:
    stored = parse_trigger_text(
        "version: 1\n"
        "triggers:\n"
        "  - name: t\n"
        "    actions:\n"
        "      - {type: set_variable, name: base, value: 'http://127.0.0.1'}\n"
        "      - {type: http_request, url: '%base%/admin'}\n"
        "      - {type: send_sms, body: thanks}\n",
        stored=True,
    )
    evaluation = evaluate(stored)
    assert [step.kind for step in evaluation.plan] == ["send_sms"]
    [error] = evaluation.errors
    assert "start with http:// or https://" in error.message


def test_query_mapping_is_encoded_and_appended_to_the_urls_query() -> None:
    step = request_for(
        http(
            url="https://x.example/hook?source=sms#frag",
            query={"phone": "%From%", "text": "%Body%", "a b": "c"},
        ),
        Body="50% off & more = yes",
    )
    assert step.url.endswith("#frag")
    assert sent_query(step.url) == {
        "source": ["sms"],
        "phone": [SENDER],
        "text": ["50% off & more = yes"],
        "a b": ["c"],
    }


def test_json_body_survives_quotes_newlines_and_backslashes() -> None:
    body = 'he said "hi"\nthen \\left}'
    step = request_for(
        http(
            method="POST",
            url="https://x.example/hook",
            json={"text": "%Body%", "from": "%From%", "n": 3, "ok": True, "tags": ["sms", "%To%"]},
        ),
        Body=body,
    )
    assert json.loads(step.body or "") == {
        "text": body,
        "from": SENDER,
        "n": 3,
        "ok": True,
        "tags": ["sms", "+447700900999"],
    }
    assert step.headers == {"Content-Type": "application/json"}


def test_json_body_keeps_the_authors_content_type() -> None:
    step = request_for(
        http(
            method="POST",
            url="https://x.example/hook",
            headers={"content-type": "application/vnd.api+json"},
            json={"a": "%Body%"},
        )
    )
    assert step.headers == {"content-type": "application/vnd.api+json"}


def test_json_and_body_together_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"either 'body' \(text\) or 'json'"):
        trigger_set(http(method="POST", url="https://x.example/", body="x", json={"a": 1}))


@pytest.mark.parametrize("body", ["a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb"])
def test_a_header_value_with_a_control_character_is_refused(body: str) -> None:
    evaluation = evaluate(
        http(url="https://x.example/", headers={"X-Text": "%Body%"}), message(Body=body)
    )
    assert evaluation.plan == ()
    [error] = evaluation.errors
    assert "X-Text" in error.message
    assert "control character" in error.message


def test_a_header_value_keeps_unicode_and_tabs() -> None:
    step = request_for(
        http(url="https://x.example/", headers={"X-Text": "%Body%"}), Body="café\t😀"
    )
    assert step.headers == {"X-Text": "café\t😀"}


def test_triggers_test_json_shows_the_encoded_url_and_the_json_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "http.yaml"
    path.write_text(
        "version: 1\n"
        "triggers:\n"
        "  - name: crm\n"
        "    actions:\n"
        "      - type: http_request\n"
        "        method: POST\n"
        '        url: "https://crm.example.com/api/customers?phone=%From%"\n'
        '        query: {text: "%Body%"}\n'
        '        json: {text: "%Body%", from: "%From%", count: 2}\n'
    )
    body = 'Hi "there" & café +1 = 100%\nbye'
    dry_run = ["triggers", "test", str(path), "--from", "+14155550101", "--to", "+15005550006"]
    code = main([*dry_run, "--body", body, "--json"])
    assert code == 0
    [step] = json.loads(capsys.readouterr().out)["steps"]
    assert sent_query(step["url"]) == {"phone": ["+14155550101"], "text": [body]}
    assert json.loads(step["body"]) == {"text": body, "from": "+14155550101", "count": 2}
    assert step["headers"] == {"Content-Type": "application/json"}
