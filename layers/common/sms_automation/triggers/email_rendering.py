"""``send_email`` templates rendered for where the text goes: headers, an HTML body, a text body.

- **Headers** (``to``, ``from``, ``reply_to``, ``subject``): checked after rendering. No control
  character at all (CR and LF above all: a variable cannot add a ``Bcc:`` line); an address is
  one plain ``local@domain`` (no display name, no comma: a variable cannot add a recipient);
  the subject at most ``MAX_SUBJECT_CHARS``.
- **HTML body**: the author's text is kept as written; every variable's value is HTML-escaped
  (``<``, ``>``, ``&``, quotes), so message text shows as text and never as markup.
- **Text body**: rendered as it is (a text part is never interpreted).
- **Size**: the bodies together at most ``MAX_BODY_CHARS`` once rendered (SES takes 10 MB; an
  SMS automation's e-mail is a few KB, and a bound keeps hostile text from growing it).

Errors never quote the rendered text: it is message text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Final

from sms_automation.triggers.variables import Template

MAX_SUBJECT_CHARS: Final = 400
MAX_BODY_CHARS: Final = 100_000
ADDRESS: Final = re.compile(
    r"[A-Za-z0-9.!#$&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
"""One plain e-mail address (ASCII; no display name, no comment, no quoted local part)."""
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")

EscapingRender = Callable[[Template, Callable[[str], str]], str]


def address_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be the ``field`` address, or ``None``."""
    if _CONTROL.search(value):
        return f"'{field}' holds a control character (a line break, ...) after substitution"
    if not ADDRESS.fullmatch(value) or len(value) > 254:
        return f"'{field}' is not one plain e-mail address (name@example.com) after substitution"
    return None


def subject_problem(value: str) -> str | None:
    if _CONTROL.search(value):
        return "'subject' holds a control character (a line break, ...) after substitution"
    if len(value) > MAX_SUBJECT_CHARS:
        return f"'subject' is longer than {MAX_SUBJECT_CHARS} characters after substitution"
    return None


def render_html(template: Template, render: EscapingRender) -> str:
    """``template`` rendered with every variable's value HTML-escaped (``render`` is
    ``EvalContext.render``: it applies the escape to each value, never to the author's text)."""
    return render(template, html.escape)


def address_allowed(address: str, allowed: tuple[str, ...]) -> bool:
    """``address`` is one of ``allowed``: an address, or ``*@domain`` for all of a domain's
    (the same patterns the role's ``ses:FromAddress`` condition holds)."""
    address = address.lower()
    domain = address.rpartition("@")[2]
    for entry in (a.strip().lower() for a in allowed):
        if entry == address or (entry.startswith("*@") and entry[2:] == domain):
            return True
    return False


def default_sender(allowed: tuple[str, ...]) -> str | None:
    """The first full address among ``allowed``: the ``from`` of an action that names none."""
    entries = (a.strip() for a in allowed)
    return next((a for a in entries if not a.startswith("*@") and ADDRESS.fullmatch(a)), None)
