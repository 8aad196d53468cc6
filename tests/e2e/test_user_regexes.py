"""On the deployed local stack: user regexes run on RE2 inside the Lambda runtime (the layer
carries google-re2). A 1,600-character body built to make a backtracking engine try every split
is answered like any other message and holds up nothing behind it; non-ASCII words are matched
and extracted. Polls with a bounded deadline; never asserts a time."""

from __future__ import annotations

import pytest

from sms_automation_local.demo import DEMO_AUTH_TOKEN
from sms_automation_local.state import LocalState
from tests.e2e.conftest import sms_automation
from tests.e2e.polling import wait_for
from tests.e2e.texting import replies_to, send

pytestmark = pytest.mark.e2e

TRIGGERS = r"""version: 1
triggers:
  - name: words
    when: {field: Body, regex: '^(\w+\s?){1,40}$'}
    extract: [{regex: '^(?P<first>\w+)'}]
    actions: [{type: send_sms, body: "words from %first%"}]
  - name: other
    when: {not: {field: Body, regex: '^(\w+\s?){1,40}$'}}
    actions: [{type: send_sms, body: "not words"}]
"""


def test_a_hostile_body_is_answered_and_the_next_message_follows(
    local_stack: LocalState, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    triggers = tmp_path_factory.mktemp("triggers") / "regexes.yaml"
    triggers.write_text(TRIGGERS, encoding="utf-8")
    added = sms_automation(
        cli_env,
        "accounts",
        "add",
        "regexes",
        "--account-sid",
        local_stack.demo_account_sid,
        "--auth-token-stdin",
        stdin=DEMO_AUTH_TOKEN + "\n",
    )
    assert added.returncode == 0, added.stderr
    pushed = sms_automation(cli_env, "triggers", "push", "regexes", str(triggers))
    assert pushed.returncode == 0, pushed.stderr

    contact = "+15005550151"  # its own: the demo's catch-all answers contacts of other tests
    for body in ("é" * 1_599 + "!", "Zoë Привет"):
        send(local_stack, contact, body, account="regexes")

    def both_replies() -> list[str] | None:
        bodies = sorted(message["body"] for message in replies_to(local_stack, contact))
        return bodies if len(bodies) >= 2 else None

    assert wait_for("both replies", both_replies) == ["not words", "words from Zoë"]
