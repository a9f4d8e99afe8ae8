"""Every email received at the inbound address, stored before anything else happens (N-3)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class InboundMessage(models.Model):
    """One received message: its raw bytes, and what the portal did with it.

    The row is written first, in its own transaction, so nothing received is ever lost; the
    dedup key (the Message-ID, or a hash of the bytes when there is none) makes a retried
    delivery of the same message a no-op. Not a tenant model: until it is matched to a case
    a message belongs to nobody, and only care sees this table.
    """

    class Transport(models.TextChoices):
        PIPE = "pipe", "Mail server pipe"
        IMAP = "imap", "IMAP mailbox"
        MAILDIR = "maildir", "Drop folder"

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received, not yet handled"
        POSTED = "posted", "Posted to the case"
        REFUSED = "refused", "Refused"
        NO_REFERENCE = "no_reference", "No case reference"
        AUTOMATIC = "automatic", "Automatic message, ignored"
        BOUNCE = "bounce", "Delivery failure report"

    dedup_key = models.CharField(max_length=255, unique=True)
    message_id = models.CharField(max_length=998, blank=True)
    transport = models.CharField(max_length=16, choices=Transport.choices)
    raw = models.BinaryField()
    size = models.PositiveBigIntegerField()
    sender = models.CharField(max_length=254, blank=True, help_text="The From address.")
    subject = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    reason = models.TextField(blank=True, help_text="Why it was refused or ignored, in words.")
    handled_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set when the message was matched to a case (posted, refused for the case, or a bounce
    # of one of the case's emails).
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    update = models.ForeignKey(
        "cases.CaseUpdate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A delivery failure report names the outgoing email that bounced.
    bounced_email = models.ForeignKey(
        "core.OutboxEmail", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When the sender was sent an automatic answer (at most one an hour per sender).
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["-received_at"], name="inbound_received"),
            models.Index(fields=["case", "-received_at"], name="inbound_case_received"),
            models.Index(
                fields=["sender", "-answered_at"],
                name="inbound_sender_answered",
                condition=Q(answered_at__isnull=False),
            ),
            models.Index(
                fields=["received_at"],
                name="inbound_waiting",
                condition=Q(outcome="received"),
            ),
        ]
        permissions = [("download_raw_inboundmessage", "Can download the raw message")]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} from {self.sender or 'unknown sender'}"
