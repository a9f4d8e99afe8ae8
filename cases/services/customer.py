"""The customer's status changes (C-8, C-11, C-12): confirm, close, cancel, reopen."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import User
from cases import policy
from cases.models import Case, CaseEvent, ClosureReason, SubStatus
from cases.services.common import (
    CLOSING_FIELDS,
    clean_body,
    lock_case,
    require_designated_contact,
    snapshot,
)
from cases.services.history import case_event_record
from cases.services.transitions import Act, Transition, care_transition, customer_transition
from core.errors import Conflict

CONFIRM_SOLUTION = Transition("confirm_solution", "confirmed (no solution is proposed)")
CLOSE_RESOLVED = Transition("resolve", "closed", fields=CLOSING_FIELDS)
CLOSE_CANCELLED = Transition("cancel", "closed (it is already closed)", fields=CLOSING_FIELDS)
CANCEL = Transition("cancel", "cancelled", fields=CLOSING_FIELDS)
REOPEN = Transition("reopen", "reopened", fields=CLOSING_FIELDS)


@transaction.atomic
def case_confirm_solution(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """The customer confirms the proposed solution (C-8)."""
    return customer_transition(
        case=lock_case(case),
        transition=CONFIRM_SOLUTION,
        act=Act(actor=actor, channel=channel, now=now, body=body),
    )


@transaction.atomic
def case_close(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Close Case (C-11). From a proposed or confirmed solution the case is Resolved;
    from anywhere else it is Cancelled (C-8)."""
    case = lock_case(case)
    act = Act(actor=actor, channel=channel, now=now, body=body)
    if case.sub_status in (SubStatus.SOLUTION_PROPOSED, SubStatus.PROBLEM_RESOLVED):
        reason = (
            ClosureReason.SOLUTION_CONFIRMED
            if case.sub_status == SubStatus.PROBLEM_RESOLVED
            else ClosureReason.CUSTOMER_CLOSED
        )
        return customer_transition(
            case=case, transition=CLOSE_RESOLVED, act=act, now=now, reason=reason
        )
    return customer_transition(case=case, transition=CLOSE_CANCELLED, act=act, now=now)


@transaction.atomic
def case_cancel(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Either side cancels an open case (C-8): care as care, a designated contact as the
    customer."""
    act = Act(actor=actor, channel=channel, now=now, body=body)
    perform = care_transition if policy.is_care(actor) else customer_transition
    return perform(case=lock_case(case), transition=CANCEL, act=act, now=now)


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str, channel: str, now: datetime) -> Case:
    """C-12: a designated contact reopens within 30 days of closure, saying why."""
    case = lock_case(case)
    require_designated_contact(actor, case)
    if not case.is_closed:
        raise Conflict("The case is not closed: only a closed case can be reopened.")
    deadline = policy.reopen_deadline(case)
    if deadline is None or now > deadline:
        raise Conflict(
            "A case can be reopened within 30 days of its closure and this one was closed "
            "longer ago: open a new case and mention this case's number."
        )
    reason = clean_body(reason, required=True, what="reason for reopening")
    closed = snapshot(case, "closed_at", "closure_reason")
    case = customer_transition(
        case=case, transition=REOPEN, act=Act(actor=actor, channel=channel, now=now, body=reason)
    )
    case_event_record(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.REOPENED,
        channel=channel,
        now=now,
        before=closed,
        after={"closed_at": None, "closure_reason": ""},
    )
    return case
