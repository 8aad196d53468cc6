"""Publishing the console (``make deploy``'s last step, and ``make run``'s): console/ and its
config.json reach the stack's bucket, against moto's S3 and CloudFormation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sms_automation_cli.console_site import (
    ConsoleConfig,
    ConsoleNotPublishable,
    config_from_outputs,
    console_files,
    publish,
)
from tests.support.template import ROOT
from tests.unit.test_deploy_tool import tool

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
BUCKET = "stack-consolebucket-1"
OUTPUTS = {
    "ConsoleApiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
    "UserPoolId": "eu-west-1_Pool1",
    "UserPoolClientId": "client1",
    "ConsoleBucketName": BUCKET,
    "ConsoleUrl": "https://d111.cloudfront.net/",
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client


def stored(s3: Any) -> dict[str, dict[str, Any]]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key) for key in keys}


def test_publish_uploads_every_file_typed_and_uncached_with_the_config(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="js/removed-since.js", Body=b"old")
    config = config_from_outputs(OUTPUTS, REGION)

    keys = publish(s3, BUCKET, config, ROOT / "console")

    objects = stored(s3)
    assert sorted(objects) == sorted(keys)  # the stale file of an earlier deploy is gone
    assert {"index.html", "app.css", "js/app.js", "config.json"} <= set(objects)
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["js/app.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["app.css"]["ContentType"] == "text/css; charset=utf-8"
    assert {o["CacheControl"] for o in objects.values()} == {"no-cache"}
    assert objects["index.html"]["Body"].read() == (ROOT / "console" / "index.html").read_bytes()
    assert json.loads(objects["config.json"]["Body"].read()) == {
        "apiUrl": "https://abc123.execute-api.eu-west-1.amazonaws.com",
        "region": REGION,
        "userPoolId": "eu-west-1_Pool1",
        "userPoolClientId": "client1",
        "pollSeconds": 15,
    }


def test_the_local_config_names_the_emulators_cognito_endpoint() -> None:
    config = ConsoleConfig(
        "http://127.0.0.1:4566/x", "us-east-1", "p", "c", "http://127.0.0.1:4566/"
    )
    assert json.loads(config.to_json())["cognitoEndpoint"] == "http://127.0.0.1:4566/"


def test_an_api_url_ending_in_the_route_prefix_is_cut_to_the_base() -> None:
    outputs = {**OUTPUTS, "ConsoleApiUrl": "https://abc.execute-api.x.amazonaws.com/console/api/"}
    assert config_from_outputs(outputs, REGION).api_url == "https://abc.execute-api.x.amazonaws.com"


def test_a_stack_without_the_console_outputs_is_refused_by_name() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("UserPoolId", "ConsoleBucketName")}
    with pytest.raises(ConsoleNotPublishable, match="UserPoolId, ConsoleBucketName"):
        config_from_outputs(outputs, REGION)


def test_a_file_the_console_does_not_serve_is_refused(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "notes.py").write_text("secret = 1")
    with pytest.raises(ConsoleNotPublishable, match=r"notes\.py"):
        console_files(tmp_path)
    (tmp_path / "notes.py").unlink()
    (tmp_path / "config.json").write_text("{}")  # only the deploy writes it
    with pytest.raises(ConsoleNotPublishable, match=r"config\.json"):
        console_files(tmp_path)


def test_make_deploy_publishes_from_the_deployed_stacks_outputs(
    s3: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in OUTPUTS.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="sms-automation", TemplateBody=json.dumps(template)
    )

    url = tool.publish_console("sms-automation", REGION)

    assert url == OUTPUTS["ConsoleUrl"]
    assert "open https://d111.cloudfront.net/" in capsys.readouterr().out
    config = json.loads(s3.get_object(Bucket=BUCKET, Key="config.json")["Body"].read())
    assert config["userPoolClientId"] == "client1"
    assert s3.head_object(Bucket=BUCKET, Key="js/app.js")["ContentLength"] > 0


def test_make_deploy_refuses_to_publish_for_a_stack_without_the_console(s3: Any) -> None:
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ConsoleBucketName": {"Value": BUCKET}},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="old-stack", TemplateBody=json.dumps(template)
    )

    with pytest.raises(tool.Refused, match="ConsoleApiUrl, UserPoolId, UserPoolClientId"):
        tool.publish_console("old-stack", REGION)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0
