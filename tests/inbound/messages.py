"""Received emails for the inbound tests: the fixture corpus and generated large messages.

``load(name, **values)`` reads ``fixtures/<name>.eml`` and fills its placeholders:

    {FROM}                 the From header's value      (DEFAULTS["FROM"])
    {SUBJECT}              the subject of the email being answered; the fixture adds its
                           client's prefix ("Re: ", "RE: ", "Fwd: ", "Automatic reply: ")
    {IN_REPLY_TO}          the In-Reply-To value
    {REFERENCES}           the References value (default: the IN_REPLY_TO given)
    {MESSAGE_ID}           this message's Message-ID (default: one per fixture name)
    {DATE}                 the Date header
    {ORIGINAL_MESSAGE_ID}  bounces: the Message-ID of the email that bounced
    {FAILED_RECIPIENT}     bounces: the address that rejected it

``case_values(case)`` gives SUBJECT, IN_REPLY_TO and REFERENCES that name a real case, so
``load("gmail_reply", **case_values(case), FROM="dana@example.org")`` is a reply to it.
Values go in as they are (a malformed From stays malformed); a SUBJECT with non-ASCII text
is written as an RFC 2047 encoded word, as a mail client would.

``simple_email(body, **headers)`` builds a plain reply with any headers set or replaced.
``message_with_attachment(size, ...)`` builds a reply carrying one attachment of ``size``
bytes (the 10 MB and the oversized cases are generated, never committed);
``TEN_MB`` and ``oversized_message()`` name the two sizes the tests use.
"""

from __future__ import annotations

import random
import re
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

CASE_MESSAGE_ID = "<case-00001234.abcdefghijklmnop.0123abcd@support-portal.example>"
CASE_THREAD_ID = "<case-00001234.abcdefghijklmnop@support-portal.example>"

DEFAULTS: dict[str, str] = {
    "FROM": "Alice Customer <alice@customer.example>",
    "SUBJECT": "[Case 00001234] VPN drops every hour [ref:abcdefghijklmnop]",
    "IN_REPLY_TO": CASE_MESSAGE_ID,
    "REFERENCES": f"{CASE_THREAD_ID} {CASE_MESSAGE_ID}",
    "DATE": "Mon, 07 Dec 2026 11:41:06 +0000",
    "ORIGINAL_MESSAGE_ID": CASE_MESSAGE_ID,
    "FAILED_RECIPIENT": "gone@customer.example",
}
_PLACEHOLDER = re.compile(rb"\{([A-Z_]+)\}")

TEN_MB = 10 * 1024 * 1024


def names() -> list[str]:
    """Every fixture's name (without .eml)."""
    return sorted(path.stem for path in FIXTURES.glob("*.eml"))


def _header_value(name: str, value: str) -> bytes:
    if name == "SUBJECT" and not value.isascii():
        return Header(value, "utf-8").encode().encode("ascii")
    return value.encode("utf-8", "surrogateescape")


def load(name: str, **values: str) -> bytes:
    """The raw bytes of fixture ``name`` with its placeholders filled (see the module)."""
    raw = (FIXTURES / f"{name}.eml").read_bytes()
    filled = dict(DEFAULTS, MESSAGE_ID=f"<fixture.{name}@mail.customer.example>")
    if "IN_REPLY_TO" in values and "REFERENCES" not in values:
        filled["REFERENCES"] = values["IN_REPLY_TO"]
    unknown = set(values) - set(DEFAULTS) - {"MESSAGE_ID"}
    if unknown:
        raise KeyError(f"unknown placeholders: {sorted(unknown)}")
    filled.update(values)

    def fill(match: re.Match[bytes]) -> bytes:
        key = match[1].decode()
        return _header_value(key, filled[key]) if key in filled else match[0]

    return _PLACEHOLDER.sub(fill, raw)


def case_values(case) -> dict[str, str]:
    """SUBJECT, IN_REPLY_TO and REFERENCES of a reply to ``case``'s emails."""
    from cases.references import reference_token, thread_id

    subject = f"[Case {case.number:08d}] {case.subject} [{reference_token(case)}]"
    return {"SUBJECT": subject, "IN_REPLY_TO": thread_id(case), "REFERENCES": thread_id(case)}


def simple_email(body: str = "Hello\n", **headers: str) -> bytes:
    """A plain-text reply from alice@customer.example to the default case; each keyword
    sets a header (underscores for dashes: ``Auto_Submitted="auto-replied"``)."""
    message = EmailMessage()
    message["From"] = DEFAULTS["FROM"]
    message["To"] = "care@support-portal.example"
    message["Subject"] = "Re: " + DEFAULTS["SUBJECT"]
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def crlf(raw: bytes) -> bytes:
    """``raw`` with CRLF line ends, as it arrives from an SMTP server or IMAP."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def message_with_attachment(
    size: int,
    *,
    filename: str = "capture.pdf",
    content_type: str = "application/pdf",
    text: str = "The packet capture is attached.\n\nIvan\n",
    **values: str,
) -> bytes:
    """A reply (headers as ``load`` fills them) with one base64 attachment of ``size``
    bytes: real PDF magic, then deterministic noise."""
    filled = dict(DEFAULTS, MESSAGE_ID=f"<generated.{size}@mail.customer.example>")
    if "IN_REPLY_TO" in values and "REFERENCES" not in values:
        filled["REFERENCES"] = values["IN_REPLY_TO"]
    filled.update(values)
    message = EmailMessage()
    message["From"] = filled["FROM"]
    message["To"] = "care@support-portal.example"
    message["Subject"] = "Re: " + filled["SUBJECT"]
    message["Date"] = filled["DATE"] or formatdate()
    message["Message-ID"] = filled["MESSAGE_ID"]
    message["In-Reply-To"] = filled["IN_REPLY_TO"]
    message["References"] = filled["REFERENCES"]
    message.set_content(text)
    head = b"%PDF-1.4\n" if content_type == "application/pdf" else b""
    data = head + random.Random(size).randbytes(max(0, size - len(head)))
    maintype, subtype = content_type.split("/", 1)
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def ten_megabyte_message(**values: str) -> bytes:
    """A reply with a 10 MB PDF attachment (under the limit)."""
    return message_with_attachment(TEN_MB, filename="capture-10mb.pdf", **values)


def oversized_message(limit: int = 40 * 1024 * 1024, **values: str) -> bytes:
    """A reply whose raw size is over ``limit`` (settings.INBOUND_MAX_BYTES by default
    40 MB): an attachment of three quarters of the limit plus 1 MB, base64-encoded."""
    size = limit * 3 // 4 + 1024 * 1024
    raw = message_with_attachment(size, filename="disk-image.pdf", **values)
    assert len(raw) > limit
    return raw
