"""PutItem items sent as ``json.dumps`` (prebuilt_items): every request is byte for byte the one
botocore would send, on a real DynamoDB client (no network: requests are captured before)."""

from __future__ import annotations

import base64
import decimal
import json
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.config import Config
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_automation.adapters.dynamo_json import to_attributes
from sms_automation.adapters.message_store import DynamoMessageStore
from sms_automation.adapters.prebuilt_items import (
    PrebuiltItem,
    prebuilt_item,
    send_prebuilt_items,
)

TABLE = "sms-automation-test"
LARGEST = 10**38 - 1  # 38 digits: DynamoDB's largest number, still plain
VALIDATED = Config()
UNVALIDATED = Config(parameter_validation=False)  # the webhook's client


def client(config: Config = VALIDATED, service: str = "dynamodb") -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def wrapped(config: Config = VALIDATED) -> Any:
    dynamodb = client(config)
    assert send_prebuilt_items(dynamodb)
    return dynamodb


BOTO3 = TypeSerializer()  # the oracle for AttributeValues
# Created once: hypothesis runs each property many times on the same clients.
PLAIN_CLIENTS = {"validated": client(VALIDATED), "unvalidated": client(UNVALIDATED)}
WRAPPED_CLIENTS = {"validated": wrapped(VALIDATED), "unvalidated": wrapped(UNVALIDATED)}


def serialized(dynamodb: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request the client's serializer builds (before endpoint, user agent and signing)."""
    model = dynamodb.meta.service_model.operation_model(operation)
    request: dict[str, Any] = dynamodb._serializer.serialize_to_request(params, model)
    return request


def sent(dynamodb: Any, method: str, **params: Any) -> dict[str, Any]:
    """The request a client call would send (URL, headers with the user agent, body), captured
    in ``before-call`` and answered there: nothing reaches the network."""
    requests: list[dict[str, Any]] = []

    def capture(params: dict[str, Any], **kwargs: Any) -> Any:
        requests.append(params)
        return AWSResponse(
            "https://dynamodb.us-east-1.amazonaws.com/", 200, HTTPHeaders(), None
        ), {}

    operation = dynamodb.meta.method_to_api_mapping[method]
    dynamodb.meta.events.register_first(f"before-call.dynamodb.{operation}", capture)
    try:
        getattr(dynamodb, method)(**params)
    finally:
        dynamodb.meta.events.unregister(f"before-call.dynamodb.{operation}", capture)
    (request,) = requests
    return {name: request[name] for name in ("url", "method", "headers", "body", "url_path")}


class RecordingSerializer:
    """Stands for botocore's serializer inside the wrapper: records what it is asked."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.parameters: list[dict[str, Any]] = []

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> Any:
        self.parameters.append(parameters)
        return self.real.serialize_to_request(parameters, operation_model)


def recording(dynamodb: Any) -> RecordingSerializer:
    """The recorder behind a wrapped client's serializer."""
    recorder = RecordingSerializer(dynamodb._serializer._real)
    dynamodb._serializer._real = recorder
    return recorder


# Plain values, nested: text with non-ASCII, emoji and control characters, ints up to 38 digits
# either side of zero, bools, None, lists and maps.
plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-LARGEST, max_value=LARGEST)
    | st.text()
    | st.sampled_from(["é", "日本語", "😀👍🏽", "\u2028", '"\\\n\t\x00', "\ud83d", ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)
plain_items = st.dictionaries(st.text(min_size=1, max_size=12), plain_values, max_size=12)


# Other parameters whose text or keys look like the place the Item goes.
item_lookalikes = st.sampled_from(['"Item": {}', "Item", '{"Item": {}}', "#Item", ""]) | st.text(
    max_size=12
)


@settings(max_examples=300)
@given(
    item=plain_items,
    validation=st.sampled_from(sorted(PLAIN_CLIENTS)),
    condition=item_lookalikes,
    names=st.dictionaries(item_lookalikes, item_lookalikes, max_size=3),
)
def test_a_plain_item_is_sent_as_botocore_sends_it(
    item: dict[str, Any], validation: str, condition: str, names: dict[str, str]
) -> None:
    item = {"pk": "MSG#SM1", "sk": "MSG", **item}
    attributes = prebuilt_item(item)
    assert type(attributes) is PrebuiltItem
    assert attributes == {name: BOTO3.serialize(value) for name, value in item.items()}
    params = {
        "TableName": TABLE,
        "Item": attributes,
        "ConditionExpression": f"attribute_not_exists(pk) {condition}",
        **({"ExpressionAttributeNames": names} if names else {}),
    }
    fast = serialized(WRAPPED_CLIENTS[validation], "PutItem", params)
    botocore = serialized(
        PLAIN_CLIENTS[validation], "PutItem", {**params, "Item": dict(attributes)}
    )
    assert json.loads(fast["body"]) == json.loads(botocore["body"])
    assert fast == botocore  # headers, method, URL and the very bytes of the body
    assert params["Item"] is attributes  # the caller's parameters are left as they were


MESSAGE = {
    "pk": "MSG#SM0123456789abcdef0123456789abcdef",
    "sk": "MSG",
    "params": {"Body": "Olá 😀 — “quoted” \\ back\nslash", "NumMedia": "0"},
    "num_media": 0,
    "num_segments": 1,
    "balance": -(10**37),
    "media": [],
    "repeated_params": {"MediaUrl": ["https://a", "https://b"]},
    "opt_out": None,
    "receive_enabled": True,
    "from_geo": {"city": "São Paulo", "state": "", "zip": "", "country": "BR"},
}


@pytest.mark.parametrize("config", [VALIDATED, UNVALIDATED], ids=["validated", "unvalidated"])
def test_a_put_item_call_sends_the_request_botocore_sends(config: Config) -> None:
    params = {
        "TableName": TABLE,
        "ConditionExpression": "attribute_not_exists(pk) OR #v < :v",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":v": {"N": "3"}, ":b": {"B": b"\x00\xff"}},
        "ReturnValues": "NONE",
    }
    fast_client = wrapped(config)
    recorder = recording(fast_client)
    fast = sent(fast_client, "put_item", **params, Item=prebuilt_item(MESSAGE))
    botocore = sent(client(config), "put_item", **params, Item=to_attributes(MESSAGE))
    assert [parameters["Item"] for parameters in recorder.parameters] == [{}]  # the fast path
    assert fast == botocore
    body = json.loads(fast["body"])
    assert body["ExpressionAttributeValues"][":b"] == {"B": "AP8="}  # still botocore's base64
    assert body["Item"]["params"]["M"]["Body"] == {"S": MESSAGE["params"]["Body"]}  # type: ignore[index]
    assert b"\\ud83d\\ude00" in fast["body"]  # botocore's ensure_ascii: the emoji escaped


class Name(str):
    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        b"\x00\xff",
        {"a", "b"},
        Decimal("1.5"),
        {"nested": [Decimal(2)]},
        ("a", 1),
        frozenset({1, 2}),
        Name("x"),
    ],
    ids=["bytes", "set", "decimal", "nested-decimal", "tuple", "number-set", "str-subclass"],
)
def test_an_item_with_a_value_that_is_not_plain_is_left_to_botocore(value: Any) -> None:
    item = {"pk": "MSG#SM1", "sk": "MSG", "value": value}
    attributes = prebuilt_item(item)
    assert type(attributes) is dict
    assert attributes == to_attributes(item)
    fast_client = wrapped()
    recorder = recording(fast_client)
    params = {"TableName": TABLE, "Item": attributes}
    assert sent(fast_client, "put_item", **params) == sent(client(), "put_item", **params)
    assert recorder.parameters == [params]  # botocore's path, the Item untouched


@pytest.mark.parametrize("value", [10**38, -(10**38)], ids=["39-digits", "minus-39-digits"])
def test_a_number_beyond_38_digits_is_refused_as_boto3_refuses_it(value: int) -> None:
    with pytest.raises(decimal.Rounded):
        prebuilt_item({"pk": "MSG#SM1", "value": value})


def test_bytes_go_to_botocore_which_sends_them_in_base64() -> None:
    attributes = prebuilt_item({"pk": "MSG#SM1", "sk": "MSG", "raw": b"\x00\xff"})
    body = json.loads(sent(wrapped(), "put_item", TableName=TABLE, Item=attributes)["body"])
    assert body["Item"]["raw"] == {"B": base64.b64encode(b"\x00\xff").decode()}


def test_a_float_is_refused_as_boto3_refuses_it() -> None:
    with pytest.raises(TypeError, match="Float types are not supported"):
        prebuilt_item({"pk": "MSG#SM1", "ratio": 0.5})


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("get_item", {"Key": {"pk": {"S": "MSG#SM1"}, "sk": {"S": "MSG"}}}),
        ("put_item", {"Item": {"pk": {"S": "MSG#SM1"}, "blob": {"B": b"\x01"}}}),  # a plain dict
        ("put_item", {"Item": to_attributes({"pk": "MSG#SM1", "n": 1})}),  # also a plain dict
        ("delete_item", {"Key": {"pk": {"S": "MSG#SM1"}, "sk": {"S": "MSG"}}}),
        ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {}}),
    ],
    ids=["get-item", "put-item-dict-with-bytes", "put-item-dict", "delete-item", "query"],
)
def test_other_requests_are_botocore_s_own(method: str, params: dict[str, Any]) -> None:
    fast_client = wrapped()
    recorder = recording(fast_client)
    fast = sent(fast_client, method, TableName=TABLE, **params)
    assert fast == sent(client(), method, TableName=TABLE, **params)
    assert recorder.parameters == [{"TableName": TABLE, **params}]


def test_a_prebuilt_item_elsewhere_than_a_put_item_is_botocore_s_own() -> None:
    """Only PutItem's ``Item`` takes the other path: a key given as a PrebuiltItem does not."""
    fast_client = wrapped()
    recorder = recording(fast_client)
    key = prebuilt_item({"pk": "MSG#SM1", "sk": "MSG"})
    assert type(key) is PrebuiltItem
    assert sent(fast_client, "get_item", TableName=TABLE, Key=key) == sent(
        client(), "get_item", TableName=TABLE, Key=dict(key)
    )
    assert recorder.parameters == [{"TableName": TABLE, "Key": key}]


class ItemElsewhere:
    """A serializer whose model would put the Item under another name (a future botocore)."""

    def __init__(self) -> None:
        self.parameters: list[dict[str, Any]] = []

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> Any:
        self.parameters.append(parameters)
        return {"headers": {}, "body": json.dumps({"Entry": dict(parameters["Item"])}).encode()}


def test_a_body_without_the_item_where_expected_is_left_to_botocore() -> None:
    dynamodb = wrapped()
    dynamodb._serializer._real = real = ItemElsewhere()
    item = prebuilt_item({"pk": "MSG#SM1"})
    request = serialized(dynamodb, "PutItem", {"TableName": TABLE, "Item": item})
    assert [parameters["Item"] for parameters in real.parameters] == [{}, item]
    assert json.loads(request["body"]) == {"Entry": {"pk": {"S": "MSG#SM1"}}}


def test_wrapping_is_idempotent() -> None:
    dynamodb = client()
    real = dynamodb._serializer
    assert send_prebuilt_items(dynamodb) is True
    wrapper = dynamodb._serializer
    assert send_prebuilt_items(dynamodb) is False
    assert dynamodb._serializer is wrapper
    assert wrapper._real is real  # one wrapper, not two


def test_the_wrapper_passes_every_other_attribute_through() -> None:
    dynamodb = client()
    real = dynamodb._serializer
    send_prebuilt_items(dynamodb)
    assert dynamodb._serializer._param_validator is real._param_validator
    with pytest.raises(AttributeError):
        _ = dynamodb._serializer.no_such_attribute


def test_what_cannot_be_wrapped_is_left_as_it_is() -> None:
    assert send_prebuilt_items(object()) is False
    s3 = client(service="s3")  # rest-xml: its bodies are not JSON
    real = s3._serializer
    assert send_prebuilt_items(s3) is False
    assert s3._serializer is real


def test_botocore_still_serializes_requests_through_the_client_s_serializer() -> None:
    """Fails when a botocore upgrade drops or bypasses ``BaseClient._serializer``: the fast path
    would otherwise be lost without a word (``send_prebuilt_items`` returning False)."""
    dynamodb = client(UNVALIDATED)
    assert hasattr(dynamodb, "_serializer")
    assert send_prebuilt_items(dynamodb) is True
    recorder = recording(dynamodb)
    with Stubber(dynamodb) as stubber:
        stubber.add_response("put_item", {})
        store = DynamoMessageStore(TABLE, dynamodb)
        assert store.put_new({"pk": "MSG#SM1", "sk": "MSG", "body": "hi"}) is True
        stubber.assert_no_pending_responses()
    assert [parameters["Item"] for parameters in recorder.parameters] == [{}]


def test_a_second_empty_item_elsewhere_leaves_the_request_to_botocore() -> None:
    """Legacy ``Expected`` may hold an attribute named Item with nothing expected of it."""
    attributes = prebuilt_item(MESSAGE)
    params = {"TableName": TABLE, "Item": attributes, "Expected": {"Item": {}}}
    fast = serialized(WRAPPED_CLIENTS["unvalidated"], "PutItem", params)
    botocore = serialized(
        PLAIN_CLIENTS["unvalidated"], "PutItem", {**params, "Item": dict(attributes)}
    )
    assert fast == botocore
