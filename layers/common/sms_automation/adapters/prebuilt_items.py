"""PutItem items we wrote in DynamoDB JSON ourselves, sent without botocore walking them again.

Our serializer already writes wire-format AttributeValues; botocore's JSON serializer then walks
every one of them again (~90 µs of a warm webhook request for the ~105 AttributeValues of a
message item, measured before this module) only to copy them. ``prebuilt_item`` marks an item
made only of plain values (a ``PrebuiltItem``), and a client wrapped by ``send_prebuilt_items``
writes such an Item's JSON into botocore's request body, where botocore wrote an empty Item;
everything else (other operations, other items, every other parameter, headers, URL, method)
is botocore's own work.
"""

from __future__ import annotations

import json
from typing import Any

from sms_automation.adapters.dynamo_json import NotPlain, plain_attributes, to_attributes

_EMPTY_ITEM = b'"Item": {}'  # how botocore writes an empty Item: the place ours goes
# json.dumps' output, without looking for cycles a tree built from plain values cannot have (a
# cycle never gets here: plain_attribute would recurse without end first): ~25 % faster.
_encode = json.JSONEncoder(check_circular=False).encode


class PrebuiltItem(dict[str, Any]):
    """An Item already in DynamoDB JSON made only of ``S``, ``N``, ``M``, ``L``, ``BOOL`` and
    ``NULL`` (no ``B``/``BS``, which need base64, nor sets): ``json.dumps`` of it is exactly
    the JSON botocore would write. Build it with ``prebuilt_item`` only: the wrapped serializer
    trusts it (botocore neither validates nor re-serializes it; DynamoDB still validates it)."""

    __slots__ = ()


def prebuilt_item(item: dict[str, Any]) -> dict[str, Any]:
    """The item's AttributeValues: a ``PrebuiltItem`` when every value is plain
    (``dynamo_json.plain_attribute``), otherwise the ordinary ``to_attributes(item)`` (a plain
    dict, which botocore serializes as always)."""
    try:
        return PrebuiltItem(plain_attributes(item))
    except NotPlain:
        return to_attributes(item)


class _PrebuiltItemSerializer:
    """Botocore's serializer, except for the ``Item`` of a PutItem that is a ``PrebuiltItem``."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> Any:
        item = parameters.get("Item")
        if operation_model.name != "PutItem" or type(item) is not PrebuiltItem:
            return self._real.serialize_to_request(parameters, operation_model)
        # Botocore builds the request (headers, URL, method, host prefix, every other
        # parameter: an ExpressionAttributeValues B is base64-encoded there) with an empty Item;
        # the Item is then put back in its place, in its order, as botocore would write it.
        request = self._real.serialize_to_request({**parameters, "Item": {}}, operation_model)
        body = request["body"]
        if body.count(_EMPTY_ITEM) != 1:  # the model renamed Item, or another one is empty
            return self._real.serialize_to_request(parameters, operation_model)
        # JSONSerializer: json.dumps with its defaults (ensure_ascii, ", " and ": "), UTF-8; a
        # nested value is written as json.dumps writes it alone, so the splice is exact.
        request["body"] = body.replace(_EMPTY_ITEM, b'"Item": ' + _encode(item).encode())
        return request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def send_prebuilt_items(client: Any) -> bool:
    """Make a DynamoDB client send each PutItem ``PrebuiltItem`` with ``json.dumps``: True when
    it now does, False (the client unchanged) when it already did or cannot.

    This replaces ``client._serializer``, a private botocore attribute (the object
    ``BaseClient._convert_to_request_dict`` asks for each request). That is acceptable here
    because it is guarded and tested: only the JSON protocol is wrapped, only a PutItem whose
    Item is a ``PrebuiltItem`` takes the other path, and that path still lets botocore build
    the whole request but the Item; ``tests/unit/test_prebuilt_items.py`` checks the requests
    are byte for byte botocore's and fails if botocore loses ``_serializer``. Without the
    attribute, nothing changes: botocore serializes every item itself, as before.

    On a client with ``parameter_validation`` on, botocore's check (inside ``_serializer``) sees
    the empty Item too: a ``PrebuiltItem`` is valid by construction, and DynamoDB validates it.
    """
    real = getattr(client, "_serializer", None)
    if real is None or isinstance(real, _PrebuiltItemSerializer):
        return False
    if client.meta.service_model.resolved_protocol != "json":  # the body would not be JSON
        return False
    client._serializer = _PrebuiltItemSerializer(real)
    return True
