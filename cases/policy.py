"""Who may do what with a case (T-4, T-5, C-5, C-8, C-12). Pure decisions, no writes."""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts import roles
from accounts.models import AccessLevel, User
from accounts.selectors import access_level_for
from cases.models import (
    AWAITING_CUSTOMER,
    CLOSED_SUB_STATUSES,
    OPEN_SUB_STATUSES,
    Case,
    CaseType,
    SubStatus,
)

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


# Wire names of the actions, as the API and the case page name them.
CUSTOMER_ACTIONS = ("post-update", "confirm", "close", "reopen")
CARE_ACTIONS = (
    "post-update",
    "take",
    "request-info",
    "propose-solution",
    "restore-service",
    "deliver-rca",
    "resolve",
    "cancel",
    "redirect",
    "convert-to-incident",
    "set-priority",
    "assign",
    "change-fields",
)


def available_actions(user: User, case: Case, now: datetime) -> list[str]:
    """The actions this user may take on this case right now."""
    sub = case.sub_status
    is_open = sub in OPEN_SUB_STATUSES
    if is_care(user):
        allowed = {
            "post-update": is_open,
            "take": sub == SubStatus.NEW,
            "request-info": sub
            in (SubStatus.NEW, SubStatus.INVESTIGATION, SubStatus.CUSTOMER_RESPONDED),
            "propose-solution": sub
            in (
                SubStatus.NEW,
                SubStatus.INVESTIGATION,
                SubStatus.CUSTOMER_RESPONDED,
                SubStatus.PENDING_PERMANENT_SOLUTION,
                SubStatus.PENDING_RCA,
            ),
            "restore-service": sub in (SubStatus.INVESTIGATION, SubStatus.CUSTOMER_RESPONDED)
            and case.type in (CaseType.SUPPORT, CaseType.INCIDENT),
            "deliver-rca": sub == SubStatus.PENDING_RCA,
            "resolve": is_open,
            "cancel": is_open,
            "redirect": is_open,
            "convert-to-incident": is_open and case.type == CaseType.SUPPORT,
            "set-priority": is_open,
            "assign": is_open,
            "change-fields": is_open,
        }
        return [a for a in CARE_ACTIONS if allowed[a]]
    if not is_designated_contact(user, case):
        return []
    deadline = reopen_deadline(case)
    allowed = {
        "post-update": is_open,
        "confirm": sub == SubStatus.SOLUTION_PROPOSED,
        "close": is_open,
        "reopen": sub in CLOSED_SUB_STATUSES and deadline is not None and now <= deadline,
    }
    return [a for a in CUSTOMER_ACTIONS if allowed[a]]


def customer_update_responds(case: Case) -> bool:
    """A customer update moves an awaiting case back to Customer Responded (C-8)."""
    return case.sub_status in AWAITING_CUSTOMER
