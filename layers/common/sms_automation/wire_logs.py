"""The SDKs' wire logs stay off, whatever the function's log level.

botocore writes whole request and response bodies at DEBUG (a message's text in a ``PutItem``,
an auth token in ``GetSecretValue``'s answer), urllib3 the URLs it opens, and twilio-python
the query parameters of its requests (full phone numbers) at INFO. The template allows
``LogLevel=DEBUG`` for troubleshooting, and Lambda then sets the root logger to DEBUG: without
this, those lines would reach CloudWatch. Their loggers are held at WARNING, so warnings and
errors from the SDKs still show, their wire traffic never.
"""

from __future__ import annotations

import logging
from typing import Final

WIRE_LOGGERS: Final = ("botocore", "boto3", "s3transfer", "urllib3", "twilio")


def hold_wire_logs_at_warning() -> None:
    """Raise each SDK logger to WARNING (a logger already set higher is left as it is)."""
    for name in WIRE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:  # NOTSET (0) included: it would inherit the root's
            logger.setLevel(logging.WARNING)
