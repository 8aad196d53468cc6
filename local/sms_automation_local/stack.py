"""The local stack, in order: build, emulator, deploy, demo account, state file; and back down.

``make run`` (``python -m sms_automation_local run``) and the end-to-end tests' session fixture
both use ``LocalStack``: what the tests prove is what a developer runs.

Managed processes (the emulator, then the Twilio sandbox, which also serves the phone simulator
page) start in order after the build and stop in reverse order, each detached in its own
session. The stack is deployed with ``TwilioApiBaseUrl`` = the sandbox, so nothing it sends
leaves the machine; unless given a tunnel's ``public_url`` (``make run PUBLIC_URL=...``, for a
real Twilio number): then the webhook checks signatures against that URL and what the stack
sends goes to the real Twilio (docs/local.md).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

from sms_automation import webhook_urls
from sms_automation_local import sam
from sms_automation_local.console import LocalConsole, deploy_console
from sms_automation_local.demo import (
    DEMO_ACCOUNT,
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_BUS,
    DEMO_CONTACT,
    DEMO_EMAIL_SENDER,
    DEMO_FUNCTION,
    DEMO_NUMBER,
    EMULATOR_ACCOUNT,
)
from sms_automation_local.emulator import DEFAULT_PORT, Emulator
from sms_automation_local.layout import Layout
from sms_automation_local.processes import pid_alive, require_free_port, stop_group
from sms_automation_local.readiness import stack_outputs, webhook_answers
from sms_automation_local.seed import (
    cli_environment,
    create_action_targets,
    push_demo_triggers,
    seed_demo_account,
    verify_email_sender,
)
from sms_automation_local.state import LocalState, ProcessInfo, StateNotFound, load_state
from sms_automation_local.twilio_sandbox.config import SandboxAccount, SandboxConfig, SandboxNumber
from sms_automation_local.twilio_sandbox.process import DEFAULT_SANDBOX_PORT, SandboxProcess
from sms_automation_local.twilio_sandbox.stack_reader import StackTable

DEFAULT_REGION = "us-east-1"
DEFAULT_STACK = "sms-automation"
STAGE = "local"
WEBHOOK_WARM_UP_SECONDS = 60.0


class AlreadyRunning(RuntimeError):
    pass


class InvalidPublicUrl(ValueError):
    pass


def checked_public_url(url: str) -> str:
    """A tunnel's base URL (``https://abc123.tunnel.example``), without a trailing slash."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        raise InvalidPublicUrl(
            f"PUBLIC_URL {url!r} is not a base URL such as https://abc123.tunnel.example "
            "(http(s), a host, no query or fragment)"
        )
    return url.rstrip("/")


class ManagedProcess(Protocol):
    name: str

    def start(self) -> ProcessInfo: ...

    def alive(self) -> bool: ...

    def stop(self) -> None: ...


@dataclass
class LocalStack:
    layout: Layout = field(default_factory=Layout)
    port: int = DEFAULT_PORT
    sandbox_port: int = DEFAULT_SANDBOX_PORT
    region: str = DEFAULT_REGION
    stack_name: str = DEFAULT_STACK
    report: Callable[[str], None] = print
    public_url: str | None = None
    """A tunnel's public URL to ``endpoint_url`` (``make run PUBLIC_URL=...``), or ``None``."""
    timings: dict[str, float] = field(default_factory=dict)
    _started: list[ManagedProcess] = field(default_factory=list, init=False)
    _state: LocalState | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.public_url is not None:
            self.public_url = checked_public_url(self.public_url)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def aws_environment(self) -> dict[str, str]:
        return sam.emulator_credentials(self.endpoint_url, self.region)

    @contextmanager
    def _step(self, name: str, message: str) -> Iterator[None]:
        self.report(f"==> {message}")
        started = time.monotonic()
        yield
        self.timings[name] = time.monotonic() - started

    def up(self) -> LocalState:
        """Bring everything up; on any failure, stop what was started and re-raise."""
        self.layout.check_prerequisites()
        refuse_if_running(self.layout)
        require_free_port(self.port, "the AWS emulator (ministack)")  # before a long build
        require_free_port(self.sandbox_port, "the Twilio sandbox")
        self.layout.home.mkdir(parents=True, exist_ok=True)
        try:
            return self._up()
        except BaseException:
            self.down()
            raise

    def _up(self) -> LocalState:
        emulator = Emulator(self.layout, self.port)
        with sam.build_lock(self.layout):
            with self._step("build", "sam build (x86_64)"):
                if not sam.build(self.layout):
                    self.report("    inputs unchanged: reusing the build")
            with self._step("emulator", f"starting the AWS emulator on {self.endpoint_url}"):
                processes = {emulator.name: self._start(emulator)}
            create_action_targets(self.endpoint_url, self.region)
            api_id = self._deploy()
        cli_env = cli_environment(self.aws_environment(), self.stack_name)
        with self._step("seed", f"seeding the {DEMO_ACCOUNT!r} account and its triggers"):
            verify_email_sender(self.endpoint_url, self.region, DEMO_EMAIL_SENDER)
            seed_demo_account(self.layout, cli_env)
            push_demo_triggers(self.layout, cli_env)
        with self._step("console", "publishing the web console and its demo admin"):
            console = deploy_console(self.endpoint_url, self.region, self._outputs())
            if console is None:
                self.report("    the template has no console (no ConsoleApiUrl/UserPoolId)")
        webhook_base_url = self.webhook_base_url(api_id)
        automations_api_url = self._invoke_url(self._outputs()["AutomationsApiId"])
        sandbox = SandboxProcess(self.layout, self._sandbox_config(webhook_base_url, console))
        with self._step("sandbox", f"starting the Twilio sandbox on {self.sandbox_url}"):
            processes[sandbox.name] = self._start(sandbox)
        state = LocalState(
            endpoint_url=self.endpoint_url,
            region=self.region,
            stack_name=self.stack_name,
            api_id=api_id,
            webhook_base_url=webhook_base_url,
            automations_api_url=automations_api_url,
            demo_account=DEMO_ACCOUNT,
            demo_account_sid=DEMO_ACCOUNT_SID,
            demo_number=DEMO_NUMBER,
            runner_pid=os.getpid(),
            processes=processes,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            sandbox_url=self.sandbox_url,
            simulator_url=f"{self.sandbox_url}/simulator",
            console_url=console.url if console else "",
            console_email=console.email if console else "",
        )
        with self._step("warm-up", "waiting for the webhook function (cold start)"):
            self._wait_for_webhook(f"{self._invoke_url(api_id)}/twilio/{DEMO_ACCOUNT}/sms")
        state.write(self.layout.state_file)
        self._state = state
        return state

    def _sandbox_config(
        self, webhook_base_url: str, console: LocalConsole | None = None
    ) -> SandboxConfig:
        """The demo account and its number, whose SmsUrl is its Messaging Request URL (through
        the tunnel, with a ``public_url``: the URL the webhook checks signatures against)."""
        sms_url = webhook_urls.messaging_request_url(webhook_base_url, DEMO_ACCOUNT)
        demo = SandboxAccount(
            name=DEMO_ACCOUNT,
            account_sid=DEMO_ACCOUNT_SID,
            auth_token=DEMO_AUTH_TOKEN,
            numbers=[SandboxNumber(DEMO_NUMBER, sms_url)],
        )
        table = StackTable(self.endpoint_url, self.region, self._outputs()["TableName"])
        return SandboxConfig(
            port=self.sandbox_port,
            accounts=[demo],
            contacts=[DEMO_CONTACT],
            table=table,
            console=console.for_simulator() if console else None,
        )

    def _start(self, process: ManagedProcess) -> ProcessInfo:
        self._started.append(process)
        return process.start()

    def _invoke_url(self, api_id: str) -> str:
        """An HTTP API's URL on the emulator: its ``$default`` stage has no path segment."""
        return f"{self.endpoint_url}/_aws/execute-api/{api_id}"

    def webhook_base_url(self, api_id: str) -> str:
        """The deployed ``PublicBaseUrl``: what Twilio posts to and signs."""
        base = self.public_url or self.endpoint_url
        return f"{base}/_aws/execute-api/{api_id}"

    def deploy_parameters(self, api_id: str | None) -> dict[str, str]:
        """The template's parameters; ``api_id``: the API's, known after the first deploy.

        ``PublicBaseUrl`` is left at its default (empty) on the first deploy: SAM CLI refuses
        an empty override. With a ``public_url``, ``TwilioApiBaseUrl`` is left at its default
        (the real Twilio): a real number's messages are sent for real."""
        parameters = {
            "Stage": STAGE,
            "Architecture": sam.ARCHITECTURE,
            # Local http_request examples may call servers on this machine.
            "HttpAllowPrivateNetworks": "true",
            # The emulator's Parallel state waits for both branches of a conversation: the
            # timer looks every 2 s so a reply resumes the conversation promptly.
            "ConversationPollSeconds": "2",
            # send_email from the demo sender (an identity created on the emulator, below).
            "EmailSenders": DEMO_EMAIL_SENDER,
            # invoke_lambda and publish_event: the demo's function and bus (created first).
            "InvokeFunctionArns": (
                f"arn:aws:lambda:{self.region}:{EMULATOR_ACCOUNT}:function:{DEMO_FUNCTION}"
            ),
            "EventBusArns": f"arn:aws:events:{self.region}:{EMULATOR_ACCOUNT}:event-bus/{DEMO_BUS}",
        }
        if self.public_url is None:
            parameters["TwilioApiBaseUrl"] = self.sandbox_url  # nothing leaves the machine
        if api_id is not None:
            parameters["PublicBaseUrl"] = self.webhook_base_url(api_id)
        return parameters

    def _deploy(self) -> str:
        """Deploy twice: the webhook must know the URL Twilio signs (PublicBaseUrl), and on the
        emulator that URL holds the HTTP API's id, which exists only once the API does.

        On AWS the handler derives the URL from the request (domain name + rawPath); the
        emulator's requestContext.domainName has no port (``{id}.execute-api.localhost``) and it
        sends no X-Forwarded-Proto, so the local stack sets PublicBaseUrl to the API's invoke
        URL. The second deploy changes only the function's
        environment and the outputs (the API keeps its id: checked below). Deriving the id
        instead would need the template to pin it (an emulator-only tag), which AWS ignores.
        """
        deploy = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "stack_name": self.stack_name,
        }
        with self._step("deploy", f"sam deploy {self.stack_name} (create)"):
            sam.deploy(self.layout, parameters=self.deploy_parameters(None), **deploy)
            api_id = self._outputs()["ApiId"]
        parameters = self.deploy_parameters(api_id)
        with self._step(
            "deploy-url", f"sam deploy (PublicBaseUrl = {parameters['PublicBaseUrl']})"
        ):
            sam.deploy(self.layout, parameters=parameters, **deploy)
            outputs = self._outputs()
        if outputs["ApiId"] != api_id or outputs["WebhookBaseUrl"] != parameters["PublicBaseUrl"]:
            raise sam.SamFailed(
                f"the second deploy changed the API ({api_id} -> {outputs['ApiId']}) "
                f"or ignored PublicBaseUrl ({outputs['WebhookBaseUrl']})"
            )
        return api_id

    def _outputs(self) -> dict[str, str]:
        probe = LocalState(
            endpoint_url=self.endpoint_url,
            region=self.region,
            stack_name=self.stack_name,
            api_id="",
            webhook_base_url="",
            demo_account=DEMO_ACCOUNT,
            demo_account_sid=DEMO_ACCOUNT_SID,
            demo_number=DEMO_NUMBER,
            runner_pid=os.getpid(),
        )
        return stack_outputs(probe)

    def _wait_for_webhook(self, url: str) -> None:
        """On the emulator's own URL: a tunnel's may not be up yet, and a GET is not signed."""
        deadline = time.monotonic() + WEBHOOK_WARM_UP_SECONDS
        while True:
            ok, detail = webhook_answers(url)
            if ok:
                return
            if time.monotonic() > deadline:
                raise sam.SamFailed(f"the deployed webhook does not answer: {detail}")
            time.sleep(0.5)

    def dead_processes(self) -> list[str]:
        return [process.name for process in self._started if not process.alive()]

    def down(self) -> None:
        """Stop every process this stack started (reverse order), remove the state file."""
        while self._started:
            process = self._started.pop()
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                self.report(f"warning: stopping {process.name} failed: {error}")
        if self._state is not None:  # only the file this stack wrote, never another runner's
            self.layout.state_file.unlink(missing_ok=True)
        self._state = None


def refuse_if_running(layout: Layout) -> None:
    """A second runner for the same home would fight the first over ports and the state file."""
    try:
        state = load_state(layout.state_file)
    except StateNotFound:
        return
    if pid_alive(state.runner_pid) and state.runner_pid != os.getpid():
        raise AlreadyRunning(
            f"a local stack is already running (runner PID {state.runner_pid}, "
            f"{state.endpoint_url}); stop it with Ctrl-C in its terminal or `make stop`"
        )
    stop_leftovers(layout, state)


def stop_leftovers(layout: Layout, state: LocalState) -> None:
    """A runner killed without cleanup (SIGKILL) leaves its processes: stop them now."""
    for info in state.processes.values():
        if pid_alive(info.pid) and _runs_in(info.pid, layout):
            stop_group(info.pid)
    shutil.rmtree(layout.tmp, ignore_errors=True)
    layout.state_file.unlink(missing_ok=True)


def _runs_in(pid: int, layout: Layout) -> bool:
    """Managed processes run in the stack's home folder: a reused PID does not."""
    try:
        return os.path.samefile(f"/proc/{pid}/cwd", layout.home)
    except OSError:
        return False
