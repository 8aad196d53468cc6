"""``sms-automation webhook``: placeholder until the inbound webhook lands (being written now)."""

import argparse


def register(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    groups.add_parser("webhook", help="sign and verify X-Twilio-Signature")
