"""The ``demo`` account that ``make run`` seeds into the local stack.

Local-only test credentials, public on purpose: they open nothing but the local emulator. The
SID and token have Twilio's shapes; the number is Twilio's magic test number for "a valid,
SMS-capable From", so nothing real is ever reached with them.
"""

from __future__ import annotations

from typing import Final

DEMO_ACCOUNT: Final = "demo"
DEMO_ACCOUNT_SID: Final = "AC00000000000000000000000000000de0"
DEMO_AUTH_TOKEN: Final = "10ca1000000000000000000000000de0"  # noqa: S105 (a public test value)
DEMO_NUMBER: Final = "+15005550006"
DEMO_CONTACT: Final = "+15005550001"
DEMO_EMAIL_SENDER: Final = "bot@demo.example.com"
"""The local stack's ``EmailSenders``: an SES identity ``make run`` creates on the emulator."""
DEMO_FUNCTION: Final = "demo-echo"
"""A function ``make run`` creates on the emulator (it answers with its event): the local
stack's ``InvokeFunctionArns``."""
DEMO_BUS: Final = "demo-events"
"""An EventBridge bus ``make run`` creates on the emulator: the local stack's ``EventBusArns``."""
EMULATOR_ACCOUNT: Final = "000000000000"
# The local web console's demo admin (make run creates it with a permanent password).
DEMO_CONSOLE_EMAIL: Final = "admin@example.com"
DEMO_CONSOLE_PASSWORD: Final = "Demo-console-1"  # noqa: S105 (a public local-only value)
