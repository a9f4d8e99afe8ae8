"""What every case service shares: the lock, who may act (T-4 … T-6), the state machine's
refusals (C-8), saving, text cleaning and the public or internal update a change carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models.expressions import CombinedExpression
from django_fsm import ConcurrentTransition, can_proceed

from accounts.models import User
from cases import policy
from cases.attachments import attachment_store
from cases.models import STATUS_OF, Case, CaseEvent, CaseUpdate
from cases.search import search_document_extended
from cases.services.history import case_event_record
from cases.services.lifecycle import after_case_change
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.textclean import clean_text

SUBJECT_MAX = 200
BODY_MAX = 100_000

# What closing (or reopening) a case writes besides its status.
CLOSING_FIELDS = ("closed_at", "closure_reason")


def care_phones() -> str:
    return "; ".join(settings.PORTAL["CARE_PHONE_NUMBERS"])


# --- the lock and who may act --------------------------------------------------------------


def lock_case(case: Case) -> Case:
    """The case row, locked for the rest of the transaction (tenant-scoped: another
    tenant's case is not found)."""
    try:
        # The search document (kilobytes on a long case) is never read by a change; a
        # public update extends it in the database (``add_update``). The organization comes
        # with the case (not locked): its support level decides the service levels that
        # every change recomputes (S-8).
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("organization")
            .defer("search_vector")
            .get(pk=case.pk)
        )
    except Case.DoesNotExist as exc:
        raise NotFound("No such case.") from exc


def is_staff(actor: User) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.is_staff)


def require_view(actor: User, case: Case) -> None:
    if not policy.can_view(actor, case):
        raise NotFound("No such case.")


def require_care(actor: User, case: Case) -> None:
    """Care work is for analysts and managers (T-5). A customer who cannot see the case is
    told it does not exist (T-6) before being told they may not act on it."""
    if policy.is_care(actor):
        return
    if not is_staff(actor):
        require_view(actor, case)
    raise NotAllowed("Only Customer Care analysts and managers can do this.")


def require_designated_contact(actor: User, case: Case) -> None:
    if is_staff(actor):
        raise NotAllowed(
            "This is the customer's action; Customer Care resolves or cancels the case instead."
            if policy.is_care(actor)
            else "Only a designated contact of the organization can do this."
        )
    require_view(actor, case)
    if not policy.is_designated_contact(actor, case):
        raise NotAllowed(
            "Only a designated contact of the organization can change its cases; "
            "your access is read-only."
        )


# --- the state machine and saving ------------------------------------------------------------


def ensure_can(case: Case, name: str, verb: str) -> None:
    """Refuse a transition the current sub-status does not allow (C-8), before anything
    else about the request is looked at: the state is the more useful answer."""
    if not can_proceed(getattr(case, name)):
        raise Conflict(
            f"A case in “{case.get_sub_status_display()}” cannot be {verb}."
            if case.sub_status
            else f"The case cannot be {verb}."
        )


def fire(case: Case, name: str, verb: str, **arguments: Any) -> None:
    ensure_can(case, name, verb)
    getattr(case, name)(**arguments)


def search_text_pending(case: Case) -> bool:
    """Whether ``add_update`` left public text for the case's search document that no
    save has written yet."""
    return "search_vector" not in case.get_deferred_fields() and isinstance(
        case.search_vector, CombinedExpression
    )


def save_case(case: Case, fields: Sequence[str]) -> None:
    """Save the named fields; the status always follows the sub-status. Public text added
    by ``add_update`` joins the search document in the same UPDATE."""
    case.status = STATUS_OF[case.sub_status]
    fields = {*fields, "sub_status", "status"}
    extends_document = search_text_pending(case)
    if extends_document:
        fields.add("search_vector")
    try:
        case.save(update_fields=sorted(fields))
    except ConcurrentTransition as exc:
        raise Conflict("The case was changed by someone else a moment ago; reload it.") from exc
    if extends_document:
        # The attribute still holds the expression: leave the field unloaded, so that a later
        # save never appends the same text twice.
        del case.search_vector


def snapshot(case: Case, *fields: str) -> dict[str, Any]:
    """Field values as the history stores them: keys for relations, ISO times."""
    out = {}
    for f in fields:
        value = getattr(case, f if f not in ("owner", "deployment", "service") else f + "_id")
        out[f] = value.isoformat() if isinstance(value, datetime) else value
    return out


def record_transition(
    case: Case, *, before: str, actor: User | None, channel: str, now: datetime
) -> CaseEvent:
    """The history event of a status change, then what follows it (due times, timers)."""
    event = case_event_record(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.TRANSITION,
        channel=channel,
        now=now,
        before={"sub_status": before, "status": STATUS_OF[before]},
        after={"sub_status": case.sub_status, "status": case.status},
    )
    after_case_change(
        case=case, changed={"sub_status"}, before_sub_status=before, actor=actor, now=now
    )
    return event


# --- text ----------------------------------------------------------------------------------


def text(value: object) -> str:
    """Text as stored: line breaks normalised, control characters removed."""
    return clean_text(value)


def line(value: object) -> str:
    """One line of text (subjects, references): no line breaks, single spaces. A subject
    ends up in email headers, where a line break would be a header injection."""
    return " ".join(text(value).split())


def clean_body(body: str | None, *, required: bool, what: str = "message") -> str:
    body = text(body)
    if required and not body:
        raise InvalidInput(f"Write a {what}.", {"body": [f"Write a {what}."]})
    if len(body) > BODY_MAX:
        raise InvalidInput("The text is too long.", {"body": ["At most 100,000 characters."]})
    return body


# --- updates -------------------------------------------------------------------------------


def add_update(
    case: Case,
    *,
    actor: User | None,
    body: str,
    internal: bool,
    by_care: bool,
    channel: str,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
    requested_priority: str = "",
) -> CaseUpdate:
    """A public update or internal note with its files. A public one counts as the case's
    last modification (C-9) and joins its search document (C-14)."""
    update = CaseUpdate.objects.create(
        organization_id=case.organization_id,
        case=case,
        author=actor,
        body=body,
        is_internal=internal,
        by_care=by_care,
        channel=channel,
        requested_priority=requested_priority,
        created_at=now,
    )
    for upload in uploads:
        attachment_store(case=case, update=update, upload=upload, actor=actor, now=now)
    if not internal:
        case.modified_at = now  # C-9: last public update by either side
        document = search_document_extended(body)
        if document is not None:
            case.search_vector = document  # written by the caller's save_case (C-14)
    return update
