"""The deploy guide, executed: the README's "Deploy to AWS" and docs/deploy.md's commands, taken
from the docs (the code block after each ``<!-- guide: NAME -->``) and run as written in a copy
of the repository, against a fresh local emulator standing in for AWS, for dev and prod; then
the post-deploy steps (account, number, triggers) and a signed SMS from the Twilio sandbox that
a trigger answers. A doc change that breaks the path, or a template change that breaks the doc,
fails here.

What differs from a reader's shell is only the environment, as ``make run`` sets it: the
emulator's endpoint and credentials, ``ARCH=x86_64`` (the emulator runs functions on this
host), ``PARAMS`` with the Twilio sandbox as ``TwilioApiBaseUrl`` and a ``PublicBaseUrl`` per
stack (tests/e2e/stack_proxy.py), ``TWILIO_API_BASE_URL`` for the CLI; and placeholders (the
Account SID, a message's SID) replaced by the sandbox's values. ``accounts add`` gets the token
on stdin (``--auth-token-stdin``): at a terminal it is the CLI's hidden prompt.

The venvs are the repository's (linked in the copy, older than the copy's files so make keeps
them): tests/template/test_deploy_docs.py proves the guide's make targets create them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from sms_automation_local.demo import DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN
from sms_automation_local.emulator import Emulator
from sms_automation_local.layout import ROOT, Layout
from sms_automation_local.processes import unused_port
from sms_automation_local.readiness import webhook_answers
from sms_automation_local.sam import emulator_credentials
from sms_automation_local.twilio_sandbox.config import SandboxAccount, SandboxConfig, SandboxNumber
from sms_automation_local.twilio_sandbox.process import SandboxProcess
from sms_automation_local.twilio_sandbox_client import list_resources
from tests.e2e.polling import wait_for
from tests.e2e.stack_proxy import stack_proxy
from tests.support.docs import DEPLOY_GUIDE, README, commands, guide_block
from tests.support.template import load_template
from tests.unit.test_deploy_tool import tool

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
ARCH = "x86_64"
NUMBER = "+14155550100"  # the guide's Twilio number
CONTACT = "+14155550199"
ACCOUNT_SID_PLACEHOLDER = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
MESSAGE_SID_PLACEHOLDER = "SMxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
STACKS = {"default": "sms-automation", "prod": "sms-automation-prod"}
STEP_TIMEOUT_SECONDS = 900
_OLD = 1_000_000_000  # 2001: the copy's files predate the linked venvs' install stamps

# A template CloudFormation cannot create: what a first deploy that fails leaves behind.
FAILING_TEMPLATE = {
    "Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1}},
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "no-such-runtime",
                "Handler": "x",
                "Role": "arn:aws:iam::000000000000:role/x",
                "Code": {"ZipFile": "x"},
            },
        },
    }
}


@dataclass
class Guide:
    clone: Path
    logs: Path
    endpoint_url: str
    sandbox_url: str
    proxy_url: str
    outcomes: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return emulator_client(self.endpoint_url, service)

    def environment(self, config_env: str) -> dict[str, str]:
        stack = STACKS[config_env]
        keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
        return {
            **keep,
            **emulator_credentials(self.endpoint_url, REGION),
            "ARCH": ARCH,
            "PARAMS": f"TwilioApiBaseUrl={self.sandbox_url} PublicBaseUrl={self.proxy_url}/{stack}",
            "TWILIO_API_BASE_URL": self.sandbox_url,
        }

    def run(
        self, name: str, script: str, config_env: str, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """``script`` in bash in the copy; output kept in ``logs/name.log``."""
        done = subprocess.run(  # noqa: S603 - the guide's own commands
            ["/bin/bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.clone,
            env=self.environment(config_env),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_SECONDS,
            check=False,
        )
        (self.logs / f"{name}.log").write_text(f"$ {script}\n{done.stdout}\n{done.stderr}")
        self.outcomes[name] = done
        return done

    def stack(self, name: str) -> dict[str, Any]:
        [stack] = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        return dict(stack)


def emulator_client(endpoint_url: str, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def target_env(line: str) -> str:
    match = re.search(r"CONFIG_ENV=(\w+)", line)
    return match[1] if match else "default"


def tail(done: subprocess.CompletedProcess[str]) -> str:
    return (done.stdout + done.stderr)[-3000:]


_NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv*", ".aws-sam", ".local", "node_modules", "__pycache__", ".*_cache", ".hypothesis"
)


def checkout_files() -> list[Path]:
    """The files a clone has (tracked and new, not ignored); without git, the tree minus what
    git ignores here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if listed.returncode == 0:
        names = filter(None, listed.stdout.decode().split("\0"))
        return [ROOT / name for name in names if (ROOT / name).is_file()]
    files: list[Path] = []
    for folder, dirs, names in os.walk(ROOT):
        ignored = _NOT_IN_A_CLONE(folder, [*dirs, *names])
        dirs[:] = [d for d in dirs if d not in ignored]
        files += [Path(folder) / name for name in names if name not in ignored]
    return files


def copy_checkout(destination: Path) -> None:
    """The repository as a fresh clone has it, plus links to its venvs."""
    for source in checkout_files():
        target = destination / source.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        os.utime(target, (_OLD, _OLD))
    for venv in (".venv", ".venv-tools"):
        (destination / venv).symlink_to((ROOT / venv).resolve())


@pytest.fixture(scope="module")
def guide(local_layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guide]:
    """A fresh emulator and Twilio sandbox of its own (the session's local stack already holds
    a stack named sms-automation), the proxy, and the copy. ``local_layout``: the venvs exist."""
    home = tmp_path_factory.mktemp("deploy-guide")
    layout = Layout(home=home / "emulator")
    emulator = Emulator(layout, unused_port())
    sandbox: SandboxProcess | None = None
    try:
        emulator.start()
        account = SandboxAccount(
            "acme", DEMO_ACCOUNT_SID, DEMO_AUTH_TOKEN, numbers=[SandboxNumber(NUMBER)]
        )
        sandbox = SandboxProcess(
            layout, SandboxConfig(port=unused_port(), accounts=[account], contacts=[CONTACT])
        )
        sandbox.start()
        cloudformation = emulator_client(emulator.url, "cloudformation")
        with stack_proxy(emulator.url, cloudformation) as proxy_url:
            clone = home / "clone"
            copy_checkout(clone)
            logs = home / "logs"
            logs.mkdir()
            yield Guide(clone, logs, emulator.url, sandbox.url, proxy_url)
    finally:
        if sandbox is not None:
            sandbox.stop()
        emulator.stop()


@pytest.fixture(scope="module")
def deployed(guide: Guide) -> Guide:
    """README's deploy commands with a prod stack whose first deploy failed, then
    docs/deploy.md's recovery commands."""
    cloudformation = guide.client("cloudformation")
    assert "cloudwatchRoleArn" not in guide.client("apigateway").get_account()
    cloudformation.create_stack(StackName=STACKS["prod"], TemplateBody=json.dumps(FAILING_TEMPLATE))
    wait_for(
        "the failed first deploy",
        lambda: guide.stack(STACKS["prod"])["StackStatus"] == tool.ROLLED_BACK or None,
    )
    for number, line in enumerate(commands(guide_block(README, "deploy"))):
        guide.run(f"readme-deploy-{number}", line, target_env(line), stdin="y\n")
    recover = guide_block(DEPLOY_GUIDE, "recover")
    guide.run("recover", recover, target_env(recover), stdin="y\n")
    return guide


def test_readme_deploy_changes_nothing_account_wide_and_names_the_way_back_from_a_failed_stack(
    deployed: Guide,
) -> None:
    dev, prod = deployed.outcomes["readme-deploy-0"], deployed.outcomes["readme-deploy-1"]
    assert dev.returncode == 0, tail(dev)
    dev_status = deployed.stack(STACKS["default"])["StackStatus"]
    assert dev_status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    # HTTP APIs log without API Gateway's account-level role: nothing outside the stack is set
    assert "cloudwatchRoleArn" not in deployed.client("apigateway").get_account()

    assert prod.returncode != 0
    assert f"stack {STACKS['prod']} is in ROLLBACK_COMPLETE" in prod.stderr, tail(prod)
    assert "make delete-failed-stack CONFIG_ENV=prod" in prod.stderr

    recover = deployed.outcomes["recover"]
    assert recover.returncode == 0, tail(recover)
    prod_stack = deployed.stack(STACKS["prod"])
    assert prod_stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in prod_stack["Parameters"]}
    assert (parameters["Stage"], parameters["Architecture"]) == ("prod", ARCH)


def test_the_outputs_are_the_readmes_and_the_dashboard_url_is_the_consoles(
    deployed: Guide,
) -> None:
    for config_env, stack_name in STACKS.items():
        outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed.stack(stack_name)["Outputs"]}
        assert sorted(outputs) == sorted(load_template()["Outputs"]), config_env
        assert outputs["DashboardUrl"] == (
            f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
            f"#dashboards:name={stack_name}"
        )


def test_cloudformation_refuses_the_build_as_another_architecture(deployed: Guide) -> None:
    """``sam deploy`` by hand, past ``make deploy``'s own check: the pinned build refuses."""
    overrides = {**tool.deploy_overrides("default", {}), "Architecture": "arm64"}
    command = tool.sam_deploy_command("default", overrides, guided=False)

    done = deployed.run("sam-deploy-arm64", " ".join(command), "default")

    assert done.returncode != 0
    assert "AllowedValues" in tail(done) or "x86_64" in tail(done), tail(done)
    parameters = deployed.stack(STACKS["default"])["Parameters"]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in parameters}["Architecture"] == ARCH


def post_deploy(guide: Guide, name: str, block: str, config_env: str) -> None:
    script = block.replace(ACCOUNT_SID_PLACEHOLDER, DEMO_ACCOUNT_SID)
    assert "--auth-token-stdin" not in script  # at a terminal: the hidden prompt
    script = re.sub(r"(accounts add \S+ --account-sid \S+)", r"\1 --auth-token-stdin", script)
    done = guide.run(name, script, config_env, stdin=DEMO_AUTH_TOKEN + "\n")
    assert done.returncode == 0, tail(done)


def text_the_number(guide: Guide, body: str) -> str:
    """The contact texts the number: the sandbox signs it and posts it to the number's SmsUrl."""
    request = urllib.request.Request(
        f"{guide.sandbox_url}/simulator/api/send",
        data=json.dumps({"from": CONTACT, "to": NUMBER, "body": body}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        sent: dict[str, Any] = json.load(response)
    assert sent["status"] == 200, sent
    return str(sent["message_sid"])


def replies(guide: Guide) -> list[dict[str, Any]]:
    messages = list_resources(guide.sandbox_url, "Messages", To=CONTACT)
    return [m for m in messages if m["direction"] == "outbound-api"]


def warm_up_the_webhook(guide: Guide, stack_name: str) -> None:
    """As ``make run`` does: a cold webhook on the emulator (an unpruned layer, a busy machine)
    can take longer than the 15 s Twilio (and the sandbox) wait for an answer."""
    stack = guide.stack(stack_name)
    api_id = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "ApiId")
    url = f"{guide.endpoint_url}/_aws/execute-api/{api_id}/twilio/acme/sms"
    wait_for("the webhook function", lambda: webhook_answers(url, timeout=120)[0] or None)


def assert_a_trigger_answers(guide: Guide, stack_name: str) -> str:
    warm_up_the_webhook(guide, stack_name)
    before = len(replies(guide))
    sid = text_the_number(guide, f"Hello {stack_name}")
    reply = wait_for("the auto-reply", lambda: next(iter(replies(guide)[before:]), None))
    assert (reply["from"], reply["body"][:6]) == (NUMBER, "Thanks"), reply
    table = guide.stack(stack_name)["Outputs"]
    table_name = next(o["OutputValue"] for o in table if o["OutputKey"] == "TableName")
    found = guide.client("dynamodb").scan(TableName=table_name)["Items"]
    assert sid in json.dumps(found)  # stored by this stack's webhook
    return sid


def test_readme_post_deploy_steps_on_dev_end_in_a_triggers_reply(deployed: Guide) -> None:
    for name in ("dev-account", "dev-triggers"):
        post_deploy(deployed, name, guide_block(README, name), "default")

    sid = assert_a_trigger_answers(deployed, STACKS["default"])

    shown = deployed.run(
        "dev-messages",
        guide_block(README, "dev-messages").replace(MESSAGE_SID_PLACEHOLDER, sid),
        "default",
    )
    assert shown.returncode == 0, tail(shown)
    assert sid in shown.stdout


def test_deploy_guides_post_deploy_steps_on_prod_end_in_a_triggers_reply(
    deployed: Guide,
) -> None:
    post_deploy(deployed, "prod-account", guide_block(DEPLOY_GUIDE, "prod-account"), "prod")

    assert_a_trigger_answers(deployed, STACKS["prod"])


def test_every_guide_block_is_run_here() -> None:
    """A new marked block in the docs must be run by this test too."""
    run = {
        README: {"deploy", "dev-account", "dev-triggers", "dev-messages"},
        DEPLOY_GUIDE: {"recover", "prod-account"},
    }
    for guide_path, names in run.items():
        text = guide_path.read_text(encoding="utf-8")
        assert set(re.findall(r"<!-- guide: ([\w-]+) -->", text)) == names, guide_path.name
