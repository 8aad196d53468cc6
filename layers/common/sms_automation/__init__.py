"""Twilio SMS automation on AWS serverless: the shared package every function imports.

Importing it holds the SDKs' wire logs at WARNING (``wire_logs``): they carry message text,
phone numbers and secrets, and no log level of ours may let them through.
"""

from sms_automation.wire_logs import hold_wire_logs_at_warning

hold_wire_logs_at_warning()
