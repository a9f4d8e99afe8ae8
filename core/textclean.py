"""Text as the product stores what people write: line breaks normalised, control characters
removed, surrounding space trimmed."""

from __future__ import annotations

import re

# C0 controls other than tab and line feed: never meaningful in what a person writes, and a
# NUL is refused by PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: object) -> str:
    text = "" if value is None else str(value)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def clean_line(value: object) -> str:
    """One line of text (a name, a phone number): control characters removed and every run
    of white space, line breaks included, one space. Such values reach email headers and
    bodies, where a line break would start a new line or header."""
    return " ".join(_CONTROL.sub("", "" if value is None else str(value)).split())
