"""The staff access audit log: every staff look at tenant data leaves one row (T-5, T-6).

Staff see every organization, so the record of who looked at what is what keeps that
power accountable. Views call ``audit_staff_access`` once they know what they show; the
call costs one INSERT and nothing else (no lookups: everything recorded is already on the
object or the request).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from core.audit.models import AuditLogEntry

Action = AuditLogEntry.Action

_DONE_ATTR = "_staff_audit_keys"
PATH_MAX = 2000


def _organization_id(obj: models.Model) -> int | None:
    # An organization is its own tenant; everything else names its organization.
    if obj._meta.label_lower == settings.TENANT_MODEL.lower():
        return obj.pk
    return getattr(obj, "organization_id", None)


def _describe(obj: models.Model) -> str:
    # Cases are known by their number; everything else by its own name.
    number = getattr(obj, "display_number", None)
    return str(number if number is not None else obj)[:200]


def audit_staff_access(
    request: HttpRequest,
    obj_or_label: models.Model | str,
    *,
    action: str | None = None,
    organization_id: int | None = None,
) -> AuditLogEntry | None:
    """Record that a staff user looked at tenant data.

    ``obj_or_label`` is the object shown (a case, an organization, an attachment), or for a
    list a label such as ``"cases.case"``; the request path keeps the list's filters.
    ``action`` defaults to "view" for an object and "list" for a label; pass "download"
    for a file. Customers are not recorded (their access is limited by tenancy instead),
    and the same thing is recorded once per request however often a view asks.
    """
    user = getattr(request, "user", None)
    if user is None or not (user.is_authenticated and user.is_staff):
        return None
    if isinstance(obj_or_label, models.Model):
        meta = obj_or_label._meta
        model = meta.label_lower
        object_id = str(obj_or_label.pk)
        object_repr = _describe(obj_or_label)
        organization_id = organization_id or _organization_id(obj_or_label)
        action = action or Action.VIEW
    else:
        model = str(obj_or_label)[:100]
        object_id = ""
        object_repr = ""
        action = action or Action.LIST
    key = (action, model, object_id)
    done: set = getattr(request, _DONE_ATTR, None) or set()
    if key in done:
        return None
    done.add(key)
    setattr(request, _DONE_ATTR, done)
    return AuditLogEntry.objects.create(
        created_at=timezone.now(),
        actor_id=user.pk,
        action=action,
        model=model,
        object_id=object_id,
        object_repr=object_repr,
        organization_id=organization_id,
        path=request.get_full_path()[:PATH_MAX],
    )
