"""The sender of a received email, read strictly from its From header (N-3).

Who may add an update to a case is decided by the From address, so it must be beyond doubt.
Python 3.11's ``email.utils.getaddresses`` has no strict mode (CVE-2023-27043: a header such
as ``alice@example.org)<bob@evil.example>`` reads as alice to one parser and bob to another),
so this module reads the raw header itself and accepts only these two shapes:

    [display name] <local@domain>       local@domain [(comment)]

- exactly one From header, holding exactly one address;
- the display name is words, "quoted strings" and encoded words; an unquoted ``@ , ; : < >
  [ ] \\`` in it is refused (``alice@example.org <bob@evil.example>`` hides a second address;
  ``"alice@example.org" <bob@evil.example>`` is fine: its display name is quoted);
- the address has one ``@``, no quotes, spaces or comments (``"a@b.example"@evil.example``
  and ``alice@example.org@evil.example`` are refused) and passes Django's ``validate_email``;
- comments hold no ``@`` or angle brackets;
- the stdlib's own RFC 5322 parser (``policy.default``) must read the same single address
  without defects: where the two readings differ, the header is ambiguous and refused.
"""

from __future__ import annotations

from email.errors import ObsoleteHeaderDefect
from email.headerregistry import HeaderRegistry

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_SPECIALS = set('@,;:<>[]\\"()')
# One sender's name and address fit well within a line (RFC 5322: 998 characters); a longer
# header is refused unread.
FROM_MAX_CHARS = 998
_registry = HeaderRegistry()


class _Refused(Exception):
    """The From header is not beyond doubt; the message says why."""


def strict_sender(values: list[str]) -> tuple[str | None, str]:
    """(address lower-cased, "") for the raw From header ``values``, or (None, why)."""
    if not values:
        return None, "The message has no From header."
    if len(values) > 1:
        return None, "The message has several From headers."
    value = values[0].strip()
    if not value:
        return None, "The From header is empty."
    if len(value) > FROM_MAX_CHARS:  # the stdlib's parser takes quadratic time in its length
        return None, f"The From header is too long ({len(value)} characters)."
    try:
        address = _read(value)
        validate_email(address)
        _agree_with_stdlib(value, address)
    except _Refused as refused:
        return None, str(refused)
    except ValidationError:
        return None, f"The From address {_shown(value)} is not a valid email address."
    return address.lower(), ""


def _shown(value: str) -> str:
    text = " ".join(value.split())
    text = text.encode("utf-8", "replace").decode("utf-8")
    return f"“{text[:200]}”"


def _tokens(value: str) -> list[tuple[str, str]]:
    """The header as (kind, text) tokens: "quoted", "comment", "angle", "space", "char"."""
    tokens: list[tuple[str, str]] = []
    position = 0
    length = len(value)
    while position < length:
        char = value[position]
        if char == '"':
            end = position + 1
            while end < length and value[end] != '"':
                end += 2 if value[end] == "\\" else 1
            if end >= length:
                raise _Refused(f"The From header {_shown(value)} has an unclosed quote.")
            tokens.append(("quoted", value[position + 1 : end]))
            position = end + 1
        elif char == "(":
            depth, end = 1, position + 1
            while end < length and depth:
                if value[end] == "\\":
                    end += 2
                    continue
                depth += {"(": 1, ")": -1}.get(value[end], 0)
                end += 1
            if depth:
                raise _Refused(f"The From header {_shown(value)} has an unclosed comment.")
            tokens.append(("comment", value[position + 1 : end - 1]))
            position = end
        elif char == "<":
            end = value.find(">", position)
            if end < 0:
                raise _Refused(f"The From header {_shown(value)} has an unclosed “<”.")
            tokens.append(("angle", value[position + 1 : end]))
            position = end + 1
        elif char in " \t":
            tokens.append(("space", char))
            position += 1
        else:
            tokens.append(("char", char))
            position += 1
    return tokens


def _plain_address(text: str, value: str) -> str:
    """``text`` as a bare address: one "@", no quotes, spaces, brackets or commas."""
    if text.count("@") != 1 or any(char in _SPECIALS - {"@"} or char.isspace() for char in text):
        raise _Refused(
            f"The From header {_shown(value)} does not hold exactly one plain email address."
        )
    local, _, domain = text.partition("@")
    if not local or not domain:
        raise _Refused(f"The From address {_shown(value)} is not a valid email address.")
    return text


def _read(value: str) -> str:
    tokens = _tokens(value)
    for kind, text in tokens:
        if kind == "comment" and ("@" in text or "<" in text or ">" in text):
            raise _Refused(
                f"The From header {_shown(value)} hides an address in a comment; "
                "it must name one sender only."
            )
        if kind == "char" and "\udc80" <= text <= "\udcff":
            raise _Refused(f"The From header {_shown(value)} is not valid text.")
    angles = [index for index, (kind, _) in enumerate(tokens) if kind == "angle"]
    if len(angles) > 1:
        raise _Refused(f"The From header {_shown(value)} names more than one address.")
    if angles:
        index = angles[0]
        after = [kind for kind, _ in tokens[index + 1 :] if kind not in {"space", "comment"}]
        if after:
            raise _Refused(
                f"The From header {_shown(value)} has text after the address; "
                "it must name one sender only."
            )
        for kind, text in tokens[:index]:
            if kind == "char" and text in _SPECIALS:
                raise _Refused(
                    f"The From header {_shown(value)} has “{text}” in its name outside quotes; "
                    "it may hide a second address."
                )
        return _plain_address(tokens[index][1].strip(), value)
    bare = "".join(text for kind, text in tokens if kind not in {"comment"}).strip()
    if any(kind == "quoted" for kind, _ in tokens):
        raise _Refused(
            f"The From header {_shown(value)} has a quoted part in its address; "
            "it may hide a second address."
        )
    if "," in bare or ";" in bare:
        raise _Refused(f"The From header {_shown(value)} names more than one address.")
    return _plain_address(bare, value)


def _agree_with_stdlib(value: str, address: str) -> None:
    """The stdlib's RFC 5322 parser must read the same one address, without defects."""
    header = _registry("From", value)
    # An obsolete form (a "." in an unquoted name, as in "J. Doe") is common and harmless
    # once the reading above agrees; any other defect means the parsers may disagree.
    header_defects = [
        defect for defect in header.defects if not isinstance(defect, ObsoleteHeaderDefect)
    ]
    addresses = list(header.addresses)
    if header_defects or len(addresses) != 1 or addresses[0].addr_spec.lower() != address.lower():
        raise _Refused(
            f"The From header {_shown(value)} can be read in more than one way; "
            "it must name exactly one sender."
        )
