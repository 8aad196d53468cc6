"""The console's static files (console/): what the browser loads is safe by construction.

- No script builds markup from strings (innerHTML and friends, document.write, eval): message
  text, contact numbers and Twilio parameters are hostile and reach the DOM only as text nodes.
- The page carries a Content-Security-Policy allowing no inline script or style, and holds no
  inline script, style or event-handler attribute that such a policy would have to allow; the
  hosting's header policy (template.yaml) is the same policy plus ``frame-ancestors 'none'``.
- The page reads its settings from config.json at run time (written by make deploy / make run):
  no URL, pool or client id is baked into the files.
- Every relative ES module import, static or dynamic, resolves to a file of the folder (no
  build step catches it).

console/vendor/yaml-editor.bundle.js is third-party code (CodeMirror and friends, built by
tools/console-editor) held to the same rules: it holds no markup sink and no baked URL, so it
needs no exemption; a new version that brought one would fail here and have to be looked at
(a narrow, explained exemption, or another version).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.template import ROOT, load_template

CONSOLE = ROOT / "console"
MARKUP_SINKS = re.compile(
    r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\s*\(|new\s+Function\b"
    r"|createContextualFragment|srcdoc"
)
IMPORT = re.compile(r"""^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']""", re.M)
DYNAMIC_IMPORT = re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)""")


def scripts() -> list[Path]:
    return sorted(CONSOLE.rglob("*.js"))


def markup_sinks(source: str) -> list[str]:
    return [match.group(0) for match in MARKUP_SINKS.finditer(source)]


def test_the_sink_scanner_finds_each_way_of_inserting_markup() -> None:
    for line in (
        "list.innerHTML = body;",
        "a.outerHTML = x",
        "el.insertAdjacentHTML('beforeend', body)",
        "document.write(x)",
        "eval(text)",
        "new Function(text)",
        "range.createContextualFragment(x)",
    ):
        assert markup_sinks(line), line
    assert markup_sinks("node.textContent = body; el.append(text)") == []


@pytest.mark.parametrize("script", scripts(), ids=lambda p: p.relative_to(CONSOLE).as_posix())
def test_no_script_inserts_markup(script: Path) -> None:
    assert markup_sinks(script.read_text()) == []


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.csp: list[str] = []
        self.inline: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == (
            "content-security-policy"
        ):
            self.csp.append(attributes.get("content") or "")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script":
            if not attributes.get("src"):
                self.inline.append("<script> without src")
            else:
                self.scripts.append(attributes["src"] or "")
        for name in attributes:
            if name.startswith("on") or name == "style":
                self.inline.append(f"{tag} {name}=")


def page() -> _Page:
    parsed = _Page()
    parsed.feed((CONSOLE / "index.html").read_text())
    return parsed


def directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            found[words[0]] = words[1:]
    return found


def test_the_page_has_a_csp_without_inline_script_or_style() -> None:
    parsed = page()
    [policy] = parsed.csp
    found = directives(policy)
    assert found["default-src"] == ["'none'"]
    assert found["script-src"] == ["'self'"]
    assert found["style-src"] == ["'self'"]
    assert found["base-uri"] == ["'none'"]
    assert "unsafe" not in policy
    assert parsed.inline == []
    assert parsed.scripts == ["js/app.js"]


def test_the_hosting_sends_the_pages_policy_and_refuses_framing() -> None:
    resources = load_template()["Resources"]
    config = resources["ConsoleSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    sent = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    sent = directives(sent.replace("${AWS::URLSuffix}", "amazonaws.com"))
    assert sent.pop("frame-ancestors") == ["'none'"]
    assert sent == directives(page().csp[0])
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    behaviour = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    assert behaviour["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {
        "Ref": "ConsoleSecurityHeaders"
    }
    assert behaviour["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_the_bucket_is_private_and_read_only_through_the_distribution() -> None:
    resources = load_template()["Resources"]
    bucket = resources["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    origin = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]}
    statements = resources["ConsoleBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [allow] = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in allow["Condition"]["StringEquals"]


def test_settings_come_from_config_json_not_from_the_files() -> None:
    assert not (CONSOLE / "config.json").exists()  # written at deploy / run time
    assert 'fetchWithin("config.json"' in (CONSOLE / "js" / "config.js").read_text()
    baked = re.compile(r"execute-api|cognito-idp\.[a-z]|us-east-1_|127\.0\.0\.1|localhost")
    for script in scripts():
        assert baked.findall(script.read_text()) == [], script


def test_every_relative_import_resolves() -> None:
    for script in scripts():
        source = script.read_text()
        for target in IMPORT.findall(source) + DYNAMIC_IMPORT.findall(source):
            assert target.startswith(("./", "../")), (script, target)
            resolved = (script.parent / target).resolve()
            assert resolved.is_file(), (script, target)
            assert resolved.is_relative_to(CONSOLE.resolve()), (script, target)
