"""DynamoDB JSON (AttributeValues) to and from plain Python values: the one place the adapters
(and nothing else) turn items into the wire format and back.

``to_attributes``/``from_attributes`` for whole items (boto3's ``TypeSerializer`` and
``TypeDeserializer``, numbers back as ``int``/``float``), ``plain_attribute`` for the plain
values our items hold (the same AttributeValues, without boto3's serializer on the webhook's
hot path), ``key_attributes`` for a key's string attributes and ``string_value`` to read one
string out of an item or stream image.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_LARGEST_PLAIN_NUMBER = 10**38  # DynamoDB numbers hold 38 digits; beyond, boto3 decides
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    return {name: serialize(value) for name, value in item.items()}


def serialize(value: Any) -> dict[str, Any]:
    """``TypeSerializer().serialize`` with a fast path for the plain types our items hold.

    The webhook serialises every message on its hot path, and boto3's serializer costs about
    three quarters of a warm request's own work there (``make bench``). Exact ``str``, ``bool``,
    ``int``, ``None``, ``dict`` and ``list`` give the very same AttributeValues
    (``plain_attribute``); a value holding anything else (subclasses, ``Decimal``, sets, tuples,
    bytes, floats, huge ints) goes to boto3's serializer whole.
    """
    try:
        return plain_attribute(value)
    except NotPlain:
        return cast(dict[str, Any], _serializer.serialize(value))


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: plain(_deserializer.deserialize(value)) for name, value in attributes.items()}


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: whole ones become int again."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class NotPlain(TypeError):
    """A value ``plain_attribute`` leaves to boto3's serializer."""


def plain_attribute(value: Any) -> dict[str, Any]:
    """The AttributeValue of a plain value: exact ``str``, ``dict``, ``list``, ``bool``, ``int``
    within DynamoDB's 38 digits, ``None``, nested in any way. Anything else (subclasses,
    ``Decimal``, sets, tuples, bytes, floats, huge ints) raises ``NotPlain``: boto3's
    ``TypeSerializer`` decides those (``serialize``)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": plain_attributes(value)}
    if kind is list:
        return {"L": [plain_attribute(inner) for inner in value]}
    if kind is bool:
        return {"BOOL": value}
    if kind is int and -_LARGEST_PLAIN_NUMBER < value < _LARGEST_PLAIN_NUMBER:
        return {"N": str(value)}
    if value is None:
        return {"NULL": True}
    raise NotPlain(kind.__name__)


def plain_attributes(values: dict[str, Any]) -> dict[str, Any]:
    """``plain_attribute`` of every value of a map (``NotPlain`` if one is not plain)."""
    # Most of a message item's values are text: written here without a call each (make bench).
    return {
        key: {"S": inner} if type(inner) is str else plain_attribute(inner)
        for key, inner in values.items()
    }


def key_attributes(key: Mapping[str, str]) -> dict[str, Any]:
    """A key of string attributes (``keys.message_key(...)``, ...) as AttributeValues."""
    return {name: {"S": value} for name, value in key.items()}


def string_value(image: Mapping[str, Any], name: str) -> str:
    """The string attribute ``name`` of an item or stream image; "" when it is missing or not
    a string."""
    value = image.get(name)
    return str(value.get("S", "")) if isinstance(value, dict) else ""
