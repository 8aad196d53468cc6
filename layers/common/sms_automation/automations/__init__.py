"""Automations started from outside an SMS: by the HTTP API, an EventBridge event, a schedule or
the CLI. Every way goes through ``AutomationStarter.start``: the request is checked against the
account's current trigger file (nothing is stored for a rejected one), then the run's origin is
stored once (the idempotency key picks its id) and the trigger processor runs it from the
table's stream, exactly like an inbound message. See docs/automations.md.
"""
