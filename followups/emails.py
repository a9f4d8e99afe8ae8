"""Follow-up emails (F-2 … F-4, N-1, N-2): the two reminders and the final email.

They are case emails: the same reference token and thread as the others (``cases.emails``),
written to the outbox in the sweep's transaction. The idempotency key names the case, the
timer and the step, so a step's email is decided once (F-6). They concern what only a
designated contact can do (answer, confirm, reopen), so only designated contacts receive
them, checked again when they are sent (N-1); the reminders ask the customer to act, so
their subjects start with ``[Action needed]``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.notifications import Audience
from cases import policy
from cases.emails import _recipients as case_recipients
from cases.emails import subject_for
from cases.links import case_url
from cases.models import Case, CaseUpdate
from cases.references import message_id_hint, reference_token, thread_headers
from core.outbox.services import outbox_enqueue
from followups.models import FollowUpStep, FollowUpTimer

QUOTE_MAX = 2000

# What the customer was asked for, in words (F-2: "reminding them of the requested action").
REQUESTED_ACTION = {
    FollowUpTimer.Reason.INFO_REQUIRED: "Customer Care asked you for information to continue "
    "working on your case. Please reply with an update on the case.",
    FollowUpTimer.Reason.SOLUTION_PROPOSED: "Customer Care proposed a solution. Please "
    "confirm it works, or reply with an update if it does not.",
}
# What was asked, in the past tense, for the final email.
ASKED = {
    FollowUpTimer.Reason.INFO_REQUIRED: "Customer Care asked you for information",
    FollowUpTimer.Reason.SOLUTION_PROPOSED: "Customer Care proposed a solution",
}
HEADLINES = {
    1: "Reminder: Customer Care is waiting for your reply.",
    2: "Second reminder: Customer Care is still waiting for your reply.",
}


def idempotency_key(case: Case, timer: FollowUpTimer, step: int) -> str:
    return f"followup-{case.pk}-{timer.pk}-{step}"


def _request_update(case: Case, timer: FollowUpTimer) -> CaseUpdate | None:
    """Care's public message that made the request; never an internal note (N-1)."""
    return (
        CaseUpdate.unscoped.filter(
            case_id=case.pk, is_internal=False, by_care=True, created_at__lte=timer.started_at
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _send(
    *,
    case: Case,
    timer: FollowUpTimer,
    step: int,
    template: str,
    label: str,
    action: bool,
    context: dict,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    context = {
        "case": case,
        "timer": timer,
        "requested_action": REQUESTED_ACTION[timer.reason],
        "url": case_url(case.number),
        "reference": reference_token(case),
        "phones": settings.PORTAL["CARE_PHONE_NUMBERS"],
        "quote_max": QUOTE_MAX,
        **context,
    }
    # Dates in the email read in the contact's zone (B-5).
    with timezone.override(zone):
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    audience = Audience.CASE_DESIGNATED_CONTACTS
    outbox_enqueue(
        organization_id=case.organization_id,
        key=idempotency_key(case, timer, step),
        to=case_recipients(case, audience),
        subject=subject_for(case, label, action=action),
        text=text,
        html=html,
        headers={
            **thread_headers(case),
            # RFC 3834: an automatic message; out-of-office replies should not answer it.
            "Auto-Submitted": "auto-generated",
        },
        case_id=case.pk,
        message_id_hint=message_id_hint(case),
        audience=audience,
        now=now,
    )


def followup_reminder(
    *, case: Case, timer: FollowUpTimer, step: int, zone: ZoneInfo, now: datetime
) -> None:
    """Reminder 1 or 2 (F-2, F-3): what was asked, the link, and when the case closes."""
    _send(
        case=case,
        timer=timer,
        step=step,
        template="followup_reminder",
        label="Reminder" if step == 1 else "Second reminder",
        action=True,
        context={
            "headline": HEADLINES[step],
            "step": step,
            "request": _request_update(case, timer),
            "close_at": timer.close_due_at,
        },
        zone=zone,
        now=now,
    )


def followup_closed(*, case: Case, timer: FollowUpTimer, zone: ZoneInfo, now: datetime) -> None:
    """The final email (F-4): closed for no response, and how to carry on."""
    _send(
        case=case,
        timer=timer,
        step=3,
        template="followup_closed",
        label="Closed, no response",
        # It tells; it asks nothing (reopening is the customer's choice).
        action=False,
        context={
            "headline": "Your case is closed because we did not hear back from you.",
            "closed_at": case.closed_at,
            "reopen_until": policy.reopen_deadline(case),
            "asked": ASKED[timer.reason],
            "reminders_sent": FollowUpStep.unscoped.filter(timer=timer, step__lt=3).count(),
        },
        zone=zone,
        now=now,
    )
