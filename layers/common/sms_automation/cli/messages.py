"""``sms-automation messages``: placeholder until the inbound webhook lands (being written now)."""

import argparse


def register(groups: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    groups.add_parser("messages", help="stored inbound messages")
