"""Care's status changes (C-8, C-10, C-11, S-4) and the system's close for no response (F-4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from cases.models import AWAITING_CUSTOMER, Case, CaseEvent, CaseType, Channel, ClosureReason
from cases.services.common import (
    CLOSING_FIELDS,
    fire,
    lock_case,
    record_transition,
    require_care,
    save_case,
)
from cases.services.history import case_event_record
from cases.services.transitions import Act, Transition, care_transition
from core.errors import Conflict, InvalidInput

TAKE = Transition("take", "taken (it is not New)", first_response=True)
REQUEST_INFO = Transition(
    "request_info",
    "asked for information",
    body_required=True,
    what="message saying what you need from the customer",
)
PROPOSE_SOLUTION = Transition(
    "propose_solution",
    "given a proposed solution",
    body_required=True,
    what="description of the solution",
)
RESTORE_PENDING_SOLUTION = Transition(
    "restore_service_pending_solution", "marked as service restored", fields=("restored_at",)
)
RESTORE_PENDING_RCA = Transition(
    "restore_service_pending_rca", "marked as service restored", fields=("restored_at",)
)
DELIVER_RCA = Transition(
    "deliver_rca",
    "given an RCA (no RCA is pending)",
    fields=("rca_delivered_at",),
    body_required=True,
    what="summary of the root cause analysis",
)
RESOLVE = Transition("resolve", "resolved", fields=CLOSING_FIELDS)
REDIRECT = Transition("redirect", "redirected", fields=CLOSING_FIELDS)


@transaction.atomic
def case_take(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Care takes a New case into investigation; an unowned case becomes the taker's."""
    case = lock_case(case)
    require_care(actor, case)
    took_ownership = case.owner_id is None
    if took_ownership:
        case.owner = actor
    transition = replace(TAKE, fields=("owner",)) if took_ownership else TAKE
    case = care_transition(
        case=case, transition=transition, act=Act(actor=actor, channel=channel, now=now, body=body)
    )
    if took_ownership:
        case_event_record(
            case=case,
            actor=actor,
            kind=CaseEvent.Kind.OWNER,
            channel=channel,
            now=now,
            before={"owner": None},
            after={"owner": actor.pk},
            internal=True,  # as every owner change (case_assign)
        )
    return case


@transaction.atomic
def case_request_info(
    *,
    case: Case,
    actor: User,
    body: str,
    channel: str,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
) -> Case:
    return care_transition(
        case=lock_case(case),
        transition=REQUEST_INFO,
        act=Act(actor=actor, channel=channel, now=now, body=body, uploads=uploads),
    )


@transaction.atomic
def case_propose_solution(
    *,
    case: Case,
    actor: User,
    body: str,
    channel: str,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
) -> Case:
    return care_transition(
        case=lock_case(case),
        transition=PROPOSE_SOLUTION,
        act=Act(actor=actor, channel=channel, now=now, body=body, uploads=uploads),
    )


@transaction.atomic
def case_restore_service(
    *,
    case: Case,
    actor: User,
    pending: str = "permanent_solution",
    body: str | None = None,
    channel: str,
    now: datetime,
) -> Case:
    """Service is restored (S-4); a permanent solution or the root cause analysis is pending."""
    if pending not in ("permanent_solution", "rca"):
        raise InvalidInput("Say what is pending.", {"pending": ["permanent_solution or rca"]})
    case = lock_case(case)
    require_care(actor, case)
    if case.type not in (CaseType.SUPPORT, CaseType.INCIDENT):
        raise Conflict("Only Support cases and Incidents have a service to restore.")
    return care_transition(
        case=case,
        transition=RESTORE_PENDING_RCA if pending == "rca" else RESTORE_PENDING_SOLUTION,
        act=Act(actor=actor, channel=channel, now=now, body=body),
        now=now,
    )


@transaction.atomic
def case_deliver_rca(
    *,
    case: Case,
    actor: User,
    body: str,
    channel: str,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
) -> Case:
    return care_transition(
        case=lock_case(case),
        transition=DELIVER_RCA,
        act=Act(actor=actor, channel=channel, now=now, body=body, uploads=uploads),
        now=now,
    )


@transaction.atomic
def case_resolve(
    *,
    case: Case,
    actor: User,
    body: str | None = None,
    channel: str,
    now: datetime,
    reason: str = ClosureReason.RESOLVED_BY_CARE,
) -> Case:
    return care_transition(
        case=lock_case(case),
        transition=RESOLVE,
        act=Act(actor=actor, channel=channel, now=now, body=body),
        now=now,
        reason=reason,
    )


@transaction.atomic
def case_redirect(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    return care_transition(
        case=lock_case(case),
        transition=REDIRECT,
        act=Act(actor=actor, channel=channel, now=now, body=body),
        now=now,
    )


@transaction.atomic
def case_auto_close(*, case: Case, now: datetime) -> tuple[Case, CaseEvent]:
    """F-4: the follow-up sweep closes a case the customer left unanswered.

    The system acts, not a person: no actor, channel "system", reason "no customer
    response". No status email here: the caller sends the follow-up's final email, the one
    email the customer gets for the close."""
    case = lock_case(case)
    if case.sub_status not in AWAITING_CUSTOMER:
        raise Conflict("Only a case waiting for the customer is closed for no response.")
    before = case.sub_status
    fire(case, "resolve", "closed", now=now, reason=ClosureReason.NO_CUSTOMER_RESPONSE)
    save_case(case, CLOSING_FIELDS)
    event = record_transition(case, before=before, actor=None, channel=Channel.SYSTEM, now=now)
    return case, event
