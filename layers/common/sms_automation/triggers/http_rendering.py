"""``http_request`` templates rendered for where the text goes: URL, query, JSON, headers.

A ``url:`` is parsed once, when the trigger file is loaded, and split where the author's own
text puts the URL's parts: ``scheme://host[:port]``, then the path, the query, the fragment.

- The scheme and the port are the author's text (``http://``/``https://`` written out). A
  variable in the host may fill in host-name characters only (letters, digits, ``.``, ``-``):
  it cannot add a user name, a port, a path or a fragment (``evil.com@127.0.0.1#``).
- A variable in the path, the query or the fragment is percent-encoded as one component (every
  byte but ``A-Z a-z 0-9 - . _ ~``): ``?phone=%From%`` sends ``phone=%2B1…``, a ``/`` stays in
  its segment (and a value ``..`` is sent as ``%2E%2E``, not as a step up), ``&``, ``=`` and
  ``#`` cannot add parameters or end the query.
- The author's own text keeps its ``/ ? & = # %``; only what a URL cannot carry (a space,
  non-ASCII text) is percent-encoded.
- ``query:`` pairs are encoded the same way and appended to the URL's query.
- ``json:``: every string in the value is a template rendered as text (numbers, booleans,
  ``null``, lists and mappings kept); the result is serialized with ``json.dumps``.
- A header value may hold any text but a control character (CR and LF above all), checked
  after rendering.

Errors never quote the rendered text: it is message text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from sms_automation.triggers.variables import Template, VariableRef, parse_template

Component = Literal["host", "path", "query", "fragment"]
Render = Callable[[Template], str]

_SCHEME: Final = re.compile(r"(https?)://", re.IGNORECASE)
_HOST_TEXT: Final = re.compile(r"[A-Za-z0-9.-]+")
AUTHORITY: Final = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
"""``host[:port]`` as a URL may hold it here: a host name or an IP address, nothing else."""
_ENDS: Final[dict[Component, str]] = {"host": "/?#", "path": "?#", "query": "#", "fragment": ""}
_STARTS: Final[dict[str, Component]] = {"/": "path", "?": "query", "#": "fragment"}
_AUTHORS_SYNTAX: Final = "!#$&'()*+,/:;=?@[]~%"
"""Kept as written in the author's text (with unreserved characters): the URL's own syntax."""
HEADER_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters a header value cannot hold (a tab is allowed)."""


class UrlTemplateError(ValueError):
    """The ``url:`` cannot be a safe template (found when the trigger file is loaded)."""


class RenderError(ValueError):
    """A rendered value cannot go where it goes; the message never quotes the value."""


def encode_component(text: str) -> str:
    """``text`` as one URL component: every byte percent-encoded but the unreserved ones."""
    try:
        return quote(text, safe="")
    except UnicodeEncodeError:
        raise RenderError("a variable holds text that is not valid Unicode") from None


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    scheme: str
    pieces: tuple[tuple[Component, str | Template], ...]
    """Literal text (already encoded) or one variable, with the part of the URL it is in."""

    def render(self, render: Render, query: Mapping[str, Template] | None = None) -> str:
        rendered: dict[Component, list[str]] = {c: [] for c in _ENDS}
        for component, piece in self.pieces:
            if isinstance(piece, str):
                rendered[component].append(piece)
            elif component == "host":
                rendered[component].append(_host_text(render(piece)))
            elif component == "path" and (text := render(piece)) in (".", ".."):
                rendered[component].append(text.replace(".", "%2E"))  # not a dot-segment
            else:
                rendered[component].append(encode_component(render(piece)))
        host = "".join(rendered["host"])
        if not AUTHORITY.fullmatch(host):
            raise RenderError("the URL's host is not a host name after substitution")
        url_query = "".join(rendered["query"])
        if query:
            pairs = "&".join(
                f"{encode_component(name)}={encode_component(render(value))}"
                for name, value in query.items()
            )
            url_query = _joined_query(url_query, pairs)
        path, fragment = "".join(rendered["path"]), "".join(rendered["fragment"])
        return f"{self.scheme}://{host}{path}{url_query}{fragment}"


def _host_text(text: str) -> str:
    if not _HOST_TEXT.fullmatch(text):
        raise RenderError(
            "a variable in the URL's host is not a host name "
            "(letters, digits, '.' and '-' only) after substitution"
        )
    return text


def _joined_query(query: str, pairs: str) -> str:
    if not query:
        return f"?{pairs}"
    if query.endswith(("?", "&")):
        return query + pairs
    return f"{query}&{pairs}"


def parse_url_template(source: str) -> UrlTemplate:
    template = parse_template(source)
    first = template.parts[0] if template.parts else ""
    scheme = _SCHEME.match(first) if isinstance(first, str) else None
    if scheme is None or not isinstance(first, str):
        raise UrlTemplateError(
            "the url must start with http:// or https:// written out "
            "(a variable cannot choose the scheme or the host)"
        )
    parts: list[str | VariableRef] = [first[scheme.end() :], *template.parts[1:]]
    pieces: list[tuple[Component, str | Template]] = []
    component: Component = "host"
    for part in parts:
        if isinstance(part, VariableRef):
            pieces.append((component, Template(f"%{part.name}%", (part,))))
            continue
        for chunk_component, chunk in _split_literal(part, component):
            component = chunk_component
            text = chunk if component == "host" else quote(chunk, safe=_AUTHORS_SYNTAX)
            pieces.append((component, text))
    _check_authority(pieces)
    return UrlTemplate(scheme.group(1).lower(), tuple(pieces))


def _split_literal(text: str, component: Component) -> list[tuple[Component, str]]:
    """``text`` cut where a character the author wrote starts the URL's next part."""
    chunks: list[tuple[Component, str]] = []
    start = 0
    for index, char in enumerate(text):
        if char in _ENDS[component]:
            if index > start:
                chunks.append((component, text[start:index]))
            component, start = _STARTS[char], index
    if start < len(text):
        chunks.append((component, text[start:]))
    return chunks


def _check_authority(pieces: list[tuple[Component, str | Template]]) -> None:
    """The ``host[:port]`` as written, a variable standing for a host-name label."""
    host_pieces = [piece for component, piece in pieces if component == "host"]
    written = "".join(piece if isinstance(piece, str) else "x" for piece in host_pieces)
    if "@" in written:
        raise UrlTemplateError("the url cannot hold a user name or password ('@' in its host)")
    literal = ""
    for piece in host_pieces:
        if isinstance(piece, str):
            literal += piece
        elif ":" in literal.rpartition("]")[2]:
            raise UrlTemplateError("the url's port must be written as digits, not a variable")
    if not AUTHORITY.fullmatch(written):
        raise UrlTemplateError(
            "the url's host must be a host name (letters, digits, '.' and '-') or an IP "
            "address, optionally with a :port"
        )


def header_problem(name: str, value: str) -> str | None:
    if HEADER_CONTROL.search(value):
        return (
            f"the value of header {name!r} holds a control character (a line break, ...) "
            "after substitution"
        )
    return None


@dataclass(frozen=True, slots=True)
class JsonTemplate:
    """A ``json:`` value with its strings parsed as templates."""

    value: Any

    @classmethod
    def parse(cls, value: Any) -> JsonTemplate:
        return cls(_parse_json_value(value))

    def render(self, render: Render) -> str:
        return json.dumps(_render_json_value(self.value, render), ensure_ascii=False)


def _parse_json_value(value: Any) -> Any:
    if isinstance(value, str):
        return parse_template(value)
    if isinstance(value, Mapping):
        return {str(key): _parse_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_parse_json_value(item) for item in value]
    return value


def _render_json_value(value: Any, render: Render) -> Any:
    if isinstance(value, Template):
        return render(value)
    if isinstance(value, dict):
        return {key: _render_json_value(item, render) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_json_value(item, render) for item in value]
    return value
