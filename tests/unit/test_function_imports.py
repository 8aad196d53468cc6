"""The cold start of the functions on the message path: importing a handler as Lambda does (its
directory, then the layer) loads none of the heavy packages its first event does not need
(``make bench``): no Powertools (``log_lines`` writes their lines), no pydantic or YAML (the
trigger file is compiled on first use), no twilio or requests (loaded when something is sent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.python import run_python

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_IMPORT = ("aws_lambda_powertools", "pydantic", "yaml", "twilio", "requests", "re2")


@pytest.mark.parametrize(
    "function",
    [
        "inbound_webhook",
        "status_callback",
        "trigger_processor",
        "wait_register",
        "wait_resume",
        "wait_timer",
    ],
)
def test_a_handler_imports_without_powertools_pydantic_yaml_or_twilio(function: str) -> None:
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / function)!r}, "
        f"{str(ROOT / 'layers' / 'common')!r}]\n"
        "import handler\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({NOT_AT_IMPORT!r})))\n"
    )
    assert run_python(code).strip() == "[]"
