"""An item's size as DynamoDB bills it (write units are 1 KB each, rounded up).

From DynamoDB's developer guide, "Item sizes and formats": an item is the sum of its attribute
names' and values' lengths. Strings and binaries are their UTF-8 / byte lengths; a number is
about 1 byte per two significant digits plus 1; a null or boolean 1 byte; a list or map 3 bytes
plus 1 byte per element, plus its elements (a map's names count like attribute names).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, int | float | Decimal):
        digits = len(str(abs(Decimal(str(value)))).replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode("utf-8")) + _value_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(_value_size(v) + 1 for v in value)
    raise TypeError(f"no DynamoDB size for {type(value).__name__}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for ``item`` (plain Python values, as the stores write them)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def write_units(item: Mapping[str, Any]) -> int:
    return max(1, math.ceil(item_size(item) / 1024))
