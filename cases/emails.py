"""Case emails (N-1, N-2): decided inside the service's transaction, sent by the outbox.

Every email carries the case's reference token in the subject and in Message-ID/References,
which ties a reply to the case. Internal notes never produce email: only public updates and
status changes reach these functions.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string

from accounts.notifications import case_email_recipients
from cases.links import case_url
from cases.models import Case, CaseEvent, CaseUpdate, Priority, SubStatus
from cases.references import message_id_hint, reference_token, thread_id
from core.outbox.services import outbox_enqueue

# What the customer is told a status means, and what is expected of them.
NEXT_STEP = {
    SubStatus.NEW: "Customer Care will review the case shortly.",
    SubStatus.INVESTIGATION: "Customer Care is investigating.",
    SubStatus.CUSTOMER_RESPONDED: "Customer Care will review your response.",
    SubStatus.INFO_REQUIRED: "Customer Care needs information from you: please reply with "
    "an update on the case.",
    SubStatus.PENDING_PERMANENT_SOLUTION: "The service is restored; a permanent solution is "
    "being prepared.",
    SubStatus.PENDING_RCA: "The service is restored; the root cause analysis is being prepared.",
    SubStatus.SOLUTION_PROPOSED: "A solution is proposed: please confirm it works, or reply "
    "with an update if it does not.",
    SubStatus.PROBLEM_RESOLVED: "You confirmed the solution. The case will be closed.",
    SubStatus.CANCELLED: "The case is closed (cancelled). You can reopen it within 30 days.",
    SubStatus.RESOLVED: "The case is resolved and closed. You can reopen it within 30 days.",
    SubStatus.REDIRECTED: "The case is closed and redirected to the right team.",
}


def _recipients(case: Case) -> list[str]:
    """The case contact, and the designated contacts who want every case's email (N-1)."""
    return case_email_recipients(organization_id=case.organization_id, people=[case.contact])


def _send(
    case: Case, *, event: CaseEvent, headline: str, update: CaseUpdate | None, now: datetime
) -> None:
    context = {
        "case": case,
        "headline": headline,
        "update": update,
        "next_step": NEXT_STEP[case.sub_status],
        "url": case_url(case.number),
        "reference": reference_token(case),
        "phones": settings.PORTAL["CARE_PHONE_NUMBERS"],
    }
    subject = f"[Case {case.display_number}] {case.subject} [{reference_token(case)}]"
    outbox_enqueue(
        organization_id=case.organization_id,
        key=f"case-{case.pk}-event-{event.pk}",
        to=_recipients(case),
        subject=subject,
        text=render_to_string("emails/case_event.txt", context),
        html=render_to_string("emails/case_event.html", context),
        headers={
            "References": thread_id(case),
            "In-Reply-To": thread_id(case),
            "X-Case-Number": case.display_number,
        },
        case_id=case.pk,
        message_id_hint=message_id_hint(case),
        now=now,
    )


def case_opened(*, case: Case, event: CaseEvent, now: datetime) -> None:
    _send(
        case,
        event=event,
        update=None,
        now=now,
        headline=f"We received your case {case.display_number}.",
    )


def case_public_update(*, case: Case, update: CaseUpdate, event: CaseEvent, now: datetime) -> None:
    if update.is_internal:
        # Not an assert: `python -O` strips those, and this one keeps care's notes private.
        raise ValueError("Internal notes never leave the system: not emailed.")
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline="Customer Care posted an update on your case.",
    )


def case_status_changed(
    *, case: Case, before: str, update: CaseUpdate | None, event: CaseEvent, now: datetime
) -> None:
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline=f"Your case is now {case.get_status_display()}: {case.get_sub_status_display()}.",
    )


def case_priority_changed(
    *, case: Case, before: str, update: CaseUpdate | None, event: CaseEvent, now: datetime
) -> None:
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline=f"Customer Care changed the priority from {Priority(before).label} to "
        f"{case.get_priority_display()}.",
    )
