"""``sms-automation webhook sign|verify``: exit codes, output, token sources, file handling."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sms_automation.webhooks.signature import body_sha256, compute_signature, url_with_body_hash
from sms_automation_cli.main import main

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TOKEN = "12345"
PREVIOUS_TOKEN = "67890"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="  # twilio-python/-node/-java/-ruby/-php test vector
JSON_BODY = b'{"property": "value", "boolean": true}'
JSON_URL = url_with_body_hash(URL, JSON_BODY)
JSON_SIGNATURE = "a9nBmqA0ju/hNViExpshrM61xv4="  # the same libraries' bodySHA256 vector


@pytest.fixture(autouse=True)
def _no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)


@pytest.fixture
def form_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.txt"
    path.write_text(urlencode(PARAMS), encoding="utf-8")
    return path


@pytest.fixture
def json_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_bytes(JSON_BODY)
    return path


def _verify(*extra: str, body: Path, signature: str = SIGNATURE, url: str = URL) -> int:
    kind = "--json-file" if body.suffix == ".json" else "--form-file"
    argv = ["webhook", "verify", "--url", url, "--signature", signature, kind, str(body)]
    return main([*argv, *extra])


# ------------------------------------------------------------------ sign


def test_sign_form_prints_the_signature(
    form_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["webhook", "sign", "--url", URL, "--auth-token", TOKEN, "--form-file", str(form_file)]
    )

    assert code == 0
    assert capsys.readouterr().out == f"{SIGNATURE}\n"


def test_sign_form_drops_exactly_one_trailing_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "Body=hi&ToCity="
    signatures = []
    for suffix in ("", "\n", "\r\n", "\n\n"):
        path = tmp_path / "body.txt"
        path.write_bytes((body + suffix).encode())
        main(["webhook", "sign", "--url", URL, "--auth-token", TOKEN, "--form-file", str(path)])
        signatures.append(capsys.readouterr().out.strip())

    expected = compute_signature(URL, [("Body", "hi"), ("ToCity", "")], TOKEN)
    assert signatures[:3] == [expected] * 3
    assert signatures[3] != expected


def test_sign_form_warns_about_a_raw_line_break_inside_the_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "body.txt"
    path.write_text("Body=hi\n&To=%2B15005550006\n")

    main(["webhook", "sign", "--url", URL, "--auth-token", TOKEN, "--form-file", str(path)])

    assert "line break inside the body" in capsys.readouterr().err


def test_sign_json_appends_bodysha256_and_prints_url_then_signature(
    json_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["webhook", "sign", "--url", URL, "--auth-token", TOKEN, "--json-file", str(json_file)]
    )

    assert code == 0
    assert capsys.readouterr().out.splitlines() == [JSON_URL, JSON_SIGNATURE]


def test_sign_json_with_bodysha256_prints_only_the_signature(
    json_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["webhook", "sign", "--url", JSON_URL, "--auth-token", TOKEN]

    code = main([*argv, "--json-file", str(json_file)])

    assert code == 0
    assert capsys.readouterr().out == f"{JSON_SIGNATURE}\n"


def test_sign_json_with_a_stale_bodysha256_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "edited.json"
    edited.write_bytes(JSON_BODY + b"\n")
    argv = ["webhook", "sign", "--url", JSON_URL, "--auth-token", TOKEN]

    code = main([*argv, "--json-file", str(edited)])

    assert code == 2
    assert body_sha256(JSON_BODY + b"\n") in capsys.readouterr().err


# ------------------------------------------------------------------ verify


def test_verify_valid_form_exits_0_naming_url_and_current_token(
    form_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _verify("--auth-token", TOKEN, body=form_file)

    out = capsys.readouterr().out
    assert code == 0
    assert out == f"valid: signed for {URL} with the current auth token\n"


def test_verify_reports_previous_token_and_matched_port_variant(
    form_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_url = URL.replace(".com/", ".com:443/")
    signature = compute_signature(signed_url, PARAMS, PREVIOUS_TOKEN)

    code = _verify(
        "--auth-token", TOKEN, "--auth-token", PREVIOUS_TOKEN, body=form_file, signature=signature
    )

    assert code == 0
    assert (
        capsys.readouterr().out == f"valid: signed for {signed_url} with the previous auth token\n"
    )


def test_verify_invalid_exits_1_listing_urls_token_count_and_hints(
    form_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _verify("--auth-token", "wrong", "--auth-token", "also-wrong", body=form_file)

    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("invalid: no URL/token matched\ntried 2 auth token(s)")
    assert f"  {URL}\n  {URL.replace('.com/', '.com:443/')}\n" in out
    for cause in ("https", "proxy", "port", "stage path", "query string", "ToCity="):
        assert cause in out
    assert "wrong" not in out


def test_verify_json_valid_exits_0(json_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = _verify("--auth-token", TOKEN, body=json_file, url=JSON_URL, signature=JSON_SIGNATURE)

    assert code == 0
    assert capsys.readouterr().out.startswith(f"valid: signed for {JSON_URL}")


def test_verify_json_with_edited_body_explains_the_hash_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = tmp_path / "edited.json"
    edited.write_bytes(JSON_BODY + b"\n")

    code = _verify("--auth-token", TOKEN, body=edited, url=JSON_URL, signature=JSON_SIGNATURE)

    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("invalid: bodySHA256 does not match the body")
    assert body_sha256(JSON_BODY + b"\n") in out


def test_verify_json_without_bodysha256_explains_where_it_belongs(
    json_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _verify("--auth-token", TOKEN, body=json_file, signature=JSON_SIGNATURE)

    out = capsys.readouterr().out
    assert code == 1
    assert "bodySHA256 missing" in out
    assert "query string" in out


# ------------------------------------------------------------------ tokens


def test_verify_reads_tokens_from_stdin_lines(
    form_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"wrong\n{TOKEN}\n"))

    code = _verify("--auth-token", "-", "--auth-token", "-", body=form_file)

    assert code == 0
    assert "previous auth token" in capsys.readouterr().out


def test_sign_reads_token_from_environment(
    form_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)

    code = main(["webhook", "sign", "--url", URL, "--form-file", str(form_file)])

    assert code == 0
    assert capsys.readouterr().out == f"{SIGNATURE}\n"


def test_sign_without_any_token_is_a_usage_error(
    form_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["webhook", "sign", "--url", URL, "--form-file", str(form_file)])

    assert code == 2
    assert "TWILIO_AUTH_TOKEN" in capsys.readouterr().err


def test_verify_with_empty_stdin_is_a_usage_error(
    form_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert _verify("--auth-token", "-", body=form_file) == 2
    assert "no token line on stdin" in capsys.readouterr().err


def test_verify_with_three_tokens_is_a_usage_error(form_file: Path) -> None:
    assert (
        _verify("--auth-token", "a", "--auth-token", "b", "--auth-token", "c", body=form_file) == 2
    )


# ------------------------------------------------------------------ usage errors


def test_verify_with_unreadable_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.txt"

    assert _verify("--auth-token", TOKEN, body=missing) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err


def test_verify_with_non_utf8_form_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "body.txt"
    latin1.write_bytes("Body=café".encode("latin-1"))

    assert _verify("--auth-token", TOKEN, body=latin1) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_verify_with_both_body_files_exits_2(form_file: Path, json_file: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _verify("--auth-token", TOKEN, "--json-file", str(json_file), body=form_file)

    assert exit_info.value.code == 2


# ------------------------------------------------------------------ console script


def test_console_script_verifies_with_token_from_environment(form_file: Path) -> None:
    script = Path(sys.executable).with_name("sms-automation")
    argv = ["webhook", "verify", "--url", URL, "--signature", SIGNATURE]

    result = subprocess.run(  # noqa: S603 (our own console script, fixed arguments)
        [str(script), *argv, "--form-file", str(form_file)],
        env={**os.environ, "TWILIO_AUTH_TOKEN": TOKEN},
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout) == (
        0,
        f"valid: signed for {URL} with the current auth token\n",
    )
