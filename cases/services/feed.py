"""The case feed (C-6, C-8, C-9): public updates by either side and care's internal notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from cases import emails, policy
from cases.attachments import validate_uploads
from cases.models import PRIORITY_RANK, Case, CaseEvent, CaseUpdate, Channel, Priority, SubStatus
from cases.services.common import (
    add_update,
    care_phones,
    clean_body,
    lock_case,
    record_transition,
    require_designated_contact,
    save_case,
)
from cases.services.history import case_event_record
from cases.services.lifecycle import after_case_change
from core.errors import Conflict, InvalidInput, NotAllowed


@transaction.atomic
def case_post_update(
    *,
    case: Case,
    actor: User,
    body: str,
    internal: bool = False,
    requested_priority: str = "",
    uploads: Sequence[UploadedFile] = (),
    channel: str = Channel.PORTAL,
    now: datetime,
) -> CaseUpdate:
    """A public update or, for care, an internal note (C-8, C-9, C-6)."""
    case = lock_case(case)
    care = policy.is_care(actor)
    if not care:
        require_designated_contact(actor, case)
        if internal:
            raise NotAllowed("Internal notes are for Customer Care only.")
    if case.is_closed:
        raise Conflict("The case is closed: reopen it to add information, or open a new case.")
    body = clean_body(body, required=True)
    validate_uploads(uploads)
    if requested_priority:
        if care:
            message = "Customer Care changes the priority directly instead of requesting it."
            raise InvalidInput(message, {"requested_priority": [message]})
        check_priority_request(case, requested_priority)
    before = case.sub_status
    fields = ["modified_at"]
    if care and not internal:
        if case.sub_status == SubStatus.NEW:
            case.take()  # C-8: the first response takes the case
        if case.first_response_at is None:
            case.first_response_at = now
            fields.append("first_response_at")
    elif not care and policy.customer_update_responds(case):
        case.customer_respond()
    update = add_update(
        case,
        actor=actor,
        body=body,
        internal=internal,
        by_care=care,
        channel=channel,
        now=now,
        uploads=uploads,
        requested_priority=requested_priority,
    )
    save_case(case, fields)
    event = case_event_record(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.NOTE if internal else CaseEvent.Kind.UPDATE,
        channel=channel,
        now=now,
        after={"update": update.pk},
        internal=internal,
    )
    if requested_priority:
        case_event_record(
            case=case,
            actor=actor,
            kind=CaseEvent.Kind.PRIORITY_REQUEST,
            channel=channel,
            now=now,
            before={"priority": case.priority},
            after={"requested_priority": requested_priority},
        )
    if before != case.sub_status:
        event = record_transition(case, before=before, actor=actor, channel=channel, now=now)
    if not internal:
        after_case_change(
            case=case,
            changed={"care_public_update" if care else "customer_update"},
            before_sub_status=before,
            actor=actor,
            now=now,
        )
    if care and not internal:
        emails.case_public_update(case=case, update=update, event=event, now=now)
    return update


def check_priority_request(case: Case, requested: str) -> None:
    """C-6: a customer may ask LOW→MEDIUM by update; raising to HIGH or CRITICAL is by phone."""
    if requested not in Priority.values:
        raise InvalidInput("Unknown priority.", {"requested_priority": ["Unknown priority."]})
    if requested == case.priority:
        raise InvalidInput(
            "The case already has this priority.",
            {"requested_priority": ["The case already has this priority."]},
        )
    if PRIORITY_RANK[requested] > PRIORITY_RANK[case.priority] and requested in (
        Priority.HIGH,
        Priority.CRITICAL,
    ):
        message = f"To raise a case to High or Critical, call Customer Care: {care_phones()}."
        raise InvalidInput(message, {"requested_priority": [message]})
