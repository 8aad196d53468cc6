"""Fuzzing both webhook routes with requests generated from ``docs/openapi/webhooks.yaml``.

At least 10,000 requests go to the real inbound and status handlers, in process, against one
moto backend and one account (nothing is cleared between requests). Each request is signed
validly, with the wrong token, for the other route, with garbage, or not at all, and may be
tampered with after signing; methods, media types, accounts and bodies mix conforming values with
junk. An independent oracle (twilio-python's ``RequestValidator``) says whether what was sent
carries a valid signature. Asserted:

- no answer is 5xx (no fault is injected here: a 503 would be a finding too);
- every answer is a status the description documents for that route and method, with its media
  type; a 200 only for a validly signed request;
- nothing is stored without a valid signature: every stored message and status belongs to a
  validly signed request.

The counts are printed.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from twilio.request_validator import RequestValidator

from functions.inbound_webhook import handler as inbound
from functions.status_callback import handler as status_callback
from sms_automation import keys
from sms_automation.webhooks.signature import url_with_body_hash
from tests.fuzz import openapi_strategies as spec
from tests.support.aws import (
    SECRETS_PREFIX,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    FakeLambdaContext,
    account_registry,
    add_account,
    clear_cached_dependencies,
    use_dummy_aws_credentials,
)
from tests.support.events import api_url, twilio_signature, webhook_event
from tests.support.template import create_table_kwargs

pytestmark = pytest.mark.integration

REQUESTS = int(os.environ.get("FUZZ_REQUESTS", "10000"))
BATCH = 25
MAX_BODY_BYTES = 65_536
PATHS = sorted(spec.spec()["paths"])
HANDLERS = {"sms": inbound, "status": status_callback}
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
SIGNINGS = ("valid", "valid", "valid", "wrong_token", "other_route", "garbage", "missing")


@dataclass(frozen=True)
class Case:
    path: str
    method: str
    account: str
    content_type: str | None
    fields: dict[str, Any]
    extra_pairs: tuple[tuple[str, str], ...]
    raw_junk: str | None  # a body that ignores the schema entirely
    oversized: bool  # a body over MAX_BODY_BYTES
    signing: str
    tamper: bool
    base64_encoded: bool
    fresh_sid: bool

    @property
    def route(self) -> str:
        return spec.route_of(self.path)


@cache
def _content_types(path: str) -> st.SearchStrategy[str | None]:
    documented = spec.request_media_types(path)
    variants = [f"{media}; charset=utf-8" for media in documented]
    junk = ["text/plain", "multipart/form-data", f"{FORM}; charset=latin-1", "", None]
    return st.one_of(
        st.sampled_from(documented),
        st.sampled_from(documented),
        st.sampled_from(variants),
        st.sampled_from(junk),
    )


@cache
def _bodies(path: str, media: str) -> st.SearchStrategy[dict[str, Any]]:
    return spec.from_schema(spec.body_schema(path, media))


@cache
def _accounts(path: str) -> st.SearchStrategy[str]:
    conforming = spec.from_schema(spec.path_parameter_schema(path, "account"))
    return st.one_of(st.just("acme"), st.just("acme"), st.just("acme"), conforming, spec.FREE_TEXT)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    path = draw(st.sampled_from(PATHS))
    documented = list(spec.operations(path))
    others = [method for method in documented if method != "POST"]
    method = draw(st.sampled_from(["POST"] * 30 + [*others, "HEAD", ""]))
    account = draw(_accounts(path))
    content_type = draw(_content_types(path))
    media = (content_type or "").split(";")[0]
    fields = dict(draw(_bodies(path, media if media in (FORM, JSON) else FORM)))
    if draw(st.integers(0, 9)) < 8:  # mostly the account's own AccountSid
        fields["AccountSid"] = TEST_ACCOUNT_SID
    return Case(
        path=path,
        method=method,
        account=account,
        content_type=content_type,
        fields=fields,
        extra_pairs=tuple(draw(st.lists(st.tuples(spec.FREE_TEXT, spec.FREE_TEXT), max_size=2))),
        raw_junk=draw(st.one_of(st.none(), st.none(), st.none(), spec.FREE_TEXT)),
        oversized=draw(st.integers(0, 99)) == 0,
        signing=draw(st.sampled_from(SIGNINGS)),
        tamper=draw(st.integers(0, 9)) == 0,
        base64_encoded=draw(st.booleans()),
        fresh_sid=draw(st.integers(0, 9)) != 0,
    )


class _MultiDict(dict[str, list[str]]):
    """What twilio-python's validator reads repeated form parameters from."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def oracle_valid(url: str, content_type: str | None, raw_body: str, signature: str | None) -> bool:
    """Does what was sent carry a valid signature for ``url``? twilio-python decides."""
    if signature is None:
        return False
    validator = RequestValidator(TEST_AUTH_TOKEN)
    media = (content_type or "").split(";")[0].strip().lower()
    if media == JSON:
        return bool(validator.validate(url, raw_body, signature))
    if media != FORM:
        return False
    try:
        pairs = parse_qsl(raw_body, keep_blank_values=True, strict_parsing=bool(raw_body))
    except (ValueError, UnicodeDecodeError):
        return False
    params = _MultiDict()
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return bool(validator.validate(url, params, signature))


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    valid_sids: dict[str, set[str]] = field(default_factory=lambda: {"sms": set(), "status": set()})
    next_sid: int = 0

    def fresh_sid(self, prefix: str) -> str:
        self.next_sid += 1
        return f"{prefix}{self.next_sid:032x}"


def build(case: Case, tally: Tally) -> tuple[dict[str, Any], str, str | None, bool]:
    """The event, plus what the oracle needs: the raw body, the signature, its validity."""
    fields = dict(case.fields)
    if case.fresh_sid:
        for name, prefix in (("MessageSid", "SM"), ("CallSid", "CA")):
            if name in fields or (name == "MessageSid" and case.route == "sms"):
                fields[name] = tally.fresh_sid(prefix)
    media = (case.content_type or "").split(";")[0].strip().lower()
    if case.raw_junk is not None:
        raw = case.raw_junk
    elif media == JSON:
        raw = json.dumps(fields)
    else:
        raw = urlencode([*fields.items(), *case.extra_pairs])
    if case.oversized:
        raw += "&Padding=" + "x" * MAX_BODY_BYTES
    other = "status" if case.route == "sms" else "sms"
    url = api_url(case.account, route=case.route)
    query = None
    if media == JSON:
        url = url_with_body_hash(url, raw.encode("utf-8", "surrogatepass"))
        query = {"bodySHA256": url.rsplit("bodySHA256=", 1)[1]}
    signed_url = (
        url.replace(f"/{case.route}", f"/{other}") if case.signing == "other_route" else url
    )
    signature: str | None = {
        "valid": lambda: twilio_signature(
            signed_url, "" if media == JSON else raw, TEST_AUTH_TOKEN
        ),
        "other_route": lambda: twilio_signature(
            signed_url, "" if media == JSON else raw, TEST_AUTH_TOKEN
        ),
        "wrong_token": lambda: twilio_signature(url, raw, "f" * 32),
        "garbage": lambda: base64.b64encode(raw[:20].encode()).decode() or "x",
        "missing": lambda: None,
    }[case.signing]()
    if case.tamper and raw:
        raw = raw[:-1] + ("0" if raw[-1] != "0" else "1")
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    event = webhook_event(
        case.account,
        raw,
        method=case.method,
        headers=headers,
        content_type=case.content_type,
        base64_encoded=case.base64_encoded,
        query=query,
        route=case.route,
    )
    valid = case.account == "acme" and oracle_valid(url, case.content_type, raw, signature)
    if valid:
        sids = {fields.get(name) for name in ("MessageSid", "CallSid") if fields.get(name)}
        tally.valid_sids[case.route].update(str(sid) for sid in sids)
    return event, raw, signature, valid


@pytest.fixture(scope="module")
def table() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_dummy_aws_credentials(monkeypatch)
        with mock_aws():
            kwargs = create_table_kwargs()
            dynamodb = boto3.client("dynamodb")
            dynamodb.create_table(**kwargs)
            add_account(
                account_registry(kwargs["TableName"], dynamodb, boto3.client("secretsmanager"))
            )
            for name, value in {
                "TABLE_NAME": kwargs["TableName"],
                "SECRETS_PREFIX": SECRETS_PREFIX,
                "PUBLIC_BASE_URL": "",
                "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
            }.items():
                monkeypatch.setenv(name, value)
            monkeypatch.delenv("CONVERSATION_STATE_MACHINE_ARN", raising=False)
            for module in HANDLERS.values():
                clear_cached_dependencies(module)
            yield kwargs["TableName"]
            for module in HANDLERS.values():
                clear_cached_dependencies(module)


def stored_sids(table: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"sms": set(), "status": set(), "other": set()}
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table)
    for item in (item for page in pages for item in page["Items"]):
        kind = item["kind"]["S"]
        if kind in (keys.KIND_ACCOUNT, keys.KIND_DAY_FIGURES):  # a signed failure counts its day
            continue
        if kind == keys.KIND_INBOUND_MESSAGE:
            found["sms"].add(item["message_sid"]["S"])
        elif kind in (keys.KIND_OUTBOUND, keys.KIND_OUTBOUND_STATUS):
            found["status"].add(item["sid"]["S"])
        else:
            found["other"].add(f"{kind}:{item['pk']['S']}")
    return found


def test_generated_requests_never_5xx_nor_store_without_a_valid_signature(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tally = Tally()
    documented = {
        (path, method): spec.documented_statuses(path, method)
        for path in PATHS
        for method in spec.operations(path)
    }

    @settings(
        max_examples=REQUESTS // BATCH,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(cases(), min_size=BATCH, max_size=BATCH))
    def send(batch: list[Case]) -> None:
        for case in batch:
            event, _, _, valid = build(case, tally)
            response = HANDLERS[case.route].lambda_handler(event, FakeLambdaContext())
            status = response["statusCode"]
            tally.sent[f"{case.route} {'valid' if valid else 'invalid'}"] += 1
            tally.statuses[f"{case.route} {status}"] += 1
            assert status < 500, (case, response)
            allowed = documented.get((case.path, case.method), {405: JSON})
            assert status in allowed, (case, response)
            assert response["headers"]["Content-Type"] == allowed[status], (case, response)
            assert status != 200 or valid, (case, response)

    send()

    stored = stored_sids(table)
    with capsys.disabled():
        print(
            f"\nfuzz: {sum(tally.sent.values())} requests ({dict(sorted(tally.sent.items()))}); "
            f"answers {dict(sorted(tally.statuses.items()))}; stored {len(stored['sms'])} "
            f"messages and statuses of {len(stored['status'])} Sids, "
            f"{
                len(stored['sms'] - tally.valid_sids['sms'])
                + len(stored['status'] - tally.valid_sids['status'])
            } without a valid signature"
        )
    assert sum(tally.sent.values()) >= REQUESTS
    assert stored["other"] == set()
    assert stored["sms"] <= tally.valid_sids["sms"]
    assert stored["status"] <= tally.valid_sids["status"]
    assert stored["sms"], "no validly signed message was generated: the fuzzer is broken"
    assert stored["status"], "no validly signed status was generated: the fuzzer is broken"
