"""Receiving email (N-3, N-4): every message is stored first, then handled once.

``inbound_receive`` is what every transport calls (the ``receive_email`` pipe, the IMAP poll,
the drop folder). It stores the raw message in a transaction of its own, deduplicated by its
Message-ID, so a retried delivery never posts twice and nothing received is lost; only a
failure to store raises, and then the transport keeps the message and tries again.

Handling runs in a second transaction with the row locked and its outcome checked again, so
two deliveries or a delivery and the retry sweep never handle one message twice. What the
message is decides the outcome (``inbound.handling``). A failure that is not a domain
refusal (a bug, an outage) rolls the handling back and leaves the message waiting, with the
error, for ``inbound_handle_waiting``; after ``MAX_ATTEMPTS`` it is refused as "could not
be handled", where care sees it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.tenancy import scopes_disabled
from inbound import answers
from inbound.handling import handle
from inbound.models import InboundMessage
from inbound.parsing import ParsedMessage
from inbound.selectors import readable

log = logging.getLogger(__name__)

Outcome = InboundMessage.Outcome

# When a message that failed is tried again, counted from its receipt: the n-th retry
# waits RETRY_AFTER[n]. The first entry is also the grace a message just stored gets before
# the sweep takes it, since its own delivery is handling it then.
RETRY_AFTER = (
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
MAX_ATTEMPTS = len(RETRY_AFTER)
ERROR_MAX = 2000


def dedup_key(raw: bytes, message_id: str) -> str:
    """The Message-ID; a hash of the bytes for a message without one (or with one too long
    to index, hashed too)."""
    if message_id:
        if len(message_id) <= 255:
            return message_id
        return "message-id-sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def inbound_receive(raw: bytes, *, transport: str, now: datetime | None = None) -> InboundMessage:
    """Store one received message, then handle it (N-3, N-4).

    Returns the stored row, handled or, after a failure, waiting for a retry. A message
    already stored (the same Message-ID, or the same bytes) is returned as it is: nothing is
    posted or answered again. Raises only when the message could not be stored.
    """
    now = now or timezone.now()
    if transport not in InboundMessage.Transport.values:
        raise ValueError(f"Unknown transport {transport!r}.")
    raw = bytes(raw)
    try:
        parsed: ParsedMessage | None = readable(raw)
    except Exception:  # the parser promises not to raise; store the message whatever it does
        log.exception("Inbound email: the parser failed; the message is stored unread.")
        parsed = None
    message, created = _store(raw, parsed, transport=transport, now=now)
    if not created:
        log.info("Inbound email %s received again; already stored.", message.pk)
        return message
    handled = _attempt(message.pk, parsed, now, stored=message)
    if handled is not None:
        return handled
    with scopes_disabled():  # left waiting (or handled meanwhile by a sweep): as stored now
        return InboundMessage.objects.defer("raw").get(pk=message.pk)


def _store(
    raw: bytes, parsed: ParsedMessage | None, *, transport: str, now: datetime
) -> tuple[InboundMessage, bool]:
    """The row of this message and whether this call created it. The INSERT comes first:
    the unique key, not a look-up, decides, also against a concurrent delivery."""
    message_id = parsed.message_id if parsed else ""
    message = InboundMessage(
        dedup_key=dedup_key(raw, message_id),
        message_id=message_id[:998],
        transport=transport,
        raw=raw,
        size=len(raw),
        sender=(parsed.sender or "")[:254] if parsed else "",
        subject=(parsed.subject if parsed else "")[:255],
        received_at=now,
    )
    try:
        if transaction.get_autocommit():
            message.save(force_insert=True)  # one statement, a transaction of its own
        else:
            with transaction.atomic():  # inside the caller's transaction: a savepoint
                message.save(force_insert=True)
    except IntegrityError:
        existing = InboundMessage.objects.defer("raw").filter(dedup_key=message.dedup_key).first()
        if existing is None:
            raise  # another constraint: a bug, not a repeated delivery
        return existing, False
    return message, True


def _attempt(
    pk: int,
    parsed: ParsedMessage | None,
    now: datetime,
    *,
    stored: InboundMessage | None = None,
) -> InboundMessage | None:
    """Handle one waiting message; the message when this call decided its outcome, else
    None. Never raises: a failure is recorded on the message for the retry sweep.
    ``stored`` is the row as this process has just inserted it, when it has."""
    try:
        if parsed is None:
            with scopes_disabled():
                raw = InboundMessage.objects.values_list("raw", flat=True).get(pk=pk)
            parsed = readable(bytes(raw))
        return _handle_locked(pk, parsed, now, stored=stored)
    except Exception as exc:  # a bug or an outage: the message waits for a retry
        log.exception("Inbound email %s could not be handled; it will be tried again.", pk)
        try:
            _record_failure(pk, parsed, exc, now)
        except Exception:  # the database is gone too: the sweep finds the row later
            log.exception("Inbound email %s: the failure could not be recorded.", pk)
        return None


def _handle_locked(
    pk: int, parsed: ParsedMessage, now: datetime, *, stored: InboundMessage | None = None
) -> InboundMessage | None:
    with scopes_disabled(), transaction.atomic():
        waiting = InboundMessage.objects.select_for_update(skip_locked=True).filter(
            pk=pk, outcome=Outcome.RECEIVED
        )
        if stored is not None:
            # Just inserted by this call: the lock is all that is needed from the database,
            # the row's values are those in hand.
            message = stored if waiting.values_list("pk", flat=True).first() else None
        else:
            message = waiting.defer("raw").first()
        if message is None:
            return None  # handled already, or being handled by another worker right now
        handle(message, parsed, now=now)
        message.handled_at = now
        message.save(
            update_fields=[
                "outcome",
                "reason",
                "handled_at",
                "organization",
                "case",
                "update",
                "bounced_email",
                "answered_at",
            ]
        )
    return message


def _record_failure(pk: int, parsed: ParsedMessage | None, exc: Exception, now: datetime) -> None:
    with scopes_disabled(), transaction.atomic():
        message = (
            InboundMessage.objects.select_for_update()
            .defer("raw")
            .filter(pk=pk, outcome=Outcome.RECEIVED)
            .first()
        )
        if message is None:
            return
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        fields = ["attempts", "last_error"]
        if message.attempts >= MAX_ATTEMPTS:
            message.outcome = Outcome.REFUSED
            message.reason = (
                f"Could not be handled after {message.attempts} attempts "
                f"(last error: {type(exc).__name__}). Customer Care should read it and act."
            )
            message.handled_at = now
            fields += ["outcome", "reason", "handled_at"]
            log.error("Inbound email %s: gave up after %s attempts.", pk, message.attempts)
            # The sender believes their email reached the case: tell them it did not (a
            # message that may be automatic is never answered).
            answerable = parsed is not None and not (parsed.is_automatic or parsed.bounce)
            if answerable and answers.answer_sender(
                message=message, kind=answers.Kind.FAILED, now=now
            ):
                fields.append("answered_at")
        message.save(update_fields=fields)


def waiting_condition(now: datetime) -> Q:
    """Messages due for a (re)try: each waits its delay after receipt (``RETRY_AFTER``)."""
    due = Q(pk__in=[])
    for attempts, delay in enumerate(RETRY_AFTER):
        due |= Q(attempts=attempts, received_at__lte=now - delay)
    return Q(outcome=Outcome.RECEIVED) & due


def inbound_handle_waiting(*, now: datetime, limit: int = 100) -> int:
    """Handle messages whose handling failed or was cut short (a crash between storing and
    handling); returns how many this call decided. Several workers may run it at once: a
    message being handled elsewhere is skipped."""
    with scopes_disabled():
        due = list(
            InboundMessage.objects.filter(waiting_condition(now))
            .order_by("received_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
    return sum(_attempt(pk, None, now) is not None for pk in due)
