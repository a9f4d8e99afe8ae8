"""Who sees which portal pages (T-4, T-5), and the case a request names (T-6)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from accounts.models import AccessLevel, User
from accounts.selectors import access_levels
from cases import policy
from cases.models import Case
from cases.selectors import case_get_for_user, sees_cases
from core.errors import NotFound


def portal_access(user: User | None) -> dict[str, bool]:
    """What the portal offers this user (T-4, T-5): ``view`` All Cases and search, ``mine``
    My Cases, ``open`` a new case; ``care`` for Customer Care analysts and managers."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return {"view": False, "mine": False, "open": False, "care": False}
    if user.is_staff:
        care = policy.is_care(user)
        return {"view": care, "mine": False, "open": False, "care": care}
    levels = set(access_levels(user).values())
    sees = sees_cases(user)
    return {
        "view": sees,
        "mine": sees,
        "open": AccessLevel.DESIGNATED_CONTACT in levels,
        "care": False,
    }


def require_case_pages(request: HttpRequest) -> None:
    """BASIC users and staff outside care have no case pages (T-4)."""
    if not portal_access(request.user)["view"]:
        raise PermissionDenied("Your access level does not include cases.")


def case_or_404(request: HttpRequest, number: int) -> Case:
    """The case if the user may see it; another tenant's answers 404 like a missing one."""
    try:
        return case_get_for_user(user=request.user, number=number)
    except NotFound as exc:
        raise Http404("No such case.") from exc
