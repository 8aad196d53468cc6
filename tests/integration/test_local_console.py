"""``make run``'s console step against moto: the console published with the emulator's URLs and
a demo admin who signs in with the printed password at once (no new-password challenge)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from sms_automation_local import console as local_console
from sms_automation_local.demo import DEMO_CONSOLE_EMAIL, DEMO_CONSOLE_PASSWORD

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def pool() -> tuple[Any, str, str]:
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return cognito, pool_id, client_id


def test_the_demo_admin_is_an_admin_and_signs_in_with_the_printed_password(aws: None) -> None:
    cognito, pool_id, client_id = pool()
    cognito.create_group(GroupName="admin", UserPoolId=pool_id)  # the template's group

    local_console.ensure_demo_admin(cognito, pool_id)
    local_console.ensure_demo_admin(cognito, pool_id)  # a second make run: no error, one user

    assert [u["Username"] for u in cognito.list_users(UserPoolId=pool_id)["Users"]] == [
        DEMO_CONSOLE_EMAIL
    ]
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=DEMO_CONSOLE_EMAIL)
    assert [g["GroupName"] for g in groups["Groups"]] == ["admin"]
    signed_in = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": DEMO_CONSOLE_EMAIL, "PASSWORD": DEMO_CONSOLE_PASSWORD},
    )
    assert "ChallengeName" not in signed_in  # no new-password step for the demo
    assert signed_in["AuthenticationResult"]["IdToken"]


def test_deploy_console_publishes_the_emulator_urls(moto_server: str) -> None:
    def client(service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=moto_server,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    cognito = client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="console")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, ClientName="web")[
        "UserPoolClient"
    ]["ClientId"]
    client("s3").create_bucket(Bucket="console-files")
    outputs = {
        "ConsoleApiUrl": "https://k7x9.execute-api.us-east-1.amazonaws.com",
        "UserPoolId": pool_id,
        "UserPoolClientId": client_id,
        "ConsoleBucketName": "console-files",
    }

    cognito.create_group(GroupName="admin", UserPoolId=pool_id)

    console = local_console.deploy_console(moto_server, REGION, outputs)

    assert console is not None
    assert console.url == f"{moto_server}/console-files/index.html"
    # moto's S3 refuses unsigned reads; the emulator serves them (tests/e2e/test_console.py).
    stored = client("s3").get_object(Bucket="console-files", Key="config.json")
    config = json.loads(stored["Body"].read())
    assert config["apiUrl"] == f"{moto_server}/_aws/execute-api/k7x9"
    assert config["cognitoEndpoint"] == f"{moto_server}/"
    assert config["userPoolId"] == pool_id


def test_a_template_without_the_console_publishes_nothing() -> None:
    assert local_console.deploy_console(ENDPOINT, REGION, {"ApiId": "x"}) is None


def test_a_console_api_url_that_names_no_api_is_refused() -> None:
    assert (
        local_console.local_api_url(
            ENDPOINT, "https://ab1.execute-api.eu-west-1.amazonaws.com/console/api"
        )
        == f"{ENDPOINT}/_aws/execute-api/ab1"
    )
    with pytest.raises(ValueError, match="execute-api"):
        local_console.local_api_url(ENDPOINT, "https://console.example.com")
