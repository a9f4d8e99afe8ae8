"""Reading a received email (N-3, N-4): pure functions over the raw bytes, no database.

``parse_message(raw)`` reads the message with the stdlib (``email`` with ``policy.default``,
see ``_Policy``) and never raises: whatever it cannot read is reported in the result
(``sender_problem``, empty text), so the caller can store the message and refuse it. It reads
any size; the caller refuses an oversized message (``INBOUND_MAX_BYTES``) before parsing.
A message of more than ``MAX_PARTS`` MIME parts is not read (only its Message-ID is kept).
A typical reply takes about a millisecond, a 10 MB attachment about half a second.

- ``message_id``, ``in_reply_to`` and ``references`` are "<…>" forms.
- ``sender`` is the one From address, lower-cased, only when the From header is beyond doubt
  (``inbound.sender_text``): one From header holding exactly one valid address, no second
  address hidden in the display name, a comment or quoted specials (the CVE-2023-27043
  forms). Otherwise ``sender`` is None and ``sender_problem`` says why in plain words.
- ``text`` is the whole body as plain text, ``reply_text`` only what the sender wrote
  (``inbound.body_text``, ``inbound.reply_text``); ``attachments`` every attached file.
- ``automatic_reason`` says why the message was sent by a machine (RFC 3834: Auto-Submitted,
  Precedence, auto-reply headers, mailing lists, mailer-daemon and no-reply senders, our own
  address, bounces); such a message is never answered. ``bounce`` is the delivery status
  notification (RFC 3464) when the message is one.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import parseaddr

from django.conf import settings

from inbound.body_text import attachments as find_attachments
from inbound.body_text import body_text, leaves, part_text
from inbound.reply_text import reply_text as strip_reply
from inbound.sender_text import strict_sender

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedAttachment:
    name: str  # as the sender named it (the caller sanitises it like a portal upload)
    content_type: str
    data: bytes


@dataclass(frozen=True)
class BounceReport:
    """A delivery status notification (RFC 3464) about a message we sent."""

    original_message_ids: tuple[str, ...]  # "<…>" forms, from the returned message/headers
    recipients: tuple[str, ...]  # the failed recipient addresses
    status: str  # e.g. "5.1.1"
    diagnostic: str  # the remote server's words, one line
    # "failed"; "delayed" when the report only tells of delays (the email may still
    # arrive); "" when it names no undelivered recipient (a report of success)
    action: str = "failed"


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # "<…>", or "" when the message has none
    sender: str | None  # the one valid From address, lower-cased; None when refused
    sender_problem: str  # "" or why the From header is unusable, in words
    subject: str  # decoded, one line
    in_reply_to: tuple[str, ...]  # Message-IDs, "<…>" forms
    references: tuple[str, ...]
    text: str  # the whole body as plain text (HTML converted), for the stored record
    reply_text: str  # only what the sender wrote: quoted reply and signature removed
    attachments: tuple[ParsedAttachment, ...] = field(default=())
    automatic_reason: str = ""  # "" for a person's message; else why it is automatic
    bounce: BounceReport | None = None
    # The raw Authentication-Results headers (RFC 8601), checked by inbound.authentication.
    authentication_results: tuple[str, ...] = ()

    @property
    def is_automatic(self) -> bool:
        return bool(self.automatic_reason)


UNREADABLE = "The message could not be read."


class _Policy(EmailPolicy):
    """``policy.default``, except that a header value it has parsed once is not parsed again,
    and only the first ``HEADER_MAX_CHARS`` of a value are parsed.

    The stdlib builds a new header object on every access: a message's Content-Type is read
    some thirty times while it is parsed and walked, and that header parsing was two thirds
    of ``parse_message``'s time. Header objects are immutable, so one per (name, value) is
    kept (of values up to 500 characters); the store is emptied when it grows past a bound."""

    def header_fetch_parse(self, name, value):  # type: ignore[no-untyped-def]
        if isinstance(value, str) and len(value) > HEADER_MAX_CHARS:
            value = value[:HEADER_MAX_CHARS]  # see HEADER_MAX_CHARS
        if not isinstance(value, str) or len(value) > _HEADER_CHARS_KEPT:
            return super().header_fetch_parse(name, value)
        try:
            return _HEADERS[(name, value)]
        except KeyError:
            pass
        if len(_HEADERS) >= _HEADERS_KEPT:
            _HEADERS.clear()
        header = _HEADERS[(name, value)] = super().header_fetch_parse(name, value)
        return header


# The stdlib's header parser takes quadratic time in a value's encoded words: a Subject or a
# file name of 20,000 of them (half a megabyte) took minutes to read. A value is parsed (the
# Subject decoded, a part's type and file name read) from its first this many characters;
# real headers are far shorter, and the raw values (Message-IDs) are read whole.
HEADER_MAX_CHARS = 4000
_HEADERS: dict[tuple[str, str], object] = {}
_HEADERS_KEPT = 4096
_HEADER_CHARS_KEPT = 500  # a longer value is parsed each time: the store stays small
POLICY = _Policy()


# Real mail has a few dozen MIME parts; a hostile one of a million tiny parts (a few bytes
# each, well within INBOUND_MAX_BYTES) would take minutes and gigabytes to read, on every
# delivery and every look at it in the care workspace. Reading stops at this many parts.
MAX_PARTS = 1000


class _TooManyParts(Exception):
    pass


def _part_counter() -> Callable[..., EmailMessage]:
    """The parser's message factory, counting the parts it makes (the parser makes one to
    try it out first) and stopping the parse past ``MAX_PARTS``."""
    made = 0

    def factory(policy: EmailPolicy = POLICY) -> EmailMessage:
        nonlocal made
        made += 1
        if made > MAX_PARTS + 1:
            raise _TooManyParts
        return EmailMessage(policy=policy)

    return factory


def parse_message(raw: bytes) -> ParsedMessage:
    """Everything the inbound service needs from ``raw``; never raises (see the module)."""
    try:
        message = BytesParser(_part_counter(), policy=POLICY).parsebytes(raw)
    except RecursionError:  # parts nested about a thousand deep: no mail client does that
        logger.warning("inbound: a message nested too deeply to be parsed")
        return _unreadable()
    except _TooManyParts:
        logger.warning("inbound: a message of more than %d parts is not read", MAX_PARTS)
        with contextlib.suppress(Exception):  # its Message-ID still deduplicates it
            return _unreadable(BytesParser(policy=POLICY).parsebytes(raw, headersonly=True))
        return _unreadable()
    except Exception:  # the parser is lenient; this is a last resort
        logger.exception("inbound: the message could not be parsed")
        return _unreadable()
    try:
        return _parse(message)
    except RecursionError:
        logger.warning("inbound: a message nested too deeply to be read")
        return _unreadable(message)
    except Exception:
        logger.exception("inbound: the message could not be read")
        return _unreadable(message)


def _unreadable(message: Message | None = None) -> ParsedMessage:
    message_id = ""
    if message is not None:
        with contextlib.suppress(Exception):  # the fallback of the fallback: no id
            message_id = _first_id(_raw_header(message, "Message-ID"))
    return ParsedMessage(
        message_id=message_id,
        sender=None,
        sender_problem=UNREADABLE,
        subject="",
        in_reply_to=(),
        references=(),
        text="",
        reply_text="",
    )


def _clean(text: str) -> str:
    """No NUL characters (a PostgreSQL text column refuses them), no lone surrogates."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _parse(message: EmailMessage) -> ParsedMessage:
    sender, problem = strict_sender(_raw_headers(message, "From"))
    subject = _clean(decoded_subject(message))
    text, body = body_text(message)
    text = _clean(text)
    forwarded = bool(re.match(r"\s*(?:fwd?|wg|tr)\s*:", subject, re.IGNORECASE))
    bounce = bounce_report(message)
    return ParsedMessage(
        message_id=_first_id(_raw_header(message, "Message-ID")),
        sender=sender,
        sender_problem=_clean(problem),
        subject=subject,
        in_reply_to=message_ids(_raw_header(message, "In-Reply-To")),
        references=message_ids(_raw_header(message, "References")),
        text=text,
        reply_text=strip_reply(text, forwarded=forwarded),
        attachments=tuple(
            ParsedAttachment(name=_clean(name), content_type=content_type, data=data)
            for name, content_type, data in find_attachments(message, body)
        ),
        automatic_reason=automatic_reason(message, sender=sender, bounce=bounce),
        bounce=bounce,
        authentication_results=tuple(_raw_headers(message, "Authentication-Results")[:20]),
    )


# --- Headers -------------------------------------------------------------------------------

_FOLD = re.compile(r"\r?\n(?=[ \t])")
# No control characters: a NUL would make the row unstorable on PostgreSQL (the delivery
# retried for ever), and an id is echoed in the In-Reply-To of our answer.
_ANGLE_ID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")


def _eight_bit(value: str) -> str:
    """A header value with raw 8-bit bytes (UTF-8 headers, RFC 6532, or a legacy charset)
    as text: the parser keeps such bytes as surrogates."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _raw_headers(message: Message, name: str) -> list[str]:
    """The raw values of every ``name`` header, unfolded (encoded words left as they are)."""
    wanted = name.lower()
    return [
        _eight_bit(_FOLD.sub("", str(value)).strip())
        for key, value in message.raw_items()
        if key.lower() == wanted
    ]


def _raw_header(message: Message, name: str) -> str:
    values = _raw_headers(message, name)
    return values[0] if values else ""


def message_ids(value: str) -> tuple[str, ...]:
    """The "<…>" Message-IDs in a header value, in order, without repeats. A lone id
    without angle brackets (some clients write them so) is wrapped."""
    found = [f"<{match}>" for match in _ANGLE_ID.findall(value or "")]
    if not found:
        bare = (value or "").strip()
        if bare and "@" in bare and not re.search(r"[\s<>,\x00-\x1f\x7f]", bare):
            found = [f"<{bare}>"]
    return tuple(dict.fromkeys(found))


def _first_id(value: str) -> str:
    ids = message_ids(value)
    return ids[0] if ids else ""


def decoded_subject(message: Message) -> str:
    """The Subject with its encoded words (RFC 2047) decoded, on one line."""
    raw = _raw_header(message, "Subject")
    try:
        subject = str(message.get("Subject", "") or "")
    except Exception:  # a header the registry cannot build: the raw text then
        subject = raw
    if "\ufffd" in subject or any("\udc80" <= char <= "\udcff" for char in subject):
        subject = raw  # 8-bit text the registry could not decode; _raw_header could
    return " ".join(subject.split())


# --- Automatic messages (RFC 3834) ---------------------------------------------------------

# Local parts of mail software, list machinery and no-reply senders: never a person who
# reads an answer (RFC 3834 section 2), or one who asks not to be answered.
_NO_REPLY_LOCAL_PART = re.compile(
    r"(?:mailer-daemon|postmaster|listserv|majordomo|owner-.*|.*-request"
    r"|no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:[-+_.].*)?",
    re.IGNORECASE,
)


def our_addresses() -> frozenset[str]:
    """The portal's own addresses: mail from them is a loop."""
    addresses = {
        getattr(settings, "INBOUND_ADDRESS", ""),
        parseaddr(getattr(settings, "DEFAULT_FROM_EMAIL", ""))[1],
        parseaddr(getattr(settings, "SERVER_EMAIL", ""))[1],
    }
    return frozenset(a.strip().lower() for a in addresses if a and "@" in a)


def machine_sender(address: str) -> str:
    """Why mail from ``address`` comes from no person who may be answered, in words; ""
    for a person. Read by ``automatic_reason`` and, as a last guard, before any answer."""
    address = address.strip().lower()
    if address in our_addresses():
        return "It comes from our own address (a mail loop)."
    if _NO_REPLY_LOCAL_PART.fullmatch(address.rpartition("@")[0]):
        return f"It comes from a mail system or no-reply address ({address})."
    return ""


# The subjects auto-replies are sent with when the software sets none of the headers above
# (some out-of-office tools): anchored at the start, so a person's "Re: …" never matches.
_AUTO_REPLY_SUBJECT = re.compile(
    r"\s*(?:automatic reply|auto[- ]?reply|auto[- ]?response|out of (?:the )?office(?: reply)?"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática"
    r"|automatisch antwoord|risposta automatica)\s*:",
    re.IGNORECASE,
)


def automatic_reason(message: Message, *, sender: str | None, bounce: BounceReport | None) -> str:
    """Why ``message`` was sent by a machine (so it must not be answered), or ""."""
    header = lambda name: _raw_header(message, name).strip().lower()  # noqa: E731
    if bounce is not None:
        return "It is a delivery status notification (a bounce)."
    auto_submitted = header("Auto-Submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"It is marked Auto-Submitted: {auto_submitted.split(';')[0].strip()}."
    if _raw_headers(message, "X-Autoreply") or _raw_headers(message, "X-Autorespond"):
        return "It is marked as an automatic reply (X-Autoreply)."
    precedence = header("Precedence")
    if precedence in {"bulk", "list", "junk", "auto_reply"}:
        return f"It is marked Precedence: {precedence}."
    if _raw_headers(message, "List-Id") or _raw_headers(message, "List-Unsubscribe"):
        return "It comes from a mailing list."
    if header("Return-Path") == "<>":
        return "It has an empty return path (a notification from a mail system)."
    if _AUTO_REPLY_SUBJECT.match(decoded_subject(message)):
        return "Its subject is that of an automatic reply (out of office)."
    address = sender or parseaddr(_raw_header(message, "From"))[1].lower()
    return machine_sender(address) if address else ""


# --- Bounces (RFC 3464) --------------------------------------------------------------------

_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")


def _field_blocks(text: str) -> list[Message]:
    parser = BytesParser(policy=POLICY)
    blocks = [b for b in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if b.strip()]
    return [  # one per recipient: a real report names a few, never MAX_PARTS
        parser.parsebytes(block.strip().encode("utf-8", "replace") + b"\n\n", headersonly=True)
        for block in blocks[:MAX_PARTS]
    ]


def _report_fields(part: Message) -> list[Message]:
    """The field blocks of a delivery status part: the message's, then one per recipient.
    The stdlib splits message/delivery-status into blocks itself; message/global-delivery-
    status it reads as one message whose body holds the recipients' blocks."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return _field_blocks(part_text(part))
    blocks: list[Message] = []
    for block in payload:
        if isinstance(block, Message):
            blocks.append(block)
            rest = block.get_payload()
            if isinstance(rest, str) and rest.strip():
                blocks += _field_blocks(rest)
    return blocks


def _typed_value(value: str) -> str:
    """``rfc822; bob@example.org`` -> ``bob@example.org``; ``smtp; 550 …`` -> ``550 …``."""
    kind, separator, rest = value.partition(";")
    return " ".join((rest if separator and " " not in kind.strip() else value).split())


def _returned_ids(part: Message) -> list[str]:
    """Message-IDs from a returned message (message/rfc822, message/global) or its headers
    (text/rfc822-headers, message/global-headers)."""
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib parsed the returned message or headers
        headers = payload[0] if payload and isinstance(payload[0], Message) else None
    else:
        headers = BytesParser(policy=POLICY).parsebytes(
            part_text(part).encode("utf-8", "replace") + b"\n\n", headersonly=True
        )
    if headers is None:
        return []
    ids = list(message_ids(_raw_header(headers, "Message-ID")))
    ids += message_ids(_raw_header(headers, "X-Original-Message-ID"))
    return ids


_RETURNED = {"message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers"}
_STATUS_PARTS = {"message/delivery-status", "message/global-delivery-status"}


def bounce_report(message: Message) -> BounceReport | None:
    """The delivery status notification in ``message`` (multipart/report with report-type
    delivery-status, or global-delivery-status of RFC 6533), or None when it is not one.

    Its recipients are those whose delivery failed; a report of delays only names the
    delayed ones (``action`` "delayed"); a report of successful deliveries names none."""
    if message.get_content_type() != "multipart/report":
        return None
    report_type = (message.get_param("report-type") or "").lower()
    if report_type not in {"delivery-status", "global-delivery-status"}:
        return None
    ids: list[str] = list(message_ids(_raw_header(message, "X-Original-Message-ID")))
    by_action: dict[str, list[tuple[str, str, str]]] = {"failed": [], "delayed": []}
    for part in leaves(message):
        content_type = part.get_content_type()
        if content_type in _RETURNED:
            ids += _returned_ids(part)
        elif content_type in _STATUS_PARTS:
            for block in _report_fields(part):
                envelope = _raw_header(block, "Original-Envelope-Id")
                if envelope:
                    ids += message_ids(_XTEXT.sub(lambda m: chr(int(m[1], 16)), envelope))
                recipient = _raw_header(block, "Final-Recipient") or _raw_header(
                    block, "Original-Recipient"
                )
                action = _raw_header(block, "Action").strip().lower() or "failed"
                if recipient and action in by_action:  # not delivered, relayed, expanded
                    address = _clean(_typed_value(recipient).strip("<>").lower())
                    status = _clean(_raw_header(block, "Status")).split()
                    diagnostic = _clean(_typed_value(_raw_header(block, "Diagnostic-Code")))
                    by_action[action].append((address, status[0] if status else "", diagnostic))
    action = "failed" if by_action["failed"] or not by_action["delayed"] else "delayed"
    found = by_action[action]
    return BounceReport(
        original_message_ids=tuple(dict.fromkeys(ids)),
        recipients=tuple(dict.fromkeys(address for address, _, _ in found if address)),
        status=next((status for _, status, _ in found if status), ""),
        diagnostic=next((diagnostic for _, _, diagnostic in found if diagnostic), "")[:1000],
        action=action if found else "",
    )
