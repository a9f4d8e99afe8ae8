"""Care's changes to an organization that move the due times of its open cases: the support
level (S-5) and the business calendar (B-1). Each calls the accounts service, which locks,
checks, saves and writes the organization's history, then recomputes the open cases' due
times (S-8) in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction

from accounts import services as accounts_services
from accounts.models import BusinessCalendar, Organization, User
from cases.sla.services import sla_recompute_for_organization


@transaction.atomic
def organization_change_support_level(
    *, organization: Organization, actor: User, support_level: str, now: datetime
) -> int:
    """Change the support level; returns how many open cases' due times changed."""
    change = accounts_services.organization_change_support_level(
        organization=organization, actor=actor, support_level=support_level, now=now
    )
    if change is None:
        return 0
    return sla_recompute_for_organization(organization=organization, now=now)


@transaction.atomic
def calendar_create(
    *,
    calendar: BusinessCalendar,
    actor: User,
    closures: Mapping[date, str] | None = None,
    now: datetime,
) -> int:
    """Give the organization its calendar; returns how many open cases' due times changed."""
    accounts_services.calendar_create(calendar=calendar, actor=actor, closures=closures, now=now)
    return sla_recompute_for_organization(organization=calendar.organization, now=now)


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    actor: User,
    changes: Mapping[str, Any],
    closures: Mapping[date, str] | None = None,
    now: datetime,
) -> int:
    """Change the calendar and its closed days; returns how many open cases' due times
    changed."""
    change = accounts_services.calendar_update(
        calendar=calendar, actor=actor, changes=changes, closures=closures, now=now
    )
    if change is None:
        return 0
    return sla_recompute_for_organization(organization=calendar.organization, now=now)


@transaction.atomic
def calendar_delete(*, calendar: BusinessCalendar, actor: User, now: datetime) -> int:
    """Remove the calendar (the defaults of B-1 apply); returns how many open cases' due
    times changed."""
    organization = calendar.organization
    accounts_services.calendar_delete(calendar=calendar, actor=actor, now=now)
    return sla_recompute_for_organization(organization=organization, now=now)
