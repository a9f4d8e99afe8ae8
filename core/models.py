"""The ground floor's tables, declared in their own packages: the email outbox and the
staff access audit log."""

from core.audit.models import AuditLogEntry
from core.outbox.models import OutboxEmail

__all__ = ["AuditLogEntry", "OutboxEmail"]
