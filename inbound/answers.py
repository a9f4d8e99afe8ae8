"""The automatic answers to received email (N-3, N-4), within the limits of RFC 3834.

A sender is told why their email was not posted (or which of its files were refused), in one
email rendered from ``templates/emails/inbound_<kind>.txt`` and ``.html`` and sent by the
outbox once the handling commits. Automatic answers never start a loop:

- a message that is itself automatic (an auto-reply, a list, a bounce) gets none; the caller
  decides that from the parsed message and ``not_a_person``;
- each answer says ``Auto-Submitted: auto-replied``, so a well-behaved responder answers
  nothing back, and asks Microsoft servers for no out-of-office reply;
- a sender gets at most one automatic answer an hour, whatever they send.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from cases.models import Case
from cases.references import message_id_hint
from core.outbox.models import OutboxEmail
from core.outbox.services import outbox_enqueue
from inbound.models import InboundMessage
from inbound.parsing import machine_sender

ANSWER_INTERVAL = timedelta(hours=1)


class Kind(StrEnum):
    """Which answer; each has its templates ``emails/inbound_<kind>.txt`` and ``.html``."""

    NO_REFERENCE = "no_reference"  # N-4: cases are opened in the portal
    NOT_ALLOWED = "not_allowed"  # N-3: the sender may not update the case
    CLOSED = "closed"  # C-12: how to reopen, or to open a new case
    TOO_LARGE = "too_large"
    EMPTY = "empty"  # nothing to post
    REFUSED = "refused"  # the case refused the update (a domain error), in its words
    ATTACHMENTS = "attachments"  # posted, but some files were refused
    FAILED = "failed"  # could not be handled at all, after retries


def not_a_person(address: str) -> str:
    """Why mail from this address must never be answered, in words; "" for a person."""
    return machine_sender(address)


def answered_recently(*, sender: str, now: datetime) -> bool:
    """True when the sender was sent an automatic answer less than an hour ago."""
    return InboundMessage.objects.filter(
        sender=sender, answered_at__gt=now - ANSWER_INTERVAL, answered_at__lte=now
    ).exists()


def reply_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        return "Re: your email to Customer Care"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def portal_links() -> dict[str, str]:
    return {
        "portal_url": f"{settings.SITE_URL}/",
        "new_case_url": f"{settings.SITE_URL}{reverse('cases:new')}",
    }


def answer_sender(
    *,
    message: InboundMessage,
    kind: Kind,
    now: datetime,
    case: Case | None = None,
    context: dict[str, Any] | None = None,
) -> bool:
    """Decide the one automatic answer to ``message`` (written to the outbox in the caller's
    transaction); True when one was decided, and then ``message.answered_at`` is set for the
    caller to save.

    ``case`` is given only when the sender is a designated contact of it: the answer is then
    filed with the case and threads with its emails, so a reply to it reaches the case. A
    stranger's answer belongs to no organization and names no case (T-6).
    """
    sender = message.sender
    if not sender or not_a_person(sender) or answered_recently(sender=sender, now=now):
        return False
    context = {
        **portal_links(),
        "their_subject": message.subject,
        "phones": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "case": case,
        **(context or {}),
    }
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    if message.message_id:
        headers |= {"In-Reply-To": message.message_id, "References": message.message_id}
    email = outbox_enqueue(
        organization_id=case.organization_id if case else None,
        key=f"inbound-{message.pk}-answer",
        to=[sender],
        subject=reply_subject(message.subject),
        text=render_to_string(f"emails/inbound_{kind}.txt", context),
        html=render_to_string(f"emails/inbound_{kind}.html", context),
        headers=headers,
        case_id=case.pk if case else None,
        message_id_hint=message_id_hint(case) if case else "",
        # About a case: only while the sender is still one of its designated contacts.
        audience=(
            OutboxEmail.Audience.CASE_DESIGNATED_CONTACTS if case else OutboxEmail.Audience.NONE
        ),
        now=now,
    )
    if email is None:
        return False
    message.answered_at = now
    return True
