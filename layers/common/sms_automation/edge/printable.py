"""Text from outside (a contact's reply, a file's cell) made safe for a terminal. Pure.

``printable`` drops every C0 and C1 control character and DEL (ESC, BEL, CSI, NUL, ...): a
contact's text shown to an operator cannot move the cursor, set the window's title, write the
clipboard or ring the bell. Line breaks and tabs go too: the text is shown on one line.
"""

from __future__ import annotations

import re
from typing import Final

CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    return CONTROL_CHARACTERS.sub("", text)
