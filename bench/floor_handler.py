"""The floor for the warm webhook: the least a correct Twilio webhook can do, standard library
and one DynamoDB client only. Parse the form, check ``X-Twilio-Signature`` (HMAC-SHA1 over the
URL and the sorted parameters), ``put_item`` keyed by MessageSid, answer empty TwiML. The auth
token is already in memory (a warm function's cache); no logs, no metrics, no rotation, no
account checks: nothing a real handler may leave out is missing from *ours*, only from this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qsl

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class FloorHandler:
    def __init__(self, table: str, tokens: dict[str, str], dynamodb: Any) -> None:
        self._table = table
        self._keys = {account: token.encode() for account, token in tokens.items()}
        self._dynamodb = dynamodb

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event["requestContext"]["http"]["method"] != "POST":
            return {"statusCode": 405, "body": ""}
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body).decode()
        params = parse_qsl(body, keep_blank_values=True)
        key = self._keys.get(event["pathParameters"]["account"])
        if key is None:
            return {"statusCode": 404, "body": ""}
        url = f"https://{event['requestContext']['domainName']}{event['rawPath']}"
        signed = url + "".join(name + value for name, value in sorted(params))
        expected = base64.b64encode(hmac.digest(key, signed.encode(), hashlib.sha1))
        signature = (event.get("headers") or {}).get("x-twilio-signature", "").encode()
        if not hmac.compare_digest(expected, signature):
            return {"statusCode": 403, "body": ""}
        fields = dict(params)
        self._dynamodb.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": "MSG#" + fields["MessageSid"]},
                "sk": {"S": "MSG"},
                "params": {"M": {name: {"S": value} for name, value in fields.items()}},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return {"statusCode": 200, "headers": {"Content-Type": "text/xml"}, "body": TWIML}
