"""Reads of received email, for care (the care workspace) and the inbound service.

Only care sees this table (it is not tenant data until a message is matched to a case, and
then care-only): these reads need no tenant scope. The raw bytes are read only when asked
for: a list of messages never carries them.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from inbound.models import InboundMessage
from inbound.parsing import ParsedMessage, parse_message

# The headers of a message too large to be read whole: enough to answer its sender.
HEAD_MAX = 256 * 1024


def readable(raw: bytes) -> ParsedMessage:
    """The parsed message. One over ``INBOUND_MAX_BYTES`` is read for its headers only,
    without holding every part of it in memory."""
    if len(raw) > settings.INBOUND_MAX_BYTES:
        end = raw.find(b"\r\n\r\n", 0, HEAD_MAX)
        end = raw.find(b"\n\n", 0, HEAD_MAX) if end < 0 else end
        raw = raw[: end + 2] if end >= 0 else raw[:HEAD_MAX]
    return parse_message(raw)


def inbound_messages() -> QuerySet[InboundMessage]:
    """Every received message, newest first, without its raw bytes."""
    return InboundMessage.objects.defer("raw").select_related("case")


def inbound_message_raw(*, message: InboundMessage) -> bytes:
    """The message exactly as it was received."""
    return bytes(InboundMessage.objects.values_list("raw", flat=True).get(pk=message.pk))


def inbound_message_content(*, message: InboundMessage) -> ParsedMessage:
    """What the message says, read again from its raw bytes: the whole text as plain text,
    the part posted, its files. Never the message's own HTML."""
    return readable(inbound_message_raw(message=message))
