"""User patterns (Python ``re`` syntax, as people write them) rewritten for RE2.

RE2 runs in time linear in the text, which it buys by leaving out what needs backtracking. This
module reads a pattern once, left to right, and either rewrites it into RE2 syntax with the
meaning Python gave it, or refuses it with a message naming the missing feature:

- refused: backreferences (``\\1``, ``(?P=name)``), lookahead and lookbehind, atomic groups,
  possessive quantifiers, conditionals, comments ``(?#...)``, verbose mode and the other inline
  flags RE2 lacks; repetition counts above ``MAX_REPEAT`` (nested ones multiplied);
- rewritten to keep Python's meaning: ``\\d``, ``\\w``, ``\\s`` and their negations match Unicode
  (RE2's are ASCII), ``\\Z`` -> ``\\z``, ``$`` also matches before a final newline (unless the
  pattern uses multi-line mode), ``{,n}`` -> ``{0,n}``, ``\\uXXXX``, ``\\UXXXXXXXX`` and
  ``\\N{name}`` -> ``\\x{...}``, ``[\\b]`` (backspace) -> ``\\x08``;
- rewritten because nothing reads it: an unnamed group ``(...)`` becomes ``(?:...)``. The
  triggers read named groups and the whole match only, and every capturing group RE2 must
  report makes it run its slowest engine (the NFA) over the match: ``(.*){1,100}x`` costs
  ~10 ms on a 1,600-character body with the group captured, ~0.2 ms without (bench/RESULTS.md);
- left as RE2 reads it: ``\\b`` and ``\\B``, which RE2 computes on ASCII letters, digits and
  ``_`` only. Next to a non-ASCII letter written in the pattern (``café\\b``) it could never
  behave as written, so that is refused with the Unicode-aware spelling to use instead.

docs/triggers.md#regular-expressions is the user's side of this.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_REPEAT: Final = 300
"""The largest repetition count, and product of counts nested in each other (``(a{1,10}){1,30}``
is 300). RE2 allows 1,000, but a counted repetition multiplies the work done per character:
``a{1,1000}`` costs ~20 ms on 1,600 characters, ``a{1,300}`` ~1 ms (bench/RESULTS.md)."""

DOCS: Final = "docs/triggers.md#regular-expressions"
_WHY: Final = f"patterns run on RE2, a linear-time engine ({DOCS})"

WORD_CLASS: Final = r"\p{L}\p{N}_"
"""Python's ``\\w`` on text: letters and digits of every script, and the underscore."""
SPACE_CLASS: Final = r"\t-\r\x1c-\x20\x85\p{Z}"
"""Python's ``\\s`` on text: ASCII whitespace, the separators 0x1C-0x1F and 0x85, every space."""
DIGIT: Final = r"\p{Nd}"
"""Python's ``\\d`` on text: a decimal digit of any script."""

_OUTSIDE_CLASS: Final = {
    "d": DIGIT,
    "D": r"\P{Nd}",
    "w": f"[{WORD_CLASS}]",
    "W": f"[^{WORD_CLASS}]",
    "s": f"[{SPACE_CLASS}]",
    "S": f"[^{SPACE_CLASS}]",
    "Z": r"\z",
}
_INSIDE_CLASS: Final = {"d": DIGIT, "D": r"\P{Nd}", "w": WORD_CLASS, "s": SPACE_CLASS, "b": r"\x08"}
_GROUP_OPENERS: Final = (
    ("?=", "lookahead (?=...)"),
    ("?!", "negative lookahead (?!...)"),
    ("?<=", "lookbehind (?<=...)"),
    ("?<!", "negative lookbehind (?<!...)"),
    ("?>", "an atomic group (?>...)"),
    ("?(", "a conditional group (?(...)...)"),
    ("?P=", "a named backreference (?P=name)"),
    ("?#", "a comment group (?#...)"),
)
_RE2_FLAGS: Final = frozenset("imsU-")
_FLAG_NAMES: Final = {
    "x": "verbose mode (?x)",
    "a": "the ASCII flag (?a)",
    "L": "the locale flag (?L)",
    "u": "the (?u) flag",
}
_OCTAL: Final = frozenset("01234567")
_BACKREFERENCE_DIGITS: Final = frozenset("123456789")
_COUNTED: Final = re.compile(r"\{(?P<low>[0-9]*)(?P<comma>,?)(?P<high>[0-9]*)\}")
"""A counted repetition; parsed with Python's ``re``: a fixed pattern that cannot backtrack."""


class UnsupportedPattern(ValueError):
    """A pattern RE2 cannot run, with the feature named."""


def unsupported(feature: str, advice: str = "") -> UnsupportedPattern:
    return UnsupportedPattern(
        f"{feature} is not supported: {_WHY}" + (f". {advice}" if advice else "")
    )


def to_re2(pattern: str) -> str:
    """``pattern`` in RE2 syntax with the meaning Python's ``re`` gives it, or raise
    ``UnsupportedPattern`` (a ``ValueError``) naming what RE2 lacks."""
    return _Translator(pattern).run()


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0
        self.out: list[str] = []
        self.after_quantifier = False
        self.multiline = _uses_multiline(pattern)
        self.group_products = [1]
        """Per open group (and the whole pattern): the largest repetition product inside."""
        self.last_atom_product = 1
        """The repetition product inside the atom a quantifier would repeat (1, or a group's)."""

    def run(self) -> str:
        while self.at < len(self.pattern):
            char = self.pattern[self.at]
            quantifier, inner = False, 1
            if char == "\\":
                self._escape_outside_class()
            elif char == "[":
                self._character_class()
            elif char == "(":
                self._group_opener()
                self.group_products.append(1)
            elif char == ")" and len(self.group_products) > 1:
                self.out.append(char)
                self.at += 1
                inner = self.group_products.pop()
                self.group_products[-1] = max(self.group_products[-1], inner)
            elif char in "*+?":
                self._repeat_operator(char)
                quantifier = True
            elif char == "{":
                quantifier = self._counted_repeat()
            elif char == "$" and not self.multiline:
                self.out.append(r"(?:\n?\z)")  # Python's '$' also matches before a final '\n'
                self.at += 1
            else:
                self.out.append(char)
                self.at += 1
            self.after_quantifier = quantifier
            if not quantifier:
                self.last_atom_product = inner if char == ")" else 1
        return "".join(self.out)

    # -- repetition -------------------------------------------------------------------------

    def _repeat_operator(self, char: str) -> None:
        if self.after_quantifier and char == "+":
            raise unsupported("a possessive quantifier (*+, ++, ?+, {n}+)")
        self.out.append(char)
        self.at += 1

    def _counted_repeat(self) -> bool:
        """``{n}``, ``{n,}``, ``{n,m}`` or ``{,m}``: a quantifier; anything else a literal."""
        counted = _COUNTED.match(self.pattern, self.at)
        if counted is None or not (counted["low"] or counted["comma"]):  # '{}' is a literal
            self.out.append(r"\{")
            self.at += 1
            return False
        count = max(int(counted["low"] or 0), int(counted["high"] or 0))
        product = count * self.last_atom_product
        if product > MAX_REPEAT:
            what = (
                f"a repetition count above {MAX_REPEAT} ({counted[0]})"
                if count > MAX_REPEAT
                else f"repetition counts nested to a product above {MAX_REPEAT} ({product})"
            )
            raise UnsupportedPattern(
                f"{what} is not supported: each counted repetition multiplies the work done for"
                f" every character ({DOCS}). Match fewer, or use + or * for 'any number'"
            )
        self.group_products[-1] = max(self.group_products[-1], product)
        self.out.append("{" + (counted["low"] or "0") + counted["comma"] + counted["high"] + "}")
        self.at = counted.end()
        return True

    # -- groups -----------------------------------------------------------------------------

    def _group_opener(self) -> None:
        rest = self.pattern[self.at + 1 :]
        for opener, feature in _GROUP_OPENERS:
            if rest.startswith(opener):
                raise unsupported(feature)
        if rest.startswith("?") and not rest.startswith(("?P<", "?<", "?:")):
            flags = _leading_flags(rest[1:])
            for flag in flags:
                if flag not in _RE2_FLAGS:
                    raise unsupported(_FLAG_NAMES.get(flag, f"the inline flag (?{flag})"))
        # an unnamed group captures nothing anyone reads (see the module docstring)
        self.out.append("(" if rest.startswith("?") else "(?:")
        self.at += 1

    # -- escapes ----------------------------------------------------------------------------

    def _escape_outside_class(self) -> None:
        letter = self.pattern[self.at + 1 : self.at + 2]
        if letter in _OUTSIDE_CLASS:
            self.out.append(_OUTSIDE_CLASS[letter])
            self.at += 2
        elif letter in ("b", "B"):
            self._word_boundary(letter)
        elif letter == "Q":
            end = self.pattern.find(r"\E", self.at + 2)
            stop = len(self.pattern) if end < 0 else end + 2
            self.out.append(self.pattern[self.at : stop])
            self.at = stop
        elif letter in _BACKREFERENCE_DIGITS and not self._octal_escape():
            raise unsupported(f"a backreference (\\{letter})")
        elif letter in ("g", "k"):
            raise unsupported(f"a backreference (\\{letter}<...>)")
        elif letter == "C":
            raise UnsupportedPattern(
                "\\C (one byte) is not supported: it can split a character in two"
            )
        else:
            self._escape_common()

    def _word_boundary(self, letter: str) -> None:
        before = self.pattern[self.at - 1 : self.at] if self.at else ""
        after = self.pattern[self.at + 2 : self.at + 3]
        for neighbour in (before, after):
            if neighbour and not neighbour.isascii() and neighbour.isalnum():
                raise unsupported(
                    f"\\{letter} next to the non-ASCII letter {neighbour!r}",
                    "RE2's \\b counts only ASCII letters, digits and _ as word characters:"
                    " write (?:^|\\W) before the word and (?:\\W|$) after it instead",
                )
        self.out.append("\\" + letter)
        self.at += 2

    def _octal_escape(self) -> bool:
        digits = self.pattern[self.at + 1 : self.at + 4]
        return len(digits) == 3 and set(digits) <= _OCTAL

    def _escape_common(self) -> None:
        """An escape that means the same in and outside a class: code points, or as is."""
        letter = self.pattern[self.at + 1 : self.at + 2]
        if letter in ("u", "U"):
            width = 4 if letter == "u" else 8
            digits = self.pattern[self.at + 2 : self.at + 2 + width]
            if len(digits) != width or not _is_hex(digits):
                raise UnsupportedPattern(
                    f"invalid regular expression: incomplete escape \\{letter}{digits}"
                )
            self.out.append(f"\\x{{{digits}}}")
            self.at += 2 + width
        elif letter == "N":
            self._named_character()
        elif letter in ("p", "P", "x") and self.pattern.startswith("{", self.at + 2):
            close = self.pattern.find("}", self.at)
            stop = len(self.pattern) if close < 0 else close + 1
            self.out.append(self.pattern[self.at : stop])
            self.at = stop
        else:
            self.out.append(self.pattern[self.at : self.at + 2])
            self.at += 2

    def _named_character(self) -> None:
        close = self.pattern.find("}", self.at)
        if self.pattern[self.at + 2 : self.at + 3] != "{" or close < 0:
            raise UnsupportedPattern(r"invalid regular expression: missing {name} after \N")
        name = self.pattern[self.at + 3 : close]
        try:
            code_point = ord(unicodedata.lookup(name))
        except KeyError:
            raise UnsupportedPattern(
                f"invalid regular expression: unknown character name {name!r}"
            ) from None
        self.out.append(f"\\x{{{code_point:x}}}")
        self.at = close + 1

    # -- character classes ------------------------------------------------------------------

    def _character_class(self) -> None:
        self.out.append("[")
        self.at += 1
        if self.pattern.startswith("^", self.at):
            self.out.append("^")
            self.at += 1
        if self.pattern.startswith("]", self.at):  # a leading ']' is a literal
            self.out.append(r"\]")
            self.at += 1
        while self.at < len(self.pattern):
            char = self.pattern[self.at]
            if char == "]":
                self.out.append("]")
                self.at += 1
                return
            if char == "\\":
                self._escape_inside_class()
            elif self.pattern.startswith("[:", self.at):  # a POSIX class [:alpha:] (RE2, ASCII)
                end = self.pattern.find(":]", self.at + 2)
                stop = self.at + 1 if end < 0 else end + 2
                self.out.append(self.pattern[self.at : stop])
                self.at = stop
            else:
                self.out.append(char)
                self.at += 1
        # an unterminated class: RE2 reports it

    def _escape_inside_class(self) -> None:
        letter = self.pattern[self.at + 1 : self.at + 2]
        if letter in _INSIDE_CLASS:
            self.out.append(_INSIDE_CLASS[letter])
            self.at += 2
        elif letter in ("W", "S"):
            raise unsupported(
                f"\\{letter} inside a character class [...]",
                f"Write (?:\\{letter}|[...]) instead",
            )
        else:
            self._escape_common()


def _leading_flags(text: str) -> str:
    """The flag letters of an inline ``(?flags)`` or ``(?flags:...)`` group."""
    end = 0
    while end < len(text) and text[end] not in ":)":
        end += 1
    return text[:end]


def _uses_multiline(pattern: str) -> bool:
    """Whether any inline flag group turns on multi-line mode (``(?m)``, ``(?im:...)``)."""
    start = pattern.find("(?")
    while start >= 0:
        flags = _leading_flags(pattern[start + 2 :]).partition("-")[0]
        if "m" in flags and flags.isalpha():
            return True
        start = pattern.find("(?", start + 2)
    return False


def _is_hex(digits: str) -> bool:
    return all(char in "0123456789abcdefABCDEF" for char in digits)
