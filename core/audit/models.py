"""The staff access audit log (T-5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
