"""A message item's AttributeValues: ``to_attributes`` is exactly boto3's ``TypeSerializer``
(its fast path for plain values included), and the webhook path touches no private botocore
attribute (issue 14: the ``_serializer`` swap and ``parameter_validation=False`` are gone)."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_automation.adapters.dynamo_json import to_attributes

ROOT = Path(__file__).resolve().parents[2]
BOTO3 = TypeSerializer()  # the oracle
LARGEST = 10**38 - 1  # 38 digits: DynamoDB's largest number

plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-LARGEST, max_value=LARGEST)
    | st.text()
    | st.sampled_from(["é", "日本語", "😀👍🏽", "\u2028", '"\\\n\t\x00', ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=30,
)


class Name(str):
    """A str subclass: not plain, boto3 decides."""


@settings(max_examples=300)
@given(item=st.dictionaries(st.text(min_size=1, max_size=12), plain_values, max_size=12))
def test_plain_items_serialize_as_boto3_serializes_them(item: dict[str, Any]) -> None:
    assert to_attributes(item) == {name: BOTO3.serialize(value) for name, value in item.items()}


@pytest.mark.parametrize(
    "value",
    [b"\x00\xff", {"a", "b"}, Decimal("1.5"), {"nested": [Decimal(2)]}, ("a", 1), Name("x")],
    ids=["bytes", "set", "decimal", "nested-decimal", "tuple", "str-subclass"],
)
def test_values_that_are_not_plain_are_boto3_s_own(value: Any) -> None:
    assert to_attributes({"value": value}) == {"value": BOTO3.serialize(value)}


@pytest.mark.parametrize("value", [10**38, -(10**38)], ids=["39-digits", "minus-39-digits"])
def test_a_number_beyond_38_digits_is_refused_as_boto3_refuses_it(value: int) -> None:
    with pytest.raises(decimal.Rounded):
        to_attributes({"value": value})


def test_a_float_is_refused_as_boto3_refuses_it() -> None:
    with pytest.raises(TypeError, match="Float types are not supported"):
        to_attributes({"ratio": 0.5})


_PRIVATE_BOTOCORE = re.compile(r"\._serializer\b|\._endpoint\b|parameter_validation\s*=\s*False")


def test_no_code_lambda_runs_touches_botocore_privates_or_skips_validation() -> None:
    sources = [*(ROOT / "layers" / "common").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if _PRIVATE_BOTOCORE.search(line)
    ]
    assert offenders == []
