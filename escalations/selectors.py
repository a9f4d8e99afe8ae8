"""Reads of escalations that a user's visibility constrains (E-8, E-9, T-4 … T-6)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from cases import policy
from cases.models import Case
from core.errors import NotFound
from escalations.models import Escalation, EscalationMessage


def case_escalations(*, user: User, case: Case) -> QuerySet[Escalation]:
    """The escalations of a case the user can see, newest first (none otherwise).

    Visibility is decided on the case in Python: a subquery of the visible cases would
    make PostgreSQL read every case of a large organization for each page."""
    if not policy.can_view(user, case):
        return Escalation.objects.none()
    return (
        Escalation.objects.filter(case=case)
        .select_related("requester", "owner")
        .order_by("-requested_at", "-id")
    )


def escalation_get_for_user(*, user: User, escalation_id: int | str) -> Escalation:
    """The escalation if the user can see its case, else NotFound (another tenant's looks
    exactly like a missing one)."""
    try:
        pk = int(escalation_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such escalation.") from exc
    escalation = (
        Escalation.objects.filter(pk=pk)
        .select_related("case", "case__organization", "case__contact", "requester", "owner")
        .first()
    )
    if escalation is None or not policy.can_view(user, escalation.case):
        raise NotFound("No such escalation.")
    return escalation


def escalation_feed(*, escalation: Escalation) -> QuerySet[EscalationMessage]:
    """The escalation feed, oldest first, as a conversation reads."""
    return EscalationMessage.objects.filter(escalation=escalation).select_related("author")
