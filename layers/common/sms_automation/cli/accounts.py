"""``sms-automation accounts``: placeholder until the inbound webhook lands (being written now)."""

import argparse


def register(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    groups.add_parser("accounts", help="Twilio accounts")
