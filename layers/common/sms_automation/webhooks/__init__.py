"""Twilio's two webhooks: what they share and what each does.

Both are signed by Twilio and served the same way (``route.TwilioRoute``): the request parsed
from the HTTP API event (``request``), its signature checked (``signature``, ``authenticate``),
refused with one exception type per reason (``rejections``) or answered with empty TwiML
(``responses``). Then:

- the Messaging webhook (``POST /twilio/{account}/sms``) stores the inbound message exactly
  once (``receive_message``; the stored item: ``inbound_message``);
- the status callback (``POST /twilio/{account}/status``) records what became of a message or
  call we created (``receive_status``, which also holds the outbound lifecycle the sender uses:
  the callback URL naming the step, the kinds and their status ranks).
"""
