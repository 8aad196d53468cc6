"""The web console on the local stack: ``console/`` published to the stack's own bucket on the
emulator, and a demo admin in the stack's user pool (docs/console.md, docs/local.md).

Served by the emulator's S3 over plain HTTP (``{endpoint}/{bucket}/index.html``), not by the
local CloudFront: the page is then on the same origin as the console API
(``{endpoint}/_aws/execute-api/{id}``) and Cognito (``{endpoint}/``), so nothing depends on the
emulator's CORS answers; and CloudFront's ``redirect-to-https`` answers 301 to a browser (it
cannot add the ``X-Forwarded-Proto`` header the emulator wants). It is the template's bucket and
the same publishing code as ``make deploy``; only the CloudFront headers policy is not in
front of it (the page's meta Content-Security-Policy still is).

The demo admin is created in the pool as an admin would be invited (``AdminCreateUser``, no
mail), put in the template's ``admin`` group (the role the console API reads from
``cognito:groups``) and given a permanent password, so the first sign-in needs no mail and no
new-password step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3

from sms_automation_cli.console_site import CONSOLE_OUTPUTS, ConsoleConfig, api_base_url, publish
from sms_automation_local.demo import DEMO_CONSOLE_EMAIL, DEMO_CONSOLE_PASSWORD
from sms_automation_local.layout import ROOT


@dataclass(frozen=True, slots=True)
class LocalConsole:
    url: str
    email: str
    password: str

    def for_simulator(self) -> dict[str, str]:
        return {"url": self.url, "email": self.email, "password": self.password}


def local_api_url(endpoint_url: str, console_api_url: str) -> str:
    """The console API on the emulator: the AWS-form output names the API's id in its host."""
    host = urlsplit(api_base_url(console_api_url)).hostname or ""
    api_id = host.split(".", 1)[0]
    if not api_id or ".execute-api." not in host:
        raise ValueError(f"ConsoleApiUrl {console_api_url!r} does not name an execute-api host")
    return f"{endpoint_url}/_aws/execute-api/{api_id}"


def console_config(endpoint_url: str, region: str, outputs: Mapping[str, str]) -> ConsoleConfig:
    return ConsoleConfig(
        api_url=local_api_url(endpoint_url, outputs["ConsoleApiUrl"]),
        region=region,
        user_pool_id=outputs["UserPoolId"],
        user_pool_client_id=outputs["UserPoolClientId"],
        cognito_endpoint=f"{endpoint_url}/",
        poll_seconds=LOCAL_POLL_SECONDS,
    )


ADMIN_GROUP = "admin"
LOCAL_POLL_SECONDS = 5  # the emulator costs nothing: a demo shows a text within seconds


def deploy_console(
    endpoint_url: str, region: str, outputs: Mapping[str, str]
) -> LocalConsole | None:
    """Publish the console and ensure the demo admin; ``None`` when the stack has no console."""
    if any(not outputs.get(name) for name in CONSOLE_OUTPUTS):
        return None
    bucket = outputs["ConsoleBucketName"]
    publish(
        _client("s3", endpoint_url, region),
        bucket,
        console_config(endpoint_url, region, outputs),
        ROOT / "console",
    )
    ensure_demo_admin(_client("cognito-idp", endpoint_url, region), outputs["UserPoolId"])
    return LocalConsole(
        f"{endpoint_url}/{bucket}/index.html", DEMO_CONSOLE_EMAIL, DEMO_CONSOLE_PASSWORD
    )


def ensure_demo_admin(cognito: Any, pool_id: str) -> None:
    """Idempotent: a second ``make run`` on a kept emulator finds the user already there."""
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=DEMO_CONSOLE_EMAIL)
    except cognito.exceptions.UserNotFoundException:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=DEMO_CONSOLE_EMAIL,
            UserAttributes=[
                {"Name": "email", "Value": DEMO_CONSOLE_EMAIL},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=DEMO_CONSOLE_EMAIL, GroupName=ADMIN_GROUP
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id,
        Username=DEMO_CONSOLE_EMAIL,
        Password=DEMO_CONSOLE_PASSWORD,
        Permanent=True,
    )


def _client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 (the emulator's dummy credentials)
    )
