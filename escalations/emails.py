"""Escalation emails (N-1, N-2, N-5): decided inside the service's transaction, sent by the
outbox after commit.

The customer (the case contact and the requester) hears of the request, the decision, the
resolution and the owner's messages; care managers hear of a new request and of the
customer's messages. Each email carries the case's reference token, like every case email.
The customer's emails go to the case's readers and are checked again when sent (N-1); the
requester reads "You …" in a row of their own, the others read the requester's name.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from accounts import roles
from accounts.models import User
from accounts.notifications import Audience, case_email_recipients
from cases.emails import split_for_actor, subject_for
from cases.links import case_url
from cases.models import CaseEvent
from cases.references import message_id_hint, reference_token, thread_headers
from core.outbox.services import outbox_enqueue
from escalations.links import escalation_admin_url
from escalations.models import Escalation, EscalationMessage, State

SUBJECT_LABELS = {
    State.REQUESTED: "Escalation requested",
    State.ACCEPTED: "Escalation accepted",
    State.REJECTED: "Escalation not accepted",
    State.RESOLVED: "Escalation resolved",
}
# Decisions are read by everyone who follows the case, not only the requester: no "your".
HEADLINES = {
    State.REQUESTED: "We received your escalation request.",
    State.ACCEPTED: "The escalation of this case is accepted.",
    State.REJECTED: "The escalation of this case was not accepted.",
    State.RESOLVED: "The escalation of this case is resolved.",
}
NEXT_STEPS = {
    State.REQUESTED: "A Customer Care manager will review it and tell you the decision.",
    State.ACCEPTED: "The escalation owner follows the case closely and writes to you in the "
    "escalation feed.",
    State.REJECTED: "The case goes on as before. You can escalate again if the situation changes.",
    State.RESOLVED: "If the case still needs attention, post an update on it.",
}


def _customer_recipients(escalation: Escalation) -> list[str]:
    """The case contact, the requester and the designated contacts who want every case's
    email (N-1), each while they may read the case."""
    return case_email_recipients(
        organization_id=escalation.organization_id,
        people=[escalation.case.contact, escalation.requester],
        audience=Audience.CASE_READERS,
    )


def _manager_recipients(escalation: Escalation) -> list[str]:
    if escalation.owner_id and escalation.owner.is_active:
        return [escalation.owner.email]
    managers = get_user_model().objects.filter(
        is_active=True, is_staff=True, groups__name=roles.CARE_MANAGER
    )
    return list(managers.values_list("email", flat=True))


def _send(
    escalation: Escalation,
    *,
    key: str,
    to: list[str],
    headline: str,
    next_step: str,
    message: EscalationMessage | None,
    for_care: bool,
    label: str,
    now: datetime,
) -> None:
    """One email: to care as addressed, to the customer for the case's readers."""
    case = escalation.case
    context = {
        "case": case,
        "escalation": escalation,
        "headline": headline,
        "next_step": next_step,
        "message": message,
        "url": escalation_admin_url(escalation) if for_care else case_url(case.number),
        "reference": reference_token(case),
        "phones": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "for_care": for_care,
    }
    outbox_enqueue(
        organization_id=case.organization_id,
        key=key,
        to=to,
        subject=subject_for(case, label),
        text=render_to_string("emails/escalation_event.txt", context),
        html=render_to_string("emails/escalation_event.html", context),
        headers=thread_headers(case),
        case_id=case.pk,
        message_id_hint=message_id_hint(case),
        audience=Audience.NONE if for_care else Audience.CASE_READERS,
        now=now,
    )


def escalation_requested(*, escalation: Escalation, event: CaseEvent, now: datetime) -> None:
    """The confirmation to the customer (the requester reads "your request", the others
    the requester's name), and the news to the care managers."""
    requester = escalation.requester
    for suffix, to, for_actor in split_for_actor(_customer_recipients(escalation), requester):
        _send(
            escalation,
            key=f"escalation-{escalation.pk}-requested{suffix}",
            label=SUBJECT_LABELS[State.REQUESTED],
            to=to,
            headline=HEADLINES[State.REQUESTED]
            if for_actor
            else f"{requester.get_full_name()} asked to escalate this case: "
            f"{escalation.get_reason_display()}.",
            next_step=NEXT_STEPS[State.REQUESTED],
            message=None,
            for_care=False,
            now=now,
        )
    _send(
        escalation,
        key=f"escalation-{escalation.pk}-requested-care",
        label="New escalation",
        to=_manager_recipients(escalation),
        headline=f"{escalation.case.organization.name} escalated case "
        f"{escalation.case.display_number}: {escalation.get_reason_display()}.",
        next_step="Accept it (with importance and urgency) or reject it with an explanation.",
        message=None,
        for_care=True,
        now=now,
    )


def escalation_decided(*, escalation: Escalation, event: CaseEvent, now: datetime) -> None:
    """Acceptance, rejection (with the explanation) or resolution (with the summary)."""
    _send(
        escalation,
        key=f"escalation-{escalation.pk}-{escalation.state}",
        label=SUBJECT_LABELS[escalation.state],
        to=_customer_recipients(escalation),
        headline=HEADLINES[escalation.state],
        next_step=NEXT_STEPS[escalation.state],
        message=None,
        for_care=False,
        now=now,
    )


def escalation_message(
    *, escalation: Escalation, message: EscalationMessage, now: datetime
) -> None:
    """A message in the escalation feed goes to the other side."""
    if message.by_care:
        to, headline = _customer_recipients(escalation), "The escalation owner wrote to you."
    else:
        to = _manager_recipients(escalation)
        headline = f"{message.author.display_name} wrote in the escalation feed."
    _send(
        escalation,
        key=f"escalation-message-{message.pk}",
        label="Escalation message",
        to=to,
        headline=headline,
        next_step="Answer in the escalation feed on the case page."
        if message.by_care
        else "Answer in the escalation feed.",
        message=message,
        for_care=not message.by_care,
        now=now,
    )


def escalation_assigned(*, escalation: Escalation, assigned_by: User, now: datetime) -> None:
    """A manager named owner by someone else hears of it."""
    owner = escalation.owner
    if owner is None or owner.pk == assigned_by.pk or not owner.is_active:
        return
    _send(
        escalation,
        key=f"escalation-{escalation.pk}-owner-{owner.pk}-{now.timestamp():.6f}",
        label="Escalation assigned to you",
        to=[owner.email],
        headline=f"{assigned_by.display_name} made you the owner of this escalation.",
        next_step="Follow the case closely and keep the customer informed in the escalation feed.",
        message=None,
        for_care=True,
        now=now,
    )
