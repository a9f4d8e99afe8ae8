"""The transactional email outbox (N-5)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.tenancy import TenantModel


class OutboxEmail(TenantModel):
    """An email decided inside a transaction, sent after commit (N-5).

    The row is written in the same transaction as the change it reports, so a rolled-back
    change never sends anything; the idempotency key makes a repeated decision a no-op; the
    Message-ID is derived from the key, so a resend after a crash is recognisable as the
    same message by any mail client.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"
        # Final, never retried: see ``reason``.
        WITHHELD = "withheld", "Withheld: nobody it was addressed to may see the case any more"

    class Audience(models.TextChoices):
        """Who may still receive the email when it is sent (N-1). A case email is checked
        again at send time: someone who lost access to the case since it was decided is
        dropped (``dropped``), and an email left with nobody is withheld."""

        NONE = "none", "Whoever it is addressed to (no check)"
        CASE_READERS = "case_readers", "People who may still read the case"
        CASE_DESIGNATED_CONTACTS = (
            "case_designated_contacts",
            "The case's designated contacts (an email that asks for action)",
        )

    # Empty for the few emails that concern no organization: an answer to a stranger who
    # wrote to the inbound address (N-4). A tenant scope never sees those rows.
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="outboxemails",
        related_query_name="outboxemail",
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    message_id = models.CharField(max_length=255, unique=True)
    to = models.JSONField(help_text="Recipient addresses.")
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="emails"
    )
    audience = models.CharField(max_length=32, choices=Audience.choices, default=Audience.NONE)
    dropped = models.JSONField(
        default=list,
        blank=True,
        help_text="Addresses left out when it was sent: they may no longer see the case.",
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.CharField(
        max_length=255, blank=True, help_text="Why it was withheld, when it was."
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_due",
                condition=Q(state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
