"""Trigger processing: a stored inbound message in, its triggers' actions performed exactly once.

``intake`` decides what a message goes through before its triggers (the loop guard, opt-out and
HELP keywords, answers to conversations), ``runner`` drives the trigger engine for one message,
``ledger`` is the rule of one idempotency record per side-effecting step, ``port`` is the
engine's ``ActionPort`` on top of it, and ``effects`` performs the steps (Twilio, record tables,
HTTP). What they need from outside is in ``ports``; the adapters and the composition
(``composition.runtime``) live outside this package.
"""
