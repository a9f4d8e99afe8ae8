"""What the sender of a reply wrote, without the quoted email and the signature (N-3).

The maintained library ``mail-parser-reply`` finds the reply headers of the common clients
("On … wrote:" of Gmail, Apple Mail and Thunderbird; Outlook's "From: … Sent: …" block and
"-----Original Message-----") in English, German, French, Spanish, Italian and Dutch, and the
signature starts ("-- ", "Sent from my iPhone", "Get Outlook for …", sign-offs such as "Best
regards"). Around it, small documented steps:

1. A forwarded message keeps what was forwarded: the sender's intent is to show it. The
   forward marker ("---------- Forwarded message ---------", "Begin forwarded message:",
   Thunderbird's "-------- Forwarded Message --------") or, for Outlook, a subject starting
   with "Fw:"/"Fwd:" marks where the forwarded part begins; only the text above it is
   stripped. A marker below a reply header belongs to the quoted history: no forward then.
2. The library's sign-off rule cuts at the first line that starts with "Thanks," or "Best,",
   which would drop "Thanks, that fixed it. But now …". A sign-off is accepted only when its
   line is the sign-off alone (optionally with a name of up to three capitalised words) and at
   most five lines follow it; "-- ", an underscore or dash rule and "Sent from my …" are
   always accepted.
3. The library strips every line's indentation; the lines it keeps are taken back from the
   original text, so pasted logs and code keep their indentation.
4. Quoted lines ("> ") left inside the reply (inline answers, bottom-posting) are dropped
   with their "… wrote:" line.
5. Time is bounded: the library's patterns are slow on some long inputs (a line of
   thousands of characters starting with "On", thousands of "Thanks," lines), so it sees
   only the first lines of the text, each shortened in its middle; a reply longer than
   that window is kept whole from where the window found no quote header or signature.
"""

from __future__ import annotations

import functools
import re

from mailparser_reply.constants import MAIL_LANGUAGES
from mailparser_reply.parser import EmailMessage as ReplyMessage

LANGUAGES = ("en", "de", "fr", "es", "it", "nl")
# Step 5: the library's patterns take quadratic time on some long lines; it sees at most
# this window of the text, and at most this many rejected sign-off candidates are tried.
WINDOW_LINES = 600
WINDOW_LINE_CHARS = 160
MAX_SIGNATURE_CANDIDATES = 12

_FORWARD_MARKER = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*(?:Forwarded message|Forwarded Message|Weitergeleitete Nachricht"
    r"|Message transféré|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht)[ \t]*-{2,}"
    r"|Begin forwarded message:|Anfang der weitergeleiteten Nachricht:"
    r"|Début du message réexpédié\s?:)[ \t]*$",
    re.MULTILINE | re.IGNORECASE,
)
_RULE = re.compile(r"^[ \t]*[_\-=*]{5,}[ \t]*$")
_ATTRIBUTION = re.compile(
    r"(?:\bwrote|\bschrieb|a écrit|escribió|ha scritto|schreef)\b[^\n]{0,80}:\s*$", re.IGNORECASE
)
_SENT_FROM = re.compile(
    r"^(?:Sent from (?:my|Mail for|Outlook)|Get Outlook for|Gesendet von|Envoyé de"
    r"|Enviado desde|Inviato da|Verzonden (?:vanaf|met))\b",
    re.IGNORECASE,
)
_SIGNOFF = re.compile(
    r"(?:"
    + "|".join(
        signature.rstrip(",")
        for language in LANGUAGES
        for signature in MAIL_LANGUAGES[language].get("signatures", [])
    )
    + r"|Thanks|Thank you|Cheers|Regards|Many thanks|Best wishes|Sincerely)"
    + r"[ \t]*[,.!]?(?:[ \t]+\(?[A-Z][\w.'’-]*(?:[ \t]+[A-Z][\w.'’-]*){0,2}\)?)?[ \t]*",
    re.IGNORECASE,
)
_MAX_LINES_AFTER_SIGNOFF = 5


def reply_text(text: str, *, forwarded: bool = False) -> str:
    """Only what the sender wrote in ``text`` (a plain-text body); see the module docstring."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    own, forward = _split_forward(text, forwarded=forwarded)
    reply = _drop_quoted(_latest_reply(own)) if own.strip() else ""
    reply = _tidy(reply)
    if forward:
        return (reply + "\n\n" + forward).strip("\n") if reply else forward
    return reply


def _normalised(text: str) -> tuple[list[str], str]:
    """The original lines, and the window of them the library sees (step 5): each line
    stripped, rules blanked (the library's own rule handling deletes lines, which would
    shift them), a long line shortened in its middle (its start and end are what the
    library's patterns look at)."""
    lines = text.split("\n")
    seen = []
    for line in lines[:WINDOW_LINES]:
        line = "" if _RULE.match(line) else line.strip()
        if len(line) > WINDOW_LINE_CHARS:
            half = WINDOW_LINE_CHARS // 2
            line = line[:half] + " … " + line[-half:]
        seen.append(line)
    return lines, "\n".join(seen)


def _reader(text: str) -> ReplyMessage:
    return ReplyMessage(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()


@functools.cache
def _header_pattern() -> re.Pattern[str]:
    """The library's pattern of reply headers ("On … wrote:", "From: … Sent: …")."""
    return ReplyMessage(text="", languages=list(LANGUAGES)).HEADER_REGEX


def _split_forward(text: str, *, forwarded: bool) -> tuple[str, str]:
    marker = _FORWARD_MARKER.search(text)
    if marker:
        own = text[: marker.start()]
        if _header_pattern().search(_normalised(own)[1]):
            return text, ""  # the marker is in the quoted history of a reply: no forward
        return own, text[marker.start() :].strip("\n")
    if not forwarded:
        return text, ""
    lines, normalised = _normalised(text)
    header = _header_pattern().search(normalised)
    if header is None:
        return text, ""
    start = header.start() + (len(header.group()) - len(header.group().lstrip("\n")))
    line = normalised.count("\n", 0, start)
    return "\n".join(lines[:line]), "\n".join(lines[line:]).strip("\n")


def _signature_start(reader: ReplyMessage, fragment: str) -> int:
    """Where the accepted signature starts in ``fragment`` (len(fragment): none)."""
    pattern = reader.SIGNATURE_REGEX
    position = 0
    for _attempt in range(MAX_SIGNATURE_CANDIDATES):
        if position >= len(fragment):
            break
        match = pattern.search(fragment, position)
        if match is None:
            break
        start = match.start() + (len(match.group()) - len(match.group().lstrip()))
        line_end = fragment.find("\n", start)
        first_line = fragment[start : line_end if line_end >= 0 else len(fragment)]
        first_line = first_line.lstrip("> ").strip()
        rest = fragment[line_end + 1 :] if line_end >= 0 else ""
        if (
            first_line.startswith(("--", "__"))
            or _SENT_FROM.match(first_line)
            or (
                _SIGNOFF.fullmatch(first_line)
                and sum(1 for line in rest.split("\n") if line.strip()) <= _MAX_LINES_AFTER_SIGNOFF
            )
        ):
            return start
        if line_end < 0:
            break
        position = line_end + 1
    return len(fragment)


def _latest_reply(text: str) -> str:
    lines, normalised = _normalised(text)
    reader = _reader(normalised)
    if not reader.replies:
        return text
    first = reader.replies[0]
    content = first.content  # stripped by the library
    if not content.strip():  # nothing but blank lines in the window
        return text
    start = normalised.find(content)
    if start < 0:  # not expected: the library's text is the window's
        return first.body
    if first.headers and content.startswith(first.headers):
        offset = len(first.headers)
        start += offset
        content = content[offset:]
    end = start + _signature_start(reader, content)
    first_line = normalised.count("\n", 0, start)
    if end >= len(normalised):  # no signature: up to the end of the window, and beyond
        last_line = len(lines)
    else:
        last_line = normalised.count("\n", 0, end)
        if end > 0 and normalised[end - 1] != "\n":
            last_line += 1  # the line the end falls in is kept
    return "\n".join(line.rstrip() for line in lines[first_line:last_line])


def _drop_quoted(text: str) -> str:
    """Lines quoted with ">" go, and the "… wrote:" line that introduced them."""
    kept: list[str] = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            while kept and not kept[-1].strip():
                kept.pop()
            if kept and _ATTRIBUTION.search(kept[-1]):
                kept.pop()
            kept.append("")
            continue
        kept.append(line)
    return "\n".join(kept)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines.pop()
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")
