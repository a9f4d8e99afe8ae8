"""Reads of cases that a user's visibility constrains (T-4 … T-6, C-9, C-13, C-16).

Every list starts from ``visible_cases``; the tenant scope of the request is a second,
independent guard (a query outside it raises).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from accounts.models import AccessLevel, User
from accounts.selectors import access_levels
from cases import policy
from cases.models import OPEN_SUB_STATUSES, Attachment, Case, CaseEvent, CaseUpdate
from core.errors import NotFound

LIST_RELATED = ("organization", "deployment", "service", "contact", "owner")
# A list row never shows these; the search document alone can be kilobytes per case.
LIST_DEFERRED = ("search_vector", "description", "business_impact")
CASE_LEVELS = (AccessLevel.READ_ONLY, AccessLevel.DESIGNATED_CONTACT)


def sees_cases(user: User) -> bool:
    """Whether the user has any cases to see at all (T-4, T-5): care analysts and managers,
    and customers who are Read-only or Designated contacts somewhere. Basic users and staff
    outside care have no case pages and no case list in the API."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_staff:
        return policy.is_care(user)
    return any(level in CASE_LEVELS for level in access_levels(user).values())


def visible_cases(user: User) -> QuerySet[Case]:
    """Every case the user may see: care see all; customers their organizations' cases if
    their level there is READ_ONLY or DESIGNATED_CONTACT (BASIC sees none)."""
    if policy.is_care(user):
        return Case.objects.all()
    if not user.is_authenticated or user.is_staff:
        return Case.objects.none()
    org_ids = [org for org, level in access_levels(user).items() if level in CASE_LEVELS]
    return Case.objects.filter(organization_id__in=org_ids)


def case_list_for_user(*, user: User) -> QuerySet[Case]:
    """The base of All Cases: visible cases with what a list row shows, newest first."""
    return (
        visible_cases(user)
        .select_related(*LIST_RELATED)
        .defer(*LIST_DEFERRED)
        .order_by("-modified_at", "-number")
    )


def my_open_cases(*, user: User) -> QuerySet[Case]:
    """My Cases (C-13): non-closed cases whose contact is the user, last updated first."""
    return (
        visible_cases(user)
        .filter(contact=user, sub_status__in=OPEN_SUB_STATUSES)
        .select_related(*LIST_RELATED)
        .defer(*LIST_DEFERRED)
        .order_by("-modified_at", "-number")
    )


def case_get_for_user(*, user: User, number: int | str) -> Case:
    """The case by its number, or NotFound: another tenant's case is simply not found."""
    try:
        number = int(str(number).lstrip("#"))
    except ValueError as exc:
        raise NotFound("No such case.") from exc
    # The search document (kilobytes on a long case) is never shown; services lock and
    # re-read the whole row before they change anything.
    case = (
        visible_cases(user)
        .select_related(*LIST_RELATED)
        .defer("search_vector")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound("No such case.")
    return case


def case_feed(*, user: User, case: Case) -> QuerySet[CaseUpdate]:
    """The feed, newest first (C-9). Customers never see internal notes."""
    updates = CaseUpdate.objects.filter(case=case).select_related("author")
    if not policy.is_care(user):
        updates = updates.filter(is_internal=False)
    return updates.prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "id"))
    ).order_by("-created_at", "-id")


def case_history(*, user: User, case: Case) -> QuerySet[CaseEvent]:
    """The history (C-16); internal events (notes, owner changes) are care-only."""
    events = CaseEvent.objects.filter(case=case).select_related("actor")
    if not policy.is_care(user):
        events = events.filter(internal=False)
    return events.order_by("-created_at", "-id")


def attachment_get_for_user(*, user: User, token: str) -> Attachment:
    """An attachment the user may download: its case is visible, and a customer never gets
    a file of an internal note."""
    attachment = Attachment.objects.select_related("update", "case").filter(token=token).first()
    if attachment is None or not visible_cases(user).filter(pk=attachment.case_id).exists():
        raise NotFound("No such file.")
    if attachment.update.is_internal and not policy.is_care(user):
        raise NotFound("No such file.")
    return attachment
