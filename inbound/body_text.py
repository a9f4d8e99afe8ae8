"""The body of a received email as plain text, and its attachments (N-3).

Pure functions over a parsed ``email.message.EmailMessage``; the caller (``inbound.parsing``)
catches anything unexpected, so these may assume a message the stdlib could parse.

- Text: the ``text/plain`` body is preferred (of several body parts, as Apple Mail writes
  around an inline file, all of them in order); a message with only HTML is converted here with
  the stdlib's ``html.parser`` (no converter library is in the locks): no markup survives, block
  elements and ``<br>`` keep their line breaks, quoted blocks (``<blockquote>``) come out as
  "> " lines so the reply stripper removes them like plain-text quoting.
- Charsets: the declared charset first; bytes that do not fit it (a wrong label) or an unknown
  label fall back to UTF-8, then to the declared charset (or windows-1252) with replacement
  characters; see decode_bytes for ASCII and Latin-1 labels. Nothing here raises on bad bytes.
- Attachments: every part with a filename that is not the body, a part marked as an
  attachment without a filename (named ``attachment-N.<ext>``), and an attached email
  (``message/rfc822``) as a ``.eml`` file. Inline images without a filename (logos referenced
  from the HTML) are not attachments.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message
from html.parser import HTMLParser

# Labels under which mail clients send other bytes in practice: 8-bit text labelled
# "us-ascii" is mostly UTF-8, and "iso-8859-1" text has windows-1252's curly quotes and
# dashes in 0x80-0x9F (the WHATWG rule). UTF-8 is tried first for these (bytes that happen
# to be valid UTF-8 are almost never Latin-1), then windows-1252.
_LOOSE_LABELS = {"ascii", "latin-1", "iso8859-1", "cp1252"}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text: the declared ``charset`` if the bytes fit it, else UTF-8, else the
    declared charset (or windows-1252 when unknown) with replacement characters."""
    label = (charset or "").strip().strip('"').lower()
    try:
        codec = codecs.lookup(label).name if label else ""
    except LookupError:
        codec = ""
    if codec in _LOOSE_LABELS or not codec:
        tries, fallback = ["utf-8", "cp1252"], "cp1252"
    else:
        tries, fallback = list(dict.fromkeys([codec, "utf-8"])), codec
    for name in tries:
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode(fallback, errors="replace")


def part_text(part: Message) -> str:
    """The decoded text of a leaf part (transfer encoding and charset undone)."""
    payload = part.get_payload(decode=True)
    if payload is None:  # a multipart, or a payload the stdlib could not decode at all
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    text = decode_bytes(payload, part.get_content_charset())
    return text.replace("\r\n", "\n").replace("\r", "\n")


# Real mail nests a few levels deep; a hostile message nested hundreds of levels deep is
# read down to this depth (deeper parts are left out) instead of exhausting the stack.
MAX_DEPTH = 40


def leaves(message: Message) -> Iterator[Message]:
    """Every leaf part in order, an attached email (``message/rfc822``) counted as one leaf:
    its own parts belong to it, not to this message."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            if depth < MAX_DEPTH:
                children = [sub for sub in part.get_payload() if isinstance(sub, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
        else:
            yield part


def _is_attachment_disposition(part: Message) -> bool:
    return (part.get_content_disposition() or "") == "attachment"


def _body_candidate(part: Message) -> bool:
    return (
        part.get_content_type() in {"text/plain", "text/html"}
        and not part.get_filename()
        and not _is_attachment_disposition(part)
    )


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if part.is_multipart() else []


def _pieces(part: Message, depth: int = 0) -> list[Message]:
    """The parts that together make the body under ``part``, in order.

    An alternative gives its text/plain choice (else its first readable one); a mixed part
    gives all its children's pieces (Apple Mail puts text after an inline file in a part of
    its own); related, signed and report parts give their first child's."""
    if part.get_content_maintype() != "multipart":
        return [part] if _body_candidate(part) else []
    if depth >= MAX_DEPTH:
        return []
    children = _children(part)
    subtype = part.get_content_subtype()
    if subtype == "alternative":
        options = [pieces for child in children if (pieces := _pieces(child, depth + 1))]
        plain = [o for o in options if any(p.get_content_type() == "text/plain" for p in o)]
        return (plain or options or [[]])[0]
    if subtype in {"related", "signed", "report"}:
        return _pieces(children[0], depth + 1) if children else []
    if subtype == "encrypted":
        return []
    pieces: list[Message] = []
    for child in children:
        pieces += _pieces(child, depth + 1)
    return pieces


def body_parts(message: EmailMessage) -> list[Message]:
    """The parts holding the body (see _pieces); failing that, the first text/plain or
    text/html part anywhere that is no attachment."""
    pieces = _pieces(message)
    if pieces:
        return pieces
    for kind in ("text/plain", "text/html"):
        for part in leaves(message):
            if part.get_content_type() == kind and _body_candidate(part):
                return [part]
    return []


def body_text(message: EmailMessage) -> tuple[str, list[Message]]:
    """The whole body as plain text, and the parts it came from (none: no text body)."""
    parts = body_parts(message)
    texts = []
    for part in parts:
        text = part_text(part)
        if part.get_content_type() == "text/html":
            text = html_to_text(text)
        if text.strip():
            texts.append(text.strip("\n"))
    return "\n\n".join(texts), parts


def _attached_email_name(part: Message, index: int) -> str:
    name = part.get_filename() or ""
    if not name:
        inner = part.get_payload(0) if part.is_multipart() else None
        subject = ""
        if isinstance(inner, Message):
            subject = " ".join(str(inner.get("Subject", "") or "").split())
        name = subject[:80].strip() or f"message-{index}"
    return name if name.lower().endswith(".eml") else name + ".eml"


def _attached_email_bytes(part: Message) -> bytes:
    inner = part.get_payload(0) if part.is_multipart() else None
    if isinstance(inner, Message):
        return inner.as_bytes()
    payload = part.get_payload(decode=True)
    return payload or b""


_NOT_FILES = {
    "message/delivery-status",
    "message/global-delivery-status",
    "text/rfc822-headers",
    "message/global-headers",
    "application/pkcs7-signature",  # S/MIME and OpenPGP signatures of a signed message
    "application/x-pkcs7-signature",
    "application/pgp-signature",
}


def attachments(message: EmailMessage, body: list[Message]) -> list[tuple[str, str, bytes]]:
    """(name, content type, data) of every attachment, in order; ``body``: the body parts."""
    found: list[tuple[str, str, bytes]] = []
    for index, part in enumerate(leaves(message), start=1):
        if any(part is piece for piece in body):
            continue
        content_type = part.get_content_type()
        name = part.get_filename() or ""
        if content_type in {"message/rfc822", "message/global"}:
            found.append(
                (_attached_email_name(part, index), content_type, _attached_email_bytes(part))
            )
            continue
        if part.get_content_maintype() == "multipart" or content_type in _NOT_FILES:
            continue
        if not name:
            if not _is_attachment_disposition(part):
                continue  # body text, or an inline image without a name (a logo)
            extension = mimetypes.guess_extension(content_type) or ".bin"
            name = f"attachment-{index}{extension}"
        data = part.get_payload(decode=True)
        if data is None:
            data = b""
        found.append((name, content_type, data))
    return found


# --- HTML to text -------------------------------------------------------------------------

_BLOCK = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
    "tfoot", "thead", "tr", "ul",
}  # fmt: skip
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote", "pre"}
_SKIP = {"head", "script", "style", "title", "template", "noscript", "xml"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML document line by line (see html_to_text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.link: str | None = None
        self.link_text: list[str] = []

    # Lines --------------------------------------------------------------------------------
    def _prefix(self) -> str:
        return "> " * self.quote_depth

    def _break(self, *, paragraph: bool = False) -> None:
        """Ends the current line; ``paragraph`` also leaves one blank line after it."""
        text = "".join(self.current)
        line = text.rstrip(" ") if self.pre_depth else text.strip(" ")
        self.current = []
        if line:
            self.lines.append(self._prefix() + line)
        if paragraph:
            self._blank()

    def _blank(self) -> None:
        if not self.lines:
            return
        last = self.lines[-1]
        # Inside a quote, any quoted blank line will do; outside, only a truly empty one.
        if (last.strip("> ") == "") if self.quote_depth else (last == ""):
            return
        self.lines.append(self._prefix().rstrip())

    # Parser callbacks ---------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "br":
            line = "".join(self.current).rstrip(" ")
            self.current = []
            self.lines.append(self._prefix() + line if line else self._prefix().rstrip())
            return
        if tag in _BLOCK:
            self._break(paragraph=tag in _PARAGRAPH)
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag == "li":
            self.current.append("- ")
        elif tag in {"td", "th"} and self.current:
            self.current.append(" ")
        elif tag == "a":
            self.link = dict(attrs).get("href") or None
            self.link_text = []
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt and not self.skip_depth:
                self.current.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "a" and self.link is not None:
            text = "".join(self.link_text).strip()
            href = self.link
            self.link = None
            if href.startswith(("http://", "https://")) and href.rstrip("/") != text.rstrip("/"):
                self.current.append(f" ({href})" if text else href)
            return
        if tag == "blockquote":
            self._break()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._blank()
        elif tag == "pre":
            self._break(paragraph=True)
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in _BLOCK:
            self._break(paragraph=tag in _PARAGRAPH)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            chunks = data.split("\n")
            for number, chunk in enumerate(chunks):
                if number:
                    self.lines.append(self._prefix() + "".join(self.current).rstrip())
                    self.current = []
                self.current.append(chunk)
            return
        text = _SPACES.sub(" ", data)
        last = next((chunk for chunk in reversed(self.current) if chunk), "")
        if not last or last.endswith(" "):
            text = text.lstrip(" ")
        if self.link is not None:
            self.link_text.append(text)
        self.current.append(text)

    def close(self) -> None:
        super().close()
        self._break()


# The stdlib parser has quadratic cases on hostile markup (CVE-2025-6069, fixed in 2025; Python
# 3.11.7 and Debian 12's 3.11.2 have them): a "<" that opens nothing, or a tag whose quotes do
# not close, makes it rescan to the end of the input, so 100 KB of "<p<p<p" or '<a b=">"'
# takes seconds to minutes. Two linear passes first, and the parser never meets either:
# a "<" with no ">" before the next "<" is written "&lt;"; a tag whose attributes are not
# well formed loses its quote marks (its text is the same, only an attribute value may
# read differently). A ">" inside a quoted value ("x > y") is fine.
_STRAY_LT = re.compile(r"<(?=[^<>]*(?:<|\Z))")
_TAG_SPAN = re.compile(r"""<[a-zA-Z](?:[^<>"']|"[^"<]*"|'[^'<]*')*>|<[a-zA-Z][^<>]*>""")
_WELL_FORMED_TAG = re.compile(
    r"<[a-zA-Z][^\s/>]*(?:\s+[^\s\"'=<>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>]+))?)*\s*/?>"
)


def _tame_tag(match: re.Match[str]) -> str:
    tag = match.group()
    if ('"' in tag or "'" in tag) and not _WELL_FORMED_TAG.fullmatch(tag):
        return tag.replace('"', "").replace("'", "")
    return tag


def _tame(html: str) -> str:
    return _TAG_SPAN.sub(_tame_tag, _STRAY_LT.sub("&lt;", html))


def html_to_text(html: str) -> str:
    """The readable text of an HTML email: no tags, entities decoded, line breaks kept."""
    parser = _TextExtractor()
    try:
        parser.feed(_tame(html))
        parser.close()
    except (AssertionError, ValueError):  # very broken markup: keep what was read
        parser._break()
    lines = [line.rstrip() for line in parser.lines]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)  # at most one blank line in a row
    return text.strip("\n")
