"""Site-wide tables: the transactional email outbox and the staff access audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.tenancy import TenantModel


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
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
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


class AuditLogEntry(models.Model):
    """One staff look at tenant data: who, when, what, of which organization, at which URL.

    Staff see every organization (T-5), so what they look at is recorded. Not a tenant
    model: the log belongs to the vendor, and a list view spans organizations (then
    ``organization`` is empty and the path holds the filters). Rows are only ever added.
    """

    class Action(models.TextChoices):
        LIST = "list", "Listed"
        VIEW = "view", "Viewed"
        DOWNLOAD = "download", "Downloaded"

    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    model = models.CharField(max_length=100, help_text="app_label.model, e.g. cases.case")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(
        "object", max_length=200, blank=True, help_text="The case number, organization name…"
    )
    # PROTECT: the record of who looked at an organization outlives nothing it describes.
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    path = models.CharField(max_length=2000)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["-created_at"], name="audit_created"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_created"),
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
        ]

    def __str__(self) -> str:
        what = self.object_repr or self.model
        return f"{self.actor_id} {self.get_action_display().lower()} {what} at {self.created_at}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("The audit log is append-only: entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The audit log is append-only: entries are never deleted.")
