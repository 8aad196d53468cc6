"""Reading the local Twilio sandbox as any Twilio client would: its REST API, with the demo
account's credentials (used by ``sms-automation sandbox``, the e2e tests and the benchmarks)."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from typing import Any

from sms_automation_local.demo import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN

PAGE_SIZE = 1000


def list_resources(sandbox_url: str, collection: str, **filters: str) -> list[dict[str, Any]]:
    """``collection``: ``Messages`` or ``Calls``; ``filters``: Twilio's (``To``, ``From``)."""
    query = urllib.parse.urlencode({**filters, "PageSize": str(PAGE_SIZE)})
    url = f"{sandbox_url}/2010-04-01/Accounts/{DEMO_ACCOUNT_SID}/{collection}.json?{query}"
    credentials = base64.b64encode(f"{DEMO_ACCOUNT_SID}:{DEMO_AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})  # noqa: S310 - the local sandbox's http URL
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        page: dict[str, Any] = json.load(response)
    resources: list[dict[str, Any]] = page[collection.lower()]
    return resources
