"""What care's changes to an organization's set-up share: who may make them (T-5), the
model's own checks as a domain error, and the history row (``OrganizationChange``) each
change writes in its transaction."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from accounts.models import OrganizationChange, User
from core.errors import InvalidInput, NotAllowed
from core.tenancy import scopes_disabled

MANAGERS_ONLY = "Only Customer Care managers change organizations."


def require_permission(actor: User, permission: str, message: str = MANAGERS_ONLY) -> None:
    """Care staff with the permission the care roles grant (T-5): managers manage
    organizations, analysts and product managers read them."""
    if not (actor.is_authenticated and actor.is_active and actor.is_staff):
        raise NotAllowed(message)
    if not actor.has_perm(permission):
        raise NotAllowed(message)


def validated(instance: models.Model) -> None:
    """The model's own checks (validators, clean, unique constraints) as a domain error.

    Uniqueness is checked across tenants (a slug, one calendar per organization), so outside
    any tenant scope."""
    try:
        with scopes_disabled():
            instance.full_clean()
    except ValidationError as exc:
        errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        raise InvalidInput("Some fields need attention.", errors) from exc


def stored(value: Any) -> Any:
    """A value as the history stores it (JSON)."""
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def organization_change_record(
    *,
    organization_id: int,
    actor: User,
    kind: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> OrganizationChange:
    return OrganizationChange.unscoped.create(
        organization_id=organization_id,
        actor=actor,
        kind=kind,
        before={k: stored(v) for k, v in (before or {}).items()},
        after={k: stored(v) for k, v in (after or {}).items()},
        created_at=now,
    )
