"""Trigger processing: a stored inbound message in, its triggers' actions performed exactly once.

``runner`` drives the trigger engine for one message, ``ledger`` keeps one idempotency record
per side-effecting step, ``port`` is the engine's ``ActionPort`` on top of both, and ``effects``
performs the steps (Twilio, DynamoDB, HTTP).
"""
