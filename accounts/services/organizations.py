"""Care's changes to an organization (T-1, S-5): adding it, its details, its support level."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import Organization, OrganizationChange, SupportLevel, User
from accounts.services.history import organization_change_record, require_permission, validated
from core.errors import Conflict, InvalidInput, NotFound

# The fields of an organization that organization_update changes; the support level has a
# service of its own because due times follow it (S-5).
ORGANIZATION_DETAILS = ("name", "slug", "kind", "is_active", "distribution_list")


def _lock_organization(organization: Organization) -> Organization:
    try:
        return Organization.objects.select_for_update().get(pk=organization.pk)
    except Organization.DoesNotExist as exc:
        raise NotFound("No such organization.") from exc


@transaction.atomic
def organization_create(*, organization: Organization, actor: User, now: datetime) -> Organization:
    """Add the organization care has filled in (T-1): checked, saved, and the first row of
    its history."""
    require_permission(actor, "accounts.add_organization")
    if organization.pk is not None:
        raise Conflict("This organization exists already.")
    organization.created_at = now
    validated(organization)
    organization.save(force_insert=True)
    fields = (*ORGANIZATION_DETAILS, "support_level")
    organization_change_record(
        organization_id=organization.pk,
        actor=actor,
        kind=OrganizationChange.Kind.CREATED,
        now=now,
        after={f: getattr(organization, f) for f in fields},
    )
    return organization


@transaction.atomic
def organization_update(
    *, organization: Organization, actor: User, changes: Mapping[str, Any], now: datetime
) -> OrganizationChange | None:
    """Change an organization's details (name, slug, kind, whether it is active, its
    announcement list); returns the history row, or None if nothing changed."""
    require_permission(actor, "accounts.change_organization")
    unknown = sorted(set(changes) - set(ORGANIZATION_DETAILS))
    if unknown:
        raise InvalidInput(f"Not a detail of an organization: {', '.join(unknown)}.")
    organization = _lock_organization(organization)
    before = {
        f: getattr(organization, f) for f, v in changes.items() if getattr(organization, f) != v
    }
    if not before:
        return None
    for field in before:
        setattr(organization, field, changes[field])
    validated(organization)
    organization.save(update_fields=sorted(before))
    return organization_change_record(
        organization_id=organization.pk,
        actor=actor,
        kind=OrganizationChange.Kind.DETAILS,
        now=now,
        before=before,
        after={f: changes[f] for f in before},
    )


@transaction.atomic
def organization_change_support_level(
    *, organization: Organization, actor: User, support_level: str, now: datetime
) -> OrganizationChange | None:
    """Change the organization's support level (S-5); returns the history row, or None if it
    had this level already.

    Due times of open cases follow the level: callers go through
    ``cases.services.organization_change_support_level``, which recomputes them in the same
    transaction (this layer does not know cases)."""
    require_permission(actor, "accounts.change_organization")
    if support_level not in SupportLevel.values:
        message = "Choose one of the support levels."
        raise InvalidInput(message, {"support_level": [message]})
    organization = _lock_organization(organization)
    before = organization.support_level
    if before == support_level:
        return None
    organization.support_level = support_level
    organization.save(update_fields=["support_level"])
    return organization_change_record(
        organization_id=organization.pk,
        actor=actor,
        kind=OrganizationChange.Kind.SUPPORT_LEVEL,
        now=now,
        before={"support_level": before},
        after={"support_level": support_level},
    )
