"""Status changes as a service performs them (C-8): check, fire, save, record, email.

A ``Transition`` says which state-machine transition runs and what it needs; an ``Act`` says
who does it, how and when, with what text. The care and customer services describe their
transitions as constants and hand both to ``care_transition`` or ``customer_transition`` with
the case they have locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from accounts.models import User
from cases import emails
from cases.attachments import validate_uploads
from cases.models import Case
from cases.services.common import (
    add_update,
    clean_body,
    ensure_can,
    fire,
    record_transition,
    require_care,
    require_designated_contact,
    save_case,
)


@dataclass(frozen=True)
class Transition:
    """One transition of the case's state machine, as a service performs it."""

    name: str  # the transition method of Case
    verb: str  # completes "A case in “…” cannot be …" when the status refuses it
    fields: tuple[str, ...] = ()  # what the transition sets besides the status
    body_required: bool = False
    what: str = "message"  # what the text is, for "Write a …"
    first_response: bool = False  # care's first response even without text (take)


@dataclass(frozen=True)
class Act:
    """Who acts, through which channel and when, with the text and files they send."""

    actor: User
    channel: str
    now: datetime
    body: str | None = None
    uploads: Sequence[UploadedFile] = ()


def care_transition(*, case: Case, transition: Transition, act: Act, **arguments: Any) -> Case:
    """Care moves the locked ``case``; ``arguments`` go to the transition method. Text sent
    with it is a public update and may be care's first response."""
    require_care(act.actor, case)
    ensure_can(case, transition.name, transition.verb)
    body = clean_body(act.body, required=transition.body_required, what=transition.what)
    validate_uploads(act.uploads)
    before = case.sub_status
    fire(case, transition.name, transition.verb, **arguments)
    update = None
    fields = list(transition.fields)
    if body:
        update = add_update(
            case,
            actor=act.actor,
            body=body,
            internal=False,
            by_care=True,
            channel=act.channel,
            now=act.now,
            uploads=act.uploads,
        )
        fields.append("modified_at")
    if (body or transition.first_response) and case.first_response_at is None:
        case.first_response_at = act.now
        fields.append("first_response_at")
    save_case(case, fields)
    event = record_transition(
        case, before=before, actor=act.actor, channel=act.channel, now=act.now
    )
    emails.case_status_changed(case=case, before=before, update=update, event=event, now=act.now)
    return case


def customer_transition(*, case: Case, transition: Transition, act: Act, **arguments: Any) -> Case:
    """A designated contact moves the locked ``case``; ``arguments`` go to the transition
    method. Text sent with it is a public update."""
    require_designated_contact(act.actor, case)
    ensure_can(case, transition.name, transition.verb)
    body = clean_body(act.body, required=transition.body_required, what=transition.what)
    before = case.sub_status
    fire(case, transition.name, transition.verb, **arguments)
    update = None
    fields = list(transition.fields)
    if body:
        update = add_update(
            case,
            actor=act.actor,
            body=body,
            internal=False,
            by_care=False,
            channel=act.channel,
            now=act.now,
        )
        fields.append("modified_at")
    save_case(case, fields)
    event = record_transition(
        case, before=before, actor=act.actor, channel=act.channel, now=act.now
    )
    emails.case_status_changed(case=case, before=before, update=update, event=event, now=act.now)
    return case
