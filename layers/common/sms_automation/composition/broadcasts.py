"""``broadcasts.service`` on AWS: the app table (records, contacts, the automation starter), the
broadcasts bucket and the broadcast state machine; ``service()`` once per warm Lambda. The
state machine's two functions: ``composition.broadcast_steps``, ``composition.broadcast_row``."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sms_automation.adapters.broadcast_engine import StepFunctionsBroadcastEngine
from sms_automation.adapters.broadcast_files import S3BroadcastFiles
from sms_automation.adapters.broadcast_store import DynamoBroadcastStore
from sms_automation.adapters.contact_store import DynamoContactStore
from sms_automation.broadcasts.service import Broadcasts
from sms_automation.composition.automations import dynamo_starter
from sms_automation.edge import aws
from sms_automation.edge.settings import BroadcastSettings
from sms_automation.opt_out import opted_out


def broadcasts(settings: BroadcastSettings, *, dynamodb: Any, s3: Any, states: Any) -> Broadcasts:
    contacts = DynamoContactStore(settings.table_name, dynamodb)
    return Broadcasts(
        store=DynamoBroadcastStore(settings.table_name, dynamodb),
        files=S3BroadcastFiles(settings.bucket, s3),
        engine=StepFunctionsBroadcastEngine(settings.state_machine_arn, states),
        starter=dynamo_starter(settings.table_name, dynamodb),
        opted_out=lambda account, sender, contact: (
            opted_out(contacts, account, [sender], contact) is not None
        ),
        clock=lambda: datetime.now(UTC),
        monotonic=time.monotonic,
    )


@cache
def service() -> Broadcasts:
    settings = BroadcastSettings.from_environ(os.environ)
    return broadcasts(
        settings,
        dynamodb=aws.client("dynamodb"),
        s3=aws.client("s3"),
        states=aws.client("stepfunctions"),
    )
