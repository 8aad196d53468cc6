"""Each function's AWS calls against its role in template.yaml, on the paths that make the most
distinct calls. moto does not enforce IAM: a call the role does not grant passes every other test
and fails with AccessDenied only on AWS. ``AwsCalls`` records what each handler asks of AWS (the
action and the ARN IAM checks it against: a table, an index, a secret, the state machine or one
of its executions) and ``role_policy`` says whether the function's ``Policies`` allow it, SAM
policy templates included.

The conversation world runs them all in one process: the inbound webhook, the trigger processor
on the table's stream, the status callback, and the conversation state machine on moto's
executor calling conversation-register, conversation-timer and conversation-resume in-process
(each recorded as its own function, whatever thread the executor runs it on). Each sending
function's calls include the send guard's (its counter's read and conditional write; the
processor's own-number bookkeeping on the account item). The automations API and events and
the schedule sync are covered in their own test modules, and so are the broadcast functions, the
API's broadcast routes and a schedule's broadcast (test_broadcasts, test_broadcast_api_changes,
test_scheduled_broadcasts: the broadcast state machine runs there). The processor's deferral of
a held record to its retry queue, and the replay of it, run in the exactly-once world.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from urllib.parse import urlencode

import boto3
import pytest
import yaml

from functions.status_callback import handler as status_callback
from functions.trigger_processor import handler as processor
from sms_automation.adapters.send_counter import DynamoSendCounter
from sms_automation.adapters.step_ledger import DynamoStepLedger
from sms_automation.composition.runtime import Runtime
from sms_automation.edge.timestamps import utc_timestamp
from sms_automation.send_guard import Lane
from tests.support.action_targets import running_world_with_targets
from tests.support.aws import (
    STACK_NAME,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    AwsCall,
    AwsCalls,
    FakeLambdaContext,
    clear_cached_dependencies,
    hook_every_client,
)
from tests.support.conversation_world import ALICE, BOB, HANDLER_MODULES, OUR_NUMBER, World
from tests.support.events import console_api_event, signed_webhook_event
from tests.support.exactly_once_world import SMS_SID, running_world
from tests.support.stepfunctions import wait_until
from tests.support.template import role_policy

pytestmark = pytest.mark.integration

CAROL = "+14155550103"
# The state machine's Lambda tasks, by the function name the ASL invokes them with.
TASK_FUNCTIONS = {
    "conversation-register": "ConversationRegisterFunction",
    "conversation-timer": "ConversationTimerFunction",
    "conversation-resume": "ConversationResumeFunction",
}

TRIGGERS = yaml.safe_dump(
    {
        "version": 1,
        "triggers": [
            {
                "name": "ask",
                "when": {"field": "Body", "starts_with": "book"},
                "actions": [
                    {
                        "type": "wait_for_reply",
                        "prompt": "Reply YES to confirm",
                        "timeout": "1h",
                        "on_reply": [
                            {
                                "type": "wait_for_reply",
                                "prompt": "And your name?",
                                "into": "name",
                                "timeout": "1h",
                                "on_reply": [{"type": "send_sms", "body": "See you, %name.body%"}],
                            }
                        ],
                        "on_delivery_failure": [
                            {"type": "record", "item": {"what": "undelivered"}}
                        ],
                    },
                    {"type": "record", "item": {"what": "booked"}},
                    {"type": "send_sms", "body": "Bye"},
                ],
            },
            {
                "name": "remind",
                "when": {"field": "Body", "starts_with": "remind"},
                "actions": [
                    {
                        "type": "wait_for_reply",
                        "prompt": "Still coming?",
                        "timeout": "3s",
                        "remind": [{"after": "1s", "text": "Still there?"}],
                        "on_timeout": [{"type": "send_sms", "body": "No answer"}],
                    }
                ],
            },
            {
                "name": "echo",
                "actions": [
                    {"type": "send_sms", "body": "echo %Body%"},
                    {"type": "record", "item": {"what": "echoed"}},
                ],
            },
        ],
    },
    sort_keys=False,
)

# One reply: its step held by a crashed attempt defers the record (the retry queue).
DEFERRED_TRIGGERS = """
version: 1
triggers:
  - name: reply
    actions:
      - type: send_sms
        body: "Thanks"
"""


@pytest.fixture
def calls(world: World, monkeypatch: pytest.MonkeyPatch) -> AwsCalls:
    """Every handler's calls from now on, as its function's in template.yaml."""
    recorder = AwsCalls.install(monkeypatch)
    for module in HANDLER_MODULES:
        clear_cached_dependencies(module)  # new clients, through the recorder
    for name, function in TASK_FUNCTIONS.items():
        world.lambdas.handlers[name] = recorder.as_function(function, world.lambdas.handlers[name])
    world.push(TRIGGERS)
    return recorder


def text(world: World, calls: AwsCalls, body: str, sender: str = ALICE) -> str:
    """The contact texts us: the webhook stores it, the processor runs it from the stream."""
    with calls.recording("InboundWebhookFunction"):
        sid = world.receive(body, sender)
    with calls.recording("TriggerProcessorFunction"):
        assert world.deliver() == {"batchItemFailures": []}
    return sid


def status(calls: AwsCalls, sid: str, to: str, message_status: str, **extra: str) -> None:
    body = urlencode(
        {
            "AccountSid": TEST_ACCOUNT_SID,
            "MessageSid": sid,
            "MessageStatus": message_status,
            "From": OUR_NUMBER,
            "To": to,
            **extra,
        }
    )
    event = signed_webhook_event("acme", body, TEST_AUTH_TOKEN, route="status")
    with calls.recording("StatusCallbackFunction"):
        assert status_callback.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200


def prompt_to(world: World, to: str, body: str) -> str:
    [sid] = [m["sid"] for m in world.twilio.messages() if m["to"] == to and m["body"] == body]
    return str(sid)


def assert_granted(world: World, calls: AwsCalls, function: str, *expected: str) -> None:
    """``function`` made (at least) the ``expected`` actions, each allowed by its role."""
    made = calls.of(function)
    assert set(expected) <= {call.action for call in made}, f"{function} skipped a path"
    policy = role_policy(
        function,
        stack_name=STACK_NAME,
        names={"AppTable": world.table, "RecordsTable": "records-test"},
    )
    assert policy.denied(made) == [], f"{function}'s role in template.yaml lacks these"


def test_every_conversation_function_makes_only_the_calls_its_role_grants(
    world: World, calls: AwsCalls
) -> None:
    # An SMS without a wait: a reply (Twilio), a record (RecordsTable).
    text(world, calls, "hello", BOB)
    status(calls, prompt_to(world, BOB, "echo hello"), BOB, "delivered")
    # A queue overflow at Twilio (30001) slows the sender: its pace bucket read and written.
    status(calls, prompt_to(world, BOB, "echo hello"), BOB, "failed", ErrorCode="30001")
    # A wait: its execution starts (processor), registers and sends the prompt (register).
    origin = text(world, calls, "book me")
    world.registered(origin)
    # The reply wakes it; resume runs the branch, whose own wait starts a second execution.
    text(world, calls, "yes")
    world.registered(origin, "ask/1/on_reply/1")
    assert world.finished(origin) == "SUCCEEDED"
    # The nested wait's reply; resume then runs what follows the first wait (record, Bye).
    text(world, calls, "Jo")
    assert world.finished(origin, "ask/1/on_reply/1") == "SUCCEEDED"
    assert world.bodies() == ["Reply YES to confirm", "And your name?", "See you, Jo", "Bye"]
    # Nobody answers: the timer reminds, then times the wait out.
    reminded = text(world, calls, "remind me", BOB)
    assert world.finished(reminded, "remind/1") == "SUCCEEDED"
    assert world.bodies(BOB) == ["echo hello", "Still coming?", "Still there?", "No answer"]
    # The prompt is never delivered: the status callback ends the conversation.
    failed = text(world, calls, "book again", CAROL)
    world.registered(failed)
    prompt = prompt_to(world, CAROL, "Reply YES to confirm")
    status(calls, prompt, CAROL, "undelivered", ErrorCode="30003")
    assert world.finished(failed) == "SUCCEEDED"
    assert world.conversation(failed).status == "delivery_failed"
    # Every send was counted by the send guard, in the function that sent it: the reply by the
    # processor, the prompt by conversation-register, the reminder by conversation-timer,
    # "No answer" by conversation-resume. Their counter reads and writes are among the calls
    # checked below.
    lanes = DynamoSendCounter(world.table, boto3.client("dynamodb"))
    assert len(lanes.read(Lane("acme", OUR_NUMBER, BOB)).slots) == 4

    assert_granted(
        world,
        calls,
        "InboundWebhookFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "secretsmanager:GetSecretValue",
    )
    assert_granted(
        world,
        calls,
        "TriggerProcessorFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "states:StartExecution",
        "states:SendTaskSuccess",
    )
    assert AwsCall(
        "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/records-test"
    ) in calls.of("TriggerProcessorFunction")
    assert_granted(
        world,
        calls,
        "StatusCallbackFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
        "states:SendTaskFailure",
    )
    assert any(  # the 30001 slowed the sender
        call.action == "dynamodb:PutItem"
        and any(k.startswith("PACE#") for k in call.leading_keys or ())
        for call in calls.of("StatusCallbackFunction")
    )
    assert_granted(
        world,
        calls,
        "ConversationRegisterFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    )
    assert_granted(
        world,
        calls,
        "ConversationTimerFunction",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "states:SendTaskFailure",
    )
    assert_granted(
        world,
        calls,
        "ConversationResumeFunction",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "secretsmanager:GetSecretValue",
        "states:StartExecution",
    )


def test_the_dozing_timer_and_a_refused_wake_make_only_the_calls_their_roles_grant(
    world: World, calls: AwsCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the timer polls (the local emulator's setting) it dozes in a task whose token the
    reply fails (processor: SendTaskFailure); a cancel does the same from outside."""
    monkeypatch.setenv("CONVERSATION_POLL_SECONDS", "2")
    for module in HANDLER_MODULES:
        clear_cached_dependencies(module)
    origin = text(world, calls, "book me")
    world.registered(origin)
    wait_until(
        lambda: any(
            "doze_token" in event
            for name, event in world.lambdas.calls
            if name == "conversation-timer"
        ),
        what="the timer to doze",
    )
    text(world, calls, "yes")
    world.registered(origin, "ask/1/on_reply/1")
    assert Runtime.from_environ(os.environ).conversations.cancel(origin, "ask/1/on_reply/1")
    assert world.finished(origin, "ask/1/on_reply/1") == "SUCCEEDED"

    assert_granted(
        world, calls, "TriggerProcessorFunction", "states:SendTaskSuccess", "states:SendTaskFailure"
    )
    assert_granted(world, calls, "ConversationTimerFunction", "dynamodb:GetItem")
    assert_granted(world, calls, "ConversationRegisterFunction", "dynamodb:PutItem")
    assert_granted(world, calls, "ConversationResumeFunction", "states:StartExecution")


def test_the_processor_deferring_and_replaying_a_record_makes_only_the_calls_its_role_grants(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A held step defers the stream record to the retry queue (sqs:SendMessage); the queue's
    message comes back and is replayed from the table. Receiving and deleting the queue's
    messages is the event source mapping's, not the function code's."""
    with running_world(monkeypatch, DEFERRED_TRIGGERS, retry_queue=True) as deferring:
        calls = AwsCalls.install(monkeypatch)
        clear_cached_dependencies(processor)
        records = deferring.receive()
        now = deferring.clock()
        ledger = DynamoStepLedger(deferring.table, boto3.client("dynamodb"))
        lease_until = utc_timestamp(now + timedelta(minutes=3))
        assert ledger.claim(SMS_SID, "reply/1", "send_sms", utc_timestamp(now), lease_until) is None
        sent: list[str] = []
        hook_every_client(
            monkeypatch,
            "before-parameter-build.sqs.SendMessage",
            lambda params, **_: sent.append(params["MessageBody"]),
        )
        with calls.recording("TriggerProcessorFunction"):
            assert deferring.deliver(records) == []
            deferring.clock.advance(timedelta(minutes=3))
            queued = {"messageId": "m-1", "eventSource": "aws:sqs", "body": sent[-1]}
            event = {"Records": [queued]}
            assert processor.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
        assert len(deferring.sms()) == 1

        made = calls.of("TriggerProcessorFunction")
        assert {"sqs:SendMessage", "dynamodb:GetItem", "dynamodb:UpdateItem"} <= {
            call.action for call in made
        }
        policy = role_policy(
            "TriggerProcessorFunction",
            stack_name=STACK_NAME,
            names={"AppTable": deferring.table, "RecordsTable": "records-test"},
        )
        assert policy.denied(made) == []
        assert (
            AwsCall(
                "sqs:SendMessage",
                f"arn:aws:sqs:us-east-1:123456789012:{STACK_NAME}-TriggerProcessorRetryQueue-GENERATED",
            )
            in made
        )


def test_the_console_api_makes_only_the_calls_its_role_grants(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every console route over an answered conversation (the table, gsi1 and the items behind
    it), the Triggers page's (a dry run, a push and a rollback: puts in a transaction) and the
    cancel of a waiting conversation, against ConsoleApiFunction's role; a role without gsi1
    would be refused."""
    import copy

    from functions.console_api import handler as console
    from tests.integration.test_console_api import MESSAGE, MESSAGES, SUMMARY, THREAD
    from tests.integration.test_console_api import TRIGGERS as CONSOLE_TRIGGERS
    from tests.integration.test_console_api import call as console_call
    from tests.support.template import load_template

    world.push(yaml.safe_dump(CONSOLE_TRIGGERS))
    book = world.text("book")
    world.registered(book)
    world.text("yes")
    waiting = world.text("book", BOB)
    world.registered(waiting)
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(console)
    with calls.recording("ConsoleApiFunction"):
        for route, path in [(MESSAGES, {}), (THREAD, {"contact": ALICE}),
                            (MESSAGE, {"sid": book}), (SUMMARY, {})]:  # fmt: skip
            assert console_call(route, "[viewer]", account="acme", **path)["statusCode"] == 200
        assert console_call("/console/api/accounts", "[admin]")["statusCode"] == 200
        assert console_call("/console/api/audit/{account}", account="acme")["statusCode"] == 200
        for route, body, method in triggers_page_calls(book):
            event = console_api_event(route, {"account": "acme"}, groups="[admin]",
                                      method=method, body=json.dumps(body))  # fmt: skip
            answer = console.lambda_handler(event, FakeLambdaContext())
            assert answer["statusCode"] == 200, answer["body"]
        conversations = "/console/api/accounts/{account}/conversations"
        assert console_call(conversations, account="acme")["statusCode"] == 200
        event = console_api_event(f"{conversations}/cancel", {"account": "acme"},
                                  groups="[operator]", method="POST",
                                  body=json.dumps({"id": f"{waiting}:ask/1"}))  # fmt: skip
        assert console.lambda_handler(event, FakeLambdaContext())["statusCode"] == 200
    clear_cached_dependencies(console)
    made = calls.of("ConsoleApiFunction")
    names = {"AppTable": world.table, "AuditTable": "audit-test"}
    assert {c.action for c in made} == {
        "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query",  # the reads
        "dynamodb:PutItem",  # the audit entries, the pushed versions
        "dynamodb:UpdateItem", "dynamodb:DeleteItem", "states:SendTaskFailure",  # a cancel
    }  # fmt: skip
    assert role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names).denied(made) == []
    template = copy.deepcopy(load_template())
    statements = template["Resources"]["ConsoleApiFunction"]["Properties"]["Policies"][0][
        "Statement"
    ]
    [statement] = [s for s in statements if s["Sid"] == "ReadAppTable"]
    statement["Resource"] = [{"Fn::GetAtt": ["AppTable", "Arn"]}]
    table_only = role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names,
                             template=template)  # fmt: skip
    assert table_only.denied(made), "the listings query gsi1: a role without it is refused"


def triggers_page_calls(message_sid: str) -> list[tuple[str, dict[str, object], str]]:
    """The Triggers page's writing and testing calls: a dry run, a push and a rollback."""
    from tests.integration.test_console_api import TRIGGERS as CONSOLE_TRIGGERS

    base = "/console/api/accounts/{account}/triggers"
    edited = yaml.safe_dump(CONSOLE_TRIGGERS).replace("Hi there", "Hello again")
    return [
        (f"{base}/test", {"message": {"sid": message_sid}, "text": edited}, "POST"),
        (base, {"text": edited, "expected_version": 1}, "PUT"),
        (f"{base}/rollback", {"version": 1, "expected_version": 2}, "POST"),
    ]


def test_the_console_pages_make_only_the_calls_the_console_api_role_grants(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The automations and accounts pages' every route (a start, the runs by account and by
    automation, a run, the account, its numbers, verify, receive, connect, a token replaced)
    against ConsoleApiFunction's role: gsi2, the run origin's PutItem, the account's
    UpdateItem, and this stack's account secrets (read and written), nothing else."""
    from functions.console_api import handler as console
    from tests.integration import test_console_pages as pages
    from tests.integration.test_console_pages import call as page_call
    from tests.integration.test_console_pages import form

    world.push(yaml.safe_dump(pages.TRIGGERS))
    world.twilio.add_number(TEST_ACCOUNT_SID, OUR_NUMBER, None)
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(console)
    with calls.recording("ConsoleApiFunction"):
        run = page_call(
            "POST", pages.START, "[operator]", form(), account="acme", automation="reminder"
        )
        run_id = run["json"]["run_id"]
        answers = [
            run,
            page_call("GET", pages.RUNS, account="acme"),
            page_call("GET", pages.RUNS, query={"automation": "reminder"}, account="acme"),
            page_call("GET", pages.RUN, account="acme", run_id=run_id),
            page_call("GET", pages.ACCOUNT, account="acme"),
            page_call("GET", pages.NUMBERS, account="acme"),
            page_call("POST", pages.VERIFY, account="acme"),
            page_call("PUT", pages.RECEIVE, body={"enabled": False}, account="acme"),
            page_call("POST", pages.CONNECT, body={"number": OUR_NUMBER}, account="acme"),
        ]
        world.twilio.add_account(TEST_ACCOUNT_SID, pages.NEW_TOKEN)  # Twilio's new token
        answers.append(
            page_call("PUT", pages.TOKEN, body={"auth_token": pages.NEW_TOKEN}, account="acme")
        )
    clear_cached_dependencies(console)
    assert [a["statusCode"] for a in answers] == [200] * len(answers), [a["json"] for a in answers]
    made = calls.of("ConsoleApiFunction")
    names = {"AppTable": world.table, "AuditTable": "audit-test"}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "secretsmanager:GetSecretValue",
            "secretsmanager:PutSecretValue"} <= {c.action for c in made}  # fmt: skip
    assert any(c.resource.endswith("/index/gsi2") for c in made)
    assert role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names).denied(made) == []


def test_the_console_api_writes_a_thread_only_as_its_role_grants(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply (its item, its step claim and finish, the outbound record, the account's token
    from Secrets Manager, the thread read back), a takeover and a hand-back, against
    ConsoleApiFunction's role: the calls are allowed, and writes need their own statement."""
    import copy

    from functions.console_api import handler as console
    from tests.integration.test_console_thread_writes import HANDBACK, REPLY, TAKEOVER, thread
    from tests.integration.test_console_thread_writes import post as console_post
    from tests.support.template import load_template

    world.push(yaml.safe_dump({"version": 1, "triggers": []}))
    world.text("hello")
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(console)
    with calls.recording("ConsoleApiFunction"):
        assert console_post(REPLY, {"body": "hi", "key": "perm-reply-1"})["statusCode"] == 200
        assert console_post(TAKEOVER, {"minutes": 5})["statusCode"] == 200
        assert thread()["taken_over"] is not None
        assert console_post(HANDBACK, {})["statusCode"] == 200
    clear_cached_dependencies(console)
    made = calls.of("ConsoleApiFunction")
    names = {"AppTable": world.table, "AuditTable": "audit-test"}
    actions = {c.action for c in made}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
            "secretsmanager:GetSecretValue"} <= actions  # fmt: skip
    assert role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names).denied(made) == []
    template = copy.deepcopy(load_template())
    statements = template["Resources"]["ConsoleApiFunction"]["Properties"]["Policies"][0][
        "Statement"
    ]
    statements[:] = [s for s in statements if s["Sid"] != "WriteAppTable"]
    read_only = role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names,
                            template=template)  # fmt: skip
    assert read_only.denied(made), "a read-only role refuses the thread's writes"
    # Each write is checked against the role's dynamodb:LeadingKeys condition with its own
    # partition key: the same write on an item outside the console's prefixes is refused.
    policy = role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names)
    writes = [
        c for c in made
        if c.action in {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
        and str(c.resource).endswith(f":table/{world.table}")
    ]  # fmt: skip
    assert {key.split("#")[0] for c in writes for key in c.leading_keys or ()} >= {
        "MSG", "OUT", "TAKEOVER"}  # fmt: skip
    for write in writes:
        for elsewhere in ("SENDS#acme#+15005550006#+15005550241", "BROADCAST#b-1", "msg#x"):
            moved = AwsCall(write.action, write.resource, (elsewhere,))
            assert policy.denied([moved]) == [moved], moved
        both = AwsCall(write.action, write.resource, (*(write.leading_keys or ()), "BROADCAST#b"))
        assert policy.denied([both]) == [both]  # every key must match (ForAllValues)


def test_the_console_api_lists_and_redrives_dead_letters_with_the_calls_its_role_grants(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Dead letters routes: the queue (receive, release, delete), the stream read back, the
    stored message, the processor invoked (moto has no such function: the message stays
    failing and the entry is kept, after the invoke was made) and the audit entry."""
    from functions.console_api import handler as console
    from tests.integration.test_dead_letters_cli import invocation_record

    world.receive("hello")  # stored, not processed: its stream record goes to the queue
    [record] = world.stream.inserts_of_inbound_messages()
    queue = f"{STACK_NAME}-TriggerProcessorDLQ-GENERATED"  # as role_policy names it
    url = boto3.client("sqs").create_queue(QueueName=queue)["QueueUrl"]
    entry = json.dumps(invocation_record([record]))
    boto3.client("sqs").send_message(QueueUrl=url, MessageBody=entry)
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)
    monkeypatch.setenv("PROCESSOR_FUNCTION_NAME", f"{STACK_NAME}-trigger-processor")
    calls = AwsCalls.install(monkeypatch)
    clear_cached_dependencies(console)
    with calls.recording("ConsoleApiFunction"):
        listing = console.lambda_handler(
            console_api_event("/console/api/dead-letters"), FakeLambdaContext()
        )
        [listed] = json.loads(listing["body"])["items"]
        redrive = json.dumps({"entry": listed["entry"]})
        event = console_api_event("/console/api/dead-letters/redrive", groups="[operator]",
                                  method="POST", body=redrive)  # fmt: skip
        answer = console.lambda_handler(event, FakeLambdaContext())
    clear_cached_dependencies(console)
    assert json.loads(answer["body"])["messages"][0]["outcome"] == "still_failing"
    made = calls.of("ConsoleApiFunction")
    assert {
        "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
        "dynamodb:GetShardIterator",
        "dynamodb:GetRecords", "lambda:InvokeFunction",
        "dynamodb:PutItem",
    } <= {c.action for c in made}  # fmt: skip
    names = {"AppTable": world.table, "AuditTable": "audit-test"}
    assert role_policy("ConsoleApiFunction", stack_name=STACK_NAME, names=names).denied(made) == []


EMAIL_TRIGGERS = """
version: 1
triggers:
  - name: forward
    actions:
      - {type: send_email, to: desk@example.org, subject: "SMS from %From%", text: "%Body%"}
"""


def test_the_processor_sends_email_only_as_the_senders_the_deployment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ses:SendEmail on the sender's identity: granted when EmailSenders names it, and not at
    all when EmailSenders is empty (the statement is left out)."""
    monkeypatch.setenv("EMAIL_SENDERS", "bot@example.com")
    with running_world(monkeypatch, EMAIL_TRIGGERS) as world:
        boto3.client("ses").verify_email_identity(EmailAddress="bot@example.com")
        calls = AwsCalls.install(monkeypatch)
        clear_cached_dependencies(processor)
        records = world.receive()
        with calls.recording("TriggerProcessorFunction"):
            assert world.deliver(records) == []
        made = calls.of("TriggerProcessorFunction")
        names = {"AppTable": world.table, "RecordsTable": "records-test"}
        send = AwsCall(
            "ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/bot@example.com"
        )
        assert send in made
        for function in ("TriggerProcessorFunction", "ConversationResumeFunction"):
            named = role_policy(
                function,
                stack_name=STACK_NAME,
                names=names,
                parameters={"EmailSenders": ["bot@example.com"]},
            )
            assert named.allows(send.action, send.resource)
            unnamed = role_policy(function, stack_name=STACK_NAME, names=names)
            assert not unnamed.allows(send.action, send.resource)
        assert (
            role_policy(
                "TriggerProcessorFunction",
                stack_name=STACK_NAME,
                names=names,
                parameters={"EmailSenders": ["bot@example.com"]},
            ).denied(made)
            == []
        )


ACTION_TRIGGERS = """
version: 1
triggers:
  - name: act
    actions:
      - {type: invoke_lambda, function: lookup, payload: {from: "%From%"}}
      - {type: publish_event, bus: orders, detail_type: SMS, detail: {from: "%From%"}}
"""


def test_the_processor_invokes_and_publishes_only_on_what_the_deployment_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """lambda:InvokeFunction and events:PutEvents on exactly the ARNs the parameters name; no
    statement at all when they are empty."""
    with running_world_with_targets(monkeypatch, ACTION_TRIGGERS) as (world, _):
        calls = AwsCalls.install(monkeypatch)
        clear_cached_dependencies(processor)
        records = world.receive()
        with calls.recording("TriggerProcessorFunction"):
            assert world.deliver(records) == []
        made = calls.of("TriggerProcessorFunction")
    invoke = AwsCall(
        "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:lookup"
    )
    put = AwsCall("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/orders")
    assert {invoke, put} <= made
    names = {"AppTable": world.table, "RecordsTable": "records-test"}
    parameters = {"EventBusArns": [put.resource], "InvokeFunctionArns": [invoke.resource]}
    for function in ("TriggerProcessorFunction", "ConversationResumeFunction"):
        named = role_policy(function, stack_name=STACK_NAME, names=names, parameters=parameters)
        assert named.allows(invoke.action, invoke.resource)
        assert named.allows(put.action, put.resource)
        assert not named.allows(put.action, put.resource.replace("orders", "other"))
        unnamed = role_policy(function, stack_name=STACK_NAME, names=names)
        assert not unnamed.allows(invoke.action, invoke.resource)
        assert not unnamed.allows(put.action, put.resource)
    policy = role_policy(
        "TriggerProcessorFunction", stack_name=STACK_NAME, names=names, parameters=parameters
    )
    assert policy.denied(made) == []
