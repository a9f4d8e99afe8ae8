"""The transactional email outbox (N-5): write in the transaction, send after commit.

``outbox_enqueue`` is called by services inside their transaction. After commit a Celery
task sends the row, rung by its name (this module imports no tasks: the tasks import it);
if the broker is down the request still succeeds and the outbox sweep (beat) sends it
later. Sending locks the row with ``skip_locked`` so two workers never send the same row at
the same time; a failure is retried with exponential backoff.

A case email names its audience (N-1): before each attempt the recipients are checked
again by the checker the ``OUTBOX_RECIPIENT_CHECK`` setting names (this floor imports no
app of ours), so whoever lost access to the case between the decision and the sending gets
nothing. Replies go to ``INBOUND_ADDRESS`` (Reply-To), the inbound path (N-3).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
SWEEP_BATCH = 200
# The task that sends one email (core/outbox/tasks.py registers it under this name).
SEND_EMAIL_TASK = "core.outbox.tasks.send_outbox_email"
WITHHELD_REASON = "Nobody it was addressed to may see the case any more."


def one_line(value: str) -> str:
    """Header values never carry CR or LF: header injection is impossible by construction."""
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _address(raw: str | None) -> str | None:
    """A plain, valid address, or None: a malformed one would only fail at the SMTP server,
    retried until the outbox gives up, and a line break in it could forge headers."""
    address = (raw or "").strip().lower()
    if not address:
        return None
    try:
        validate_email(address)
    except ValidationError:
        log.warning("Outbox: dropped a malformed recipient address.")
        return None
    return address


def mail_domain() -> str:
    address = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    return address.strip(" >") or "support-portal.example"


def message_id_for(key: str, hint: str = "") -> str:
    """The same key always gives the same Message-ID, so a resend is the same message. The
    hint (for case mail: the case number and reference token, N-2) goes in front, so a
    reply that keeps only In-Reply-To still names its case."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    hint = re.sub(r"[^A-Za-z0-9.\-]", "", hint)[:80].strip(".")
    return f"<{hint}.{digest}@{mail_domain()}>" if hint else f"<{digest}@{mail_domain()}>"


def outbox_enqueue(
    *,
    organization_id: int | None,
    key: str,
    to: list[str],
    subject: str,
    text: str,
    html: str = "",
    headers: dict[str, str] | None = None,
    case_id: int | None = None,
    message_id_hint: str = "",
    audience: str = OutboxEmail.Audience.NONE,
    now: datetime,
) -> OutboxEmail | None:
    """Record an email to send once the current transaction commits.

    ``audience`` (``OutboxEmail.Audience``) says who may still receive it when it is sent:
    a case email's recipients are checked again then (N-1). Returns None when the key was
    already used (the email is already decided) or there is nobody to send to.
    """
    if audience not in OutboxEmail.Audience.values:
        raise ValueError(f"Unknown audience {audience!r}.")
    if audience != OutboxEmail.Audience.NONE and organization_id is None:
        raise ValueError("An email for a case's audience needs the case's organization.")
    recipients = sorted({a for a in (_address(raw) for raw in to) if a})
    if not recipients:
        return None
    email = OutboxEmail(
        organization_id=organization_id,
        idempotency_key=key,
        message_id=message_id_for(key, message_id_hint),
        to=recipients,
        subject=one_line(subject)[:255],
        body_text=text,
        body_html=html,
        headers={one_line(k): one_line(v) for k, v in (headers or {}).items()},
        case_id=case_id,
        audience=audience,
        next_attempt_at=now,
        created_at=now,
    )
    if not _insert_unless_decided(email):
        return None
    transaction.on_commit(lambda: _ring(email.pk))
    return email


def _insert_unless_decided(email: OutboxEmail) -> bool:
    """Insert the row unless its key is already used; True if this call inserted it.

    The unique key decides, with no look-up first: that also holds against a concurrent
    transaction deciding the same email, whose INSERT waits for the first to commit and then
    fails. The savepoint keeps the caller's transaction usable after such a failure."""
    try:
        with transaction.atomic():
            email.save(force_insert=True)
    except IntegrityError:
        if OutboxEmail.unscoped.filter(idempotency_key=email.idempotency_key).exists():
            return False
        raise  # another constraint: a bug, not a repeated decision
    return True


def _ring(email_id: int) -> None:
    """Ask a worker to send now. The broker is only a doorbell: if it is down, the sweep
    finds the row later, so a failure here is logged and swallowed."""
    try:
        current_app.send_task(name=SEND_EMAIL_TASK, args=[email_id], retry=False)
    except Exception:  # any broker error: the sweep will send it
        log.warning("Broker unavailable; outbox email %s waits for the sweep.", email_id)


def outbox_send(*, email_id: int, now: datetime | None = None) -> bool:
    """Send one pending email; True if it was sent by this call."""
    now = now or timezone.now()
    with scopes_disabled(), transaction.atomic():
        email = (
            OutboxEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, state=OutboxEmail.State.PENDING)
            .first()
        )
        if email is None:
            return False  # already sent, given up, or being sent by another worker
        return _deliver(email, now)


def recipient_check():
    """The checker the ``OUTBOX_RECIPIENT_CHECK`` setting names: called with
    ``organization_id``, ``case_id``, ``audience`` and ``addresses``, it returns the addresses
    that may still receive the email."""
    name = getattr(settings, "OUTBOX_RECIPIENT_CHECK", "")
    if not name:
        raise ImproperlyConfigured(
            "OUTBOX_RECIPIENT_CHECK is not set: case emails wait until it names the checker."
        )
    return import_string(name)


def _entitled(email: OutboxEmail) -> list[str]:
    """The row's recipients who may still receive it, in the row's order."""
    if email.audience == OutboxEmail.Audience.NONE:
        return list(email.to)
    # A savepoint: a failing check leaves the transaction usable to record the attempt.
    with transaction.atomic():
        allowed = recipient_check()(
            organization_id=email.organization_id,
            case_id=email.case_id,
            audience=email.audience,
            addresses=list(email.to),
        )
    allowed = {a.strip().lower() for a in allowed}
    return [a for a in email.to if a in allowed]


def _deliver(email: OutboxEmail, now: datetime) -> bool:
    email.attempts += 1
    try:
        recipients = _entitled(email)
    except Exception as exc:  # the check could not run (database, settings): retry later
        return _failed(email, exc, now)
    email.dropped = [a for a in email.to if a not in recipients]
    if not recipients:
        email.state = OutboxEmail.State.WITHHELD
        email.reason = WITHHELD_REASON
        email.last_error = ""
        email.save(update_fields=["attempts", "dropped", "state", "reason", "last_error"])
        log.info("Outbox email %s withheld: nobody it was addressed to may see the case.", email.pk)
        return False
    headers = {"Message-ID": email.message_id, **email.headers}
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers=headers,
        # Replies reach the inbound path in every setup (N-3).
        reply_to=[settings.INBOUND_ADDRESS],
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # SMTP and network errors of every kind: retry later
        return _failed(email, exc, now)
    email.state = OutboxEmail.State.SENT
    email.sent_at = now
    email.last_error = ""
    email.save(update_fields=["attempts", "dropped", "state", "sent_at", "last_error"])
    return True


def _failed(email: OutboxEmail, exc: Exception, now: datetime) -> bool:
    """Record a failed attempt: retried with backoff, given up after MAX_ATTEMPTS."""
    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if email.attempts >= MAX_ATTEMPTS:
        email.state = OutboxEmail.State.FAILED
        log.error("Outbox email %s failed %s times; giving up.", email.pk, email.attempts)
    else:
        email.next_attempt_at = now + min(BACKOFF_BASE * (2 ** (email.attempts - 1)), BACKOFF_CAP)
    email.save(update_fields=["attempts", "dropped", "last_error", "state", "next_attempt_at"])
    return False


def outbox_sweep(*, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Send what is due: emails the broker lost, and retries whose backoff has passed."""
    sent = 0
    with scopes_disabled():
        due = list(
            OutboxEmail.objects.filter(state=OutboxEmail.State.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
    for email_id in due:
        sent += outbox_send(email_id=email_id, now=now)
    return sent
