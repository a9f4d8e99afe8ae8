"""Care's changes to who belongs to an organization and at which access level (T-4, T-5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import AccessLevel, Membership, Organization, OrganizationChange, User
from accounts.services.history import organization_change_record, require_permission, validated
from core.errors import InvalidInput, NotFound


def _member(membership: Membership, access_level: str | None = None) -> dict[str, Any]:
    return {"user": membership.user_id, "access_level": access_level or membership.access_level}


def _lock_membership(membership: Membership) -> Membership:
    try:
        return Membership.unscoped.select_for_update().get(pk=membership.pk)
    except Membership.DoesNotExist as exc:
        raise NotFound("No such member.") from exc


def _check_level(access_level: str) -> None:
    if access_level not in AccessLevel.values:
        message = "Choose Basic, Read only or Designated contact."
        raise InvalidInput(message, {"access_level": [message]})


@transaction.atomic
def membership_add(
    *, organization: Organization, user: User, access_level: str, actor: User, now: datetime
) -> Membership:
    """Make a customer user a member of the organization at an access level (T-4). Care
    staff are never members (T-5)."""
    require_permission(actor, "accounts.add_membership")
    _check_level(access_level)
    membership = Membership(
        organization=organization, user=user, access_level=access_level, created_at=now
    )
    validated(membership)
    membership.save(force_insert=True)
    organization_change_record(
        organization_id=organization.pk,
        actor=actor,
        kind=OrganizationChange.Kind.MEMBERSHIP,
        now=now,
        after=_member(membership),
    )
    return membership


@transaction.atomic
def membership_change_level(
    *, membership: Membership, actor: User, access_level: str, now: datetime
) -> OrganizationChange | None:
    """Change a member's access level (T-4); returns the history row, or None if the member
    had this level already."""
    require_permission(actor, "accounts.change_membership")
    _check_level(access_level)
    membership = _lock_membership(membership)
    before = membership.access_level
    if before == access_level:
        return None
    membership.access_level = access_level
    membership.save(update_fields=["access_level"])
    return organization_change_record(
        organization_id=membership.organization_id,
        actor=actor,
        kind=OrganizationChange.Kind.MEMBERSHIP,
        now=now,
        before=_member(membership, before),
        after=_member(membership),
    )


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User, now: datetime) -> OrganizationChange:
    """End a user's membership of the organization: they no longer see its cases (T-4)."""
    require_permission(actor, "accounts.delete_membership")
    membership = _lock_membership(membership)
    before = _member(membership)
    Membership.unscoped.filter(pk=membership.pk).delete()
    return organization_change_record(
        organization_id=membership.organization_id,
        actor=actor,
        kind=OrganizationChange.Kind.MEMBERSHIP,
        now=now,
        before=before,
    )
