"""Stream records rebuilt from table items, in the shape the event source mapping delivers.

A replay (a DLQ redrive, a record deferred to the processor's retry queue) sends the message
as it is stored *now* (the webhook writes it once; nothing rewrites it), as an ``INSERT`` with
the item as ``NewImage`` in DynamoDB JSON: exactly what the processor's filter and
``message_from_record`` expect. The item is read by ``adapters.replay_sources``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sms_automation import keys

# A record replayed by time (no stream record known) gets this sequence number.
SYNTHETIC_SEQUENCE_NUMBER = "0"


def stream_record(
    item: Mapping[str, Any], *, sequence_number: str, stream_arn: str, now: datetime
) -> dict[str, Any]:
    """An ``INSERT`` of ``item`` (DynamoDB JSON, e.g. a GetItem answer's ``Item``)."""
    image = dict(item)
    return {
        "eventID": f"redrive-{sequence_number}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": _region(stream_arn),
        "dynamodb": {
            "ApproximateCreationDateTime": int(now.timestamp()),
            "Keys": {keys.PK: image[keys.PK], keys.SK: image[keys.SK]},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "SizeBytes": len(json.dumps(image, separators=(",", ":"))),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": stream_arn,
    }


def stream_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Records": [dict(record) for record in records]}


def _region(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""
