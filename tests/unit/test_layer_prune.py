"""The local stack's pruned layer keeps every AWS service model and Twilio domain the code
uses (``local/sms_automation_local/layer_prune.py``): a client for each loads from a pruned copy."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import botocore
import twilio

from sms_automation_local.layer_prune import AWS_SERVICES, TWILIO_DOMAINS, prune_layer
from tests.support.python import run_python

ROOT = Path(__file__).resolve().parents[2]
CODE = [ROOT / "layers" / "common" / "sms_automation", ROOT / "functions"]
_CLIENT = re.compile(r"""\bclient\(\s*["']([a-z0-9-]+)["']""")


def _sources() -> list[str]:
    return [p.read_text(encoding="utf-8") for top in CODE for p in sorted(top.rglob("*.py"))]


def test_every_aws_service_the_code_creates_a_client_for_is_kept() -> None:
    used = {name for source in _sources() for name in _CLIENT.findall(source)}
    assert used, "the scan finds the clients"
    assert used <= AWS_SERVICES


def test_every_twilio_domain_the_code_reads_is_kept() -> None:
    domains = {p.name for p in (Path(twilio.__file__).parent / "rest").iterdir() if p.is_dir()}
    domains.discard("__pycache__")
    pattern = re.compile(r"\b(?:client|twilio\.rest)\.(" + "|".join(sorted(domains)) + r")\b")
    used = {name for source in _sources() for name in pattern.findall(source)}
    assert used, "the scan finds the Twilio client's domains"
    assert used <= TWILIO_DOMAINS


def test_prune_removes_only_unused_models_and_domains(tmp_path: Path) -> None:
    data = tmp_path / "botocore" / "data"
    for service in ("dynamodb", "glacier", "ec2"):
        (data / service / "2012-08-10").mkdir(parents=True)
        (data / service / "2012-08-10" / "service-2.json").write_text("{}")
    (data / "endpoints.json").write_text("{}")
    rest = tmp_path / "twilio" / "rest"
    for domain in ("api", "chat", "video"):
        (rest / domain).mkdir(parents=True)
        (rest / domain / "__init__.py").write_text("")
    (rest / "__init__.py").write_text("")

    assert prune_layer(tmp_path) == 4
    assert sorted(p.name for p in data.iterdir()) == ["dynamodb", "endpoints.json"]
    assert sorted(p.name for p in rest.iterdir()) == ["__init__.py", "api"]
    assert prune_layer(tmp_path) == 0
    assert prune_layer(tmp_path / "nothing-here") == 0


def test_clients_of_every_kept_service_and_twilio_s_api_load_from_a_pruned_copy(
    tmp_path: Path,
) -> None:
    layer = tmp_path / "python"
    for package in (botocore, twilio):
        source = Path(package.__file__).parent
        shutil.copytree(source, layer / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    assert prune_layer(layer) > 1000
    code = (
        "import boto3, botocore, twilio\n"
        f"assert botocore.__file__.startswith({str(layer)!r}), botocore.__file__\n"
        f"assert twilio.__file__.startswith({str(layer)!r}), twilio.__file__\n"
        f"for service in {sorted(AWS_SERVICES)!r}:\n"
        "    boto3.client(service, region_name='us-east-1', aws_access_key_id='x',\n"
        "                 aws_secret_access_key='x')\n"
        "from twilio.rest import Client\n"
        "client = Client('AC' + '0' * 32, 'token')\n"
        "print(client.api.v2010.accounts('AC' + '0' * 32).messages)\n"
    )
    assert "MessageList" in run_python(code, pythonpath=layer)
