"""The local stack (``make run``) as the CLI sees it: its state file, the demo account, and a
Twilio-shaped inbound SMS. The runner that starts the stack lives in the repository's ``local/``.
"""
