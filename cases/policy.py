"""Who may do what with a case (T-4, T-5, C-5, C-8, C-12). Pure decisions, no writes.

Which actions a user may take on a case right now is the registry's to say
(``cases.actions.available_actions``), from these decisions and each action's states."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts import roles
from accounts.models import AccessLevel, User
from accounts.selectors import access_level_for
from cases.models import AWAITING_CUSTOMER, Case

REOPEN_WINDOW = timedelta(days=30)  # C-12
CARE_ROLES = (roles.CARE_ANALYST, roles.CARE_MANAGER)


def is_care(user: User) -> bool:
    """Care staff who work cases: analysts and managers (T-5)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_care_cache", None)
    if cached is None:
        cached = user.groups.filter(name__in=CARE_ROLES).exists()
        user._care_cache = cached
    return cached


def customer_level(user: User, case: Case) -> str | None:
    if not user.is_authenticated or user.is_staff:
        return None
    return access_level_for(user, case.organization_id)


def can_view(user: User, case: Case) -> bool:
    return is_care(user) or customer_level(user, case) in (
        AccessLevel.READ_ONLY,
        AccessLevel.DESIGNATED_CONTACT,
    )


def is_designated_contact(user: User, case: Case) -> bool:
    return customer_level(user, case) == AccessLevel.DESIGNATED_CONTACT


def reopen_deadline(case: Case) -> datetime | None:
    return case.closed_at + REOPEN_WINDOW if case.closed_at else None


def customer_update_responds(case: Case) -> bool:
    """A customer update moves an awaiting case back to Customer Responded (C-8)."""
    return case.sub_status in AWAITING_CUSTOMER
