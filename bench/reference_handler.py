"""A straightforward webhook as most projects would write it: Powertools'
``APIGatewayHttpResolver`` (HTTP API, payload 2.0) for routing, twilio-python's
``RequestValidator`` for the signature, ``put_item`` for storage (the same item as the floor).
The auth token is already in memory.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


class ReferenceHandler:
    def __init__(self, table: str, tokens: dict[str, str], dynamodb: Any) -> None:
        self._validators = {account: RequestValidator(token) for account, token in tokens.items()}
        app = APIGatewayHttpResolver()

        @app.post("/twilio/<account>/sms")
        def sms(account: str) -> Response[str]:
            validator = self._validators.get(account)
            if validator is None:
                return Response(404, "application/json", '{"error": "unknown_account"}')
            event = app.current_event
            params = {k: v[0] for k, v in parse_qs(event.decoded_body or "", True).items()}
            url = f"https://{event.request_context.domain_name}{event.raw_path}"
            if not validator.validate(url, params, event.headers.get("X-Twilio-Signature", "")):
                return Response(403, "application/json", '{"error": "invalid_signature"}')
            dynamodb.put_item(
                TableName=table,
                Item={
                    "pk": {"S": "MSG#" + params["MessageSid"]},
                    "sk": {"S": "MSG"},
                    "params": {"M": {name: {"S": value} for name, value in params.items()}},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return Response(200, "text/xml", TWIML)

        self._app = app

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self._app.resolve(event, context)
