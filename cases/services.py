"""Every change to a case goes through one function here (C-1 … C-16).

Each service locks the case row, checks who may act (T-4, T-5), fires the state-machine
transition, saves with ``update_fields``, writes the history event in the same transaction
and records the emails to send after commit (N-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django_fsm import ConcurrentTransition, can_proceed

from accounts.models import AccessLevel, Deployment, Organization, User
from accounts.selectors import access_level_for
from cases import emails, policy
from cases.attachments import attachment_store, validate_uploads
from cases.lifecycle import after_case_change
from cases.models import (
    ALL_TYPES,
    AWAITING_CUSTOMER,
    CUSTOMER_PRIORITIES,
    CUSTOMER_TYPES,
    PRIORITY_RANK,
    STATUS_OF,
    Case,
    CaseEvent,
    CaseType,
    CaseUpdate,
    Channel,
    ClosureReason,
    CloudService,
    Priority,
    Stage,
    SubStatus,
    SubType,
)
from cases.numbering import next_case_number
from cases.search import search_document, search_document_append
from cases.sla import sla_for_new_case
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.textclean import clean_text

SUBJECT_MAX = 200
BODY_MAX = 100_000


# --- helpers -----------------------------------------------------------------------------


def _phones() -> str:
    return "; ".join(settings.PORTAL["CARE_PHONE_NUMBERS"])


def _lock(case: Case) -> Case:
    try:
        return Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    except Case.DoesNotExist as exc:
        raise NotFound("No such case.") from exc


def _is_staff(actor: User) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.is_staff)


def _require_view(actor: User, case: Case) -> None:
    if not policy.can_view(actor, case):
        raise NotFound("No such case.")


def _require_care(actor: User, case: Case) -> None:
    """Care work is for analysts and managers (T-5). A customer who cannot see the case is
    told it does not exist (T-6) before being told they may not act on it."""
    if policy.is_care(actor):
        return
    if not _is_staff(actor):
        _require_view(actor, case)
    raise NotAllowed("Only Customer Care analysts and managers can do this.")


def _require_designated_contact(actor: User, case: Case) -> None:
    if _is_staff(actor):
        raise NotAllowed(
            "This is the customer's action; Customer Care resolves or cancels the case instead."
            if policy.is_care(actor)
            else "Only a designated contact of the organization can do this."
        )
    _require_view(actor, case)
    if not policy.is_designated_contact(actor, case):
        raise NotAllowed(
            "Only a designated contact of the organization can change its cases; "
            "your access is read-only."
        )


def _save(case: Case, fields: Sequence[str]) -> None:
    case.status = STATUS_OF[case.sub_status]
    try:
        case.save(update_fields=sorted({*fields, "sub_status", "status"}))
    except ConcurrentTransition as exc:
        raise Conflict("The case was changed by someone else a moment ago; reload it.") from exc


def _ensure_can(case: Case, name: str, verb: str) -> None:
    """Refuse a transition the current sub-status does not allow (C-8), before anything
    else about the request is looked at: the state is the more useful answer."""
    if not can_proceed(getattr(case, name)):
        raise Conflict(
            f"A case in “{case.get_sub_status_display()}” cannot be {verb}."
            if case.sub_status
            else f"The case cannot be {verb}."
        )


def _fire(case: Case, name: str, verb: str, **kwargs: Any) -> None:
    _ensure_can(case, name, verb)
    getattr(case, name)(**kwargs)


def _snapshot(case: Case, *fields: str) -> dict[str, Any]:
    out = {}
    for f in fields:
        value = getattr(case, f if f not in ("owner", "deployment", "service") else f + "_id")
        out[f] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _record(
    case: Case,
    *,
    actor: User | None,
    kind: str,
    channel: str,
    now: datetime,
    before: dict | None = None,
    after: dict | None = None,
    internal: bool = False,
) -> CaseEvent:
    return CaseEvent.objects.create(
        organization_id=case.organization_id,
        case=case,
        actor=actor,
        kind=kind,
        channel=channel,
        before=before or {},
        after=after or {},
        internal=internal,
        created_at=now,
    )


def _text(value: object) -> str:
    """Text as stored: line breaks normalised, control characters removed."""
    return clean_text(value)


def _line(value: object) -> str:
    """One line of text (subjects, references): no line breaks, single spaces. A subject
    ends up in email headers, where a line break would be a header injection."""
    return " ".join(_text(value).split())


def _clean_body(body: str | None, *, required: bool, what: str = "message") -> str:
    body = _text(body)
    if required and not body:
        raise InvalidInput(f"Write a {what}.", {"body": [f"Write a {what}."]})
    if len(body) > BODY_MAX:
        raise InvalidInput("The text is too long.", {"body": ["At most 100,000 characters."]})
    return body


def _add_update(
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
        search_document_append(case_id=case.pk, text=body)
    return update


def _transition_event(
    case: Case, *, before: str, actor: User | None, channel: str, now: datetime, **extra: Any
) -> CaseEvent:
    event = _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.TRANSITION,
        channel=channel,
        now=now,
        before={"sub_status": before, "status": STATUS_OF[before]},
        after={"sub_status": case.sub_status, "status": case.status, **extra},
    )
    after_case_change(
        case=case, changed={"sub_status"}, before_sub_status=before, actor=actor, now=now
    )
    return event


# --- opening -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseInput:
    organization: Organization
    deployment_id: int | None
    service_slug: str | None
    type: str
    sub_type: str
    implementation_stage: str
    subject: str
    description: str
    priority: str
    business_impact: str
    affected_count: int | None = None
    external_reference: str = ""


def _clean_input(data: CaseInput) -> CaseInput:
    return replace(
        data,
        service_slug=_line(data.service_slug) or None,
        type=_line(data.type),
        sub_type=_line(data.sub_type),
        implementation_stage=_line(data.implementation_stage),
        subject=_line(data.subject),
        description=_text(data.description),
        priority=_line(data.priority),
        business_impact=_text(data.business_impact),
        external_reference=_line(data.external_reference),
    )


def validate_case_input(data: CaseInput) -> tuple[Deployment, CloudService | None]:
    """Checks C-2 … C-5; raises InvalidInput with every field error at once."""
    data = _clean_input(data)
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    deployment = None
    deployment_id = data.deployment_id
    if deployment_id in (None, ""):
        err("deployment", "Choose the deployment the case is about.")
    elif not str(deployment_id).isdigit():
        err("deployment", "Choose one of your organization's deployments.")
    else:
        deployment = Deployment.objects.filter(
            pk=int(deployment_id), organization=data.organization, is_active=True
        ).first()
        if deployment is None:
            err("deployment", "Choose one of your organization's deployments.")
    if data.type not in CUSTOMER_TYPES:
        if data.type in ALL_TYPES:
            err("type", "Only Customer Care assigns this type; open a Support case instead.")
        else:
            err("type", "Choose Support, Service Request, Data Privacy Request or Admin.")
    service = None
    if data.type != CaseType.ADMIN and data.type in CUSTOMER_TYPES:
        if not data.service_slug:
            err("service", "Choose the cloud service the case is about.")
        else:
            service = CloudService.objects.filter(slug=data.service_slug, is_active=True).first()
            if service is None:
                err("service", "Choose one of the listed cloud services.")
    elif data.service_slug and data.type == CaseType.ADMIN:
        err("service", "Admin cases are not about a cloud service; leave it empty.")
    allowed_sub = CUSTOMER_TYPES.get(data.type, ())
    if data.type in CUSTOMER_TYPES:
        if allowed_sub and data.sub_type not in allowed_sub:
            names = ", ".join(SubType(s).label for s in allowed_sub)
            err("sub_type", f"Choose one of: {names}.")
        if not allowed_sub and data.sub_type:
            err("sub_type", "This type has no sub-type.")
    if data.type == CaseType.SUPPORT:
        if data.implementation_stage not in Stage.values:
            err("implementation_stage", "Choose Production or UAT.")
    elif data.implementation_stage:
        err("implementation_stage", "Only Support cases record a stage.")
    if not data.subject:
        err("subject", "Write a short subject.")
    elif len(data.subject) > SUBJECT_MAX:
        err("subject", f"At most {SUBJECT_MAX} characters.")
    if not data.description:
        err("description", "Describe the issue.")
    elif len(data.description) > BODY_MAX:
        err("description", "At most 100,000 characters.")
    if data.priority == Priority.CRITICAL:
        err(
            "priority",
            f"Only Customer Care sets Critical. Open the case as High and call us: {_phones()}.",
        )
    elif data.priority not in CUSTOMER_PRIORITIES:
        err("priority", "Choose High, Medium or Low.")
    if not data.business_impact:
        err("business_impact", "Say how the issue affects your business.")
    elif len(data.business_impact) > BODY_MAX:
        err("business_impact", "At most 100,000 characters.")
    if data.affected_count is not None:
        if data.sub_type != SubType.PROBLEM:
            err("affected_count", "Only Problem cases record how many are affected.")
        elif (
            not isinstance(data.affected_count, int)
            or isinstance(data.affected_count, bool)
            or not 0 <= data.affected_count <= 10_000_000
        ):
            err("affected_count", "Enter a number from 0 to 10,000,000.")
    if len(data.external_reference) > 100:
        err("external_reference", "At most 100 characters.")
    if errors:
        raise InvalidInput("Some fields need attention.", errors)
    return deployment, service


@transaction.atomic
def case_open(
    *,
    actor: User,
    data: CaseInput,
    channel: str = Channel.PORTAL,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
) -> Case:
    if _is_staff(actor):
        raise NotAllowed("Cases are opened by designated contacts of the organization.")
    level = access_level_for(actor, data.organization)
    if level != AccessLevel.DESIGNATED_CONTACT:
        if level is None:
            raise NotFound("No such organization.")
        raise NotAllowed("Only designated contacts can open cases.")
    data = _clean_input(data)
    deployment, service = validate_case_input(data)
    validate_uploads(uploads)
    document = search_document(f"{data.subject}\n{data.description}")
    case = Case(
        organization=data.organization,
        number=next_case_number(),
        deployment=deployment,
        service=service,
        product_group_id=service.product_group_id if service else None,
        type=data.type,
        sub_type=data.sub_type,
        implementation_stage=data.implementation_stage,
        subject=data.subject,
        description=data.description,
        priority=data.priority,
        business_impact=data.business_impact,
        affected_count=data.affected_count,
        external_reference=data.external_reference,
        contact=actor,
        opened_at=now,
        modified_at=now,
        channel=channel,
        search_vector=document,
    )
    case.status = STATUS_OF[case.sub_status]
    sla_for_new_case(case=case, now=now)
    case.save(force_insert=True)
    if document is not None:
        # The attribute still holds the expression: leave the field unloaded, so that a later
        # save writes only loaded fields and never recomputes (and shortens) the document.
        del case.search_vector
    if uploads:
        _add_update(
            case,
            actor=actor,
            body="Files added when the case was opened.",
            internal=False,
            by_care=False,
            channel=channel,
            now=now,
            uploads=uploads,
        )
    event = _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.OPENED,
        channel=channel,
        now=now,
        after={
            "sub_status": case.sub_status,
            "priority": case.priority,
            "type": case.type,
            "sub_type": case.sub_type,
        },
    )
    emails.case_opened(case=case, event=event, now=now)
    after_case_change(case=case, changed={"opened"}, before_sub_status=None, actor=actor, now=now)
    return case


# --- the feed ----------------------------------------------------------------------------


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
    case = _lock(case)
    care = policy.is_care(actor)
    if not care:
        _require_designated_contact(actor, case)
        if internal:
            raise NotAllowed("Internal notes are for Customer Care only.")
    if case.is_closed:
        raise Conflict("The case is closed: reopen it to add information, or open a new case.")
    body = _clean_body(body, required=True)
    validate_uploads(uploads)
    if requested_priority:
        if care:
            message = "Customer Care changes the priority directly instead of requesting it."
            raise InvalidInput(message, {"requested_priority": [message]})
        _check_priority_request(case, requested_priority)
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
    update = _add_update(
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
    _save(case, fields)
    event = _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.NOTE if internal else CaseEvent.Kind.UPDATE,
        channel=channel,
        now=now,
        after={"update": update.pk},
        internal=internal,
    )
    if requested_priority:
        _record(
            case,
            actor=actor,
            kind=CaseEvent.Kind.PRIORITY_REQUEST,
            channel=channel,
            now=now,
            before={"priority": case.priority},
            after={"requested_priority": requested_priority},
        )
    if before != case.sub_status:
        event = _transition_event(case, before=before, actor=actor, channel=channel, now=now)
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


def _check_priority_request(case: Case, requested: str) -> None:
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
        message = f"To raise a case to High or Critical, call Customer Care: {_phones()}."
        raise InvalidInput(message, {"requested_priority": [message]})


# --- care transitions --------------------------------------------------------------------


def _care_transition(
    *,
    case: Case,
    actor: User,
    name: str,
    verb: str,
    body: str | None,
    body_required: bool,
    channel: str,
    now: datetime,
    uploads: Sequence[UploadedFile] = (),
    kwargs: dict | None = None,
    fields: Sequence[str] = (),
    what: str = "message",
    locked: bool = False,
) -> Case:
    case = case if locked else _lock(case)
    _require_care(actor, case)
    _ensure_can(case, name, verb)
    body = _clean_body(body, required=body_required, what=what)
    validate_uploads(uploads)
    before = case.sub_status
    _fire(case, name, verb, **(kwargs or {}))
    update = None
    save_fields = list(fields)
    if body:
        update = _add_update(
            case,
            actor=actor,
            body=body,
            internal=False,
            by_care=True,
            channel=channel,
            now=now,
            uploads=uploads,
        )
        save_fields.append("modified_at")
        if case.first_response_at is None:
            case.first_response_at = now
            save_fields.append("first_response_at")
    if name == "take" and case.first_response_at is None:
        case.first_response_at = now
        save_fields.append("first_response_at")
    _save(case, save_fields)
    event = _transition_event(case, before=before, actor=actor, channel=channel, now=now)
    emails.case_status_changed(case=case, before=before, update=update, event=event, now=now)
    return case


def case_take(*, case: Case, actor: User, body: str | None = None, channel: str, now: datetime):
    with transaction.atomic():
        case = _lock(case)
        _require_care(actor, case)
        fields: list[str] = []
        if case.owner_id is None:
            case.owner = actor
            fields.append("owner")
        result = _care_transition(
            case=case,
            actor=actor,
            name="take",
            verb="taken (it is not New)",
            body=body,
            body_required=False,
            channel=channel,
            now=now,
            fields=fields,
            locked=True,
        )
        if "owner" in fields:
            _record(
                case,
                actor=actor,
                kind=CaseEvent.Kind.OWNER,
                channel=channel,
                now=now,
                before={"owner": None},
                after={"owner": actor.pk},
                internal=True,  # as every owner change (case_assign)
            )
        return result


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
    return _care_transition(
        case=case,
        actor=actor,
        name="request_info",
        verb="asked for information",
        body=body,
        body_required=True,
        channel=channel,
        now=now,
        uploads=uploads,
        what="message saying what you need from the customer",
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
    return _care_transition(
        case=case,
        actor=actor,
        name="propose_solution",
        verb="given a proposed solution",
        body=body,
        body_required=True,
        channel=channel,
        now=now,
        uploads=uploads,
        what="description of the solution",
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
    if pending not in ("permanent_solution", "rca"):
        raise InvalidInput("Say what is pending.", {"pending": ["permanent_solution or rca"]})
    name = (
        "restore_service_pending_rca" if pending == "rca" else ("restore_service_pending_solution")
    )
    locked = _lock(case)
    _require_care(actor, locked)
    if locked.type not in (CaseType.SUPPORT, CaseType.INCIDENT):
        raise Conflict("Only Support cases and Incidents have a service to restore.")
    return _care_transition(
        case=locked,
        actor=actor,
        name=name,
        verb="marked as service restored",
        body=body,
        body_required=False,
        channel=channel,
        now=now,
        kwargs={"now": now},
        fields=["restored_at"],
        locked=True,
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
    return _care_transition(
        case=case,
        actor=actor,
        name="deliver_rca",
        verb="given an RCA (no RCA is pending)",
        body=body,
        body_required=True,
        channel=channel,
        now=now,
        uploads=uploads,
        kwargs={"now": now},
        fields=["rca_delivered_at"],
        what="summary of the root cause analysis",
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
    return _care_transition(
        case=case,
        actor=actor,
        name="resolve",
        verb="resolved",
        body=body,
        body_required=False,
        channel=channel,
        now=now,
        kwargs={"now": now, "reason": reason},
        fields=["closed_at", "closure_reason"],
    )


@transaction.atomic
def case_auto_close(*, case: Case, now: datetime) -> tuple[Case, CaseEvent]:
    """F-4: the follow-up sweep closes a case the customer left unanswered.

    The system acts, not a person: no actor, channel "system", reason "no customer
    response". No status email here: the caller sends the follow-up's final email, the one
    email the customer gets for the close."""
    case = _lock(case)
    if case.sub_status not in AWAITING_CUSTOMER:
        raise Conflict("Only a case waiting for the customer is closed for no response.")
    before = case.sub_status
    _fire(case, "resolve", "closed", now=now, reason=ClosureReason.NO_CUSTOMER_RESPONSE)
    _save(case, ["closed_at", "closure_reason"])
    event = _transition_event(case, before=before, actor=None, channel=Channel.SYSTEM, now=now)
    return case, event


@transaction.atomic
def case_redirect(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    return _care_transition(
        case=case,
        actor=actor,
        name="redirect",
        verb="redirected",
        body=body,
        body_required=False,
        channel=channel,
        now=now,
        kwargs={"now": now},
        fields=["closed_at", "closure_reason"],
    )


# --- customer transitions ----------------------------------------------------------------


def _customer_transition(
    *,
    case: Case,
    actor: User,
    name: str,
    verb: str,
    body: str | None,
    channel: str,
    now: datetime,
    kwargs: dict | None = None,
    fields: Sequence[str] = (),
    body_required: bool = False,
    what: str = "message",
    locked: bool = False,
) -> Case:
    case = case if locked else _lock(case)
    _require_designated_contact(actor, case)
    _ensure_can(case, name, verb)
    body = _clean_body(body, required=body_required, what=what)
    before = case.sub_status
    _fire(case, name, verb, **(kwargs or {}))
    update = None
    save_fields = list(fields)
    if body:
        update = _add_update(
            case, actor=actor, body=body, internal=False, by_care=False, channel=channel, now=now
        )
        save_fields.append("modified_at")
    _save(case, save_fields)
    event = _transition_event(case, before=before, actor=actor, channel=channel, now=now)
    emails.case_status_changed(case=case, before=before, update=update, event=event, now=now)
    return case


@transaction.atomic
def case_confirm_solution(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """The customer confirms the proposed solution (C-8)."""
    return _customer_transition(
        case=case,
        actor=actor,
        name="confirm_solution",
        verb="confirmed (no solution is proposed)",
        body=body,
        channel=channel,
        now=now,
    )


@transaction.atomic
def case_close(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Close Case (C-11). From a proposed or confirmed solution the case is Resolved;
    from anywhere else it is Cancelled (C-8)."""
    locked = _lock(case)
    if locked.sub_status in (SubStatus.SOLUTION_PROPOSED, SubStatus.PROBLEM_RESOLVED):
        reason = (
            ClosureReason.SOLUTION_CONFIRMED
            if locked.sub_status == SubStatus.PROBLEM_RESOLVED
            else ClosureReason.CUSTOMER_CLOSED
        )
        return _customer_transition(
            case=locked,
            actor=actor,
            name="resolve",
            verb="closed",
            body=body,
            channel=channel,
            now=now,
            kwargs={"now": now, "reason": reason},
            fields=["closed_at", "closure_reason"],
            locked=True,
        )
    return _customer_transition(
        case=locked,
        actor=actor,
        name="cancel",
        verb="closed (it is already closed)",
        body=body,
        channel=channel,
        now=now,
        kwargs={"now": now},
        fields=["closed_at", "closure_reason"],
        locked=True,
    )


@transaction.atomic
def case_cancel(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    if policy.is_care(actor):
        return _care_transition(
            case=case,
            actor=actor,
            name="cancel",
            verb="cancelled",
            body=body,
            body_required=False,
            channel=channel,
            now=now,
            kwargs={"now": now},
            fields=["closed_at", "closure_reason"],
        )
    return _customer_transition(
        case=case,
        actor=actor,
        name="cancel",
        verb="cancelled",
        body=body,
        channel=channel,
        now=now,
        kwargs={"now": now},
        fields=["closed_at", "closure_reason"],
    )


@transaction.atomic
def case_reopen(*, case: Case, actor: User, reason: str, channel: str, now: datetime) -> Case:
    """C-12: a designated contact reopens within 30 days of closure, saying why."""
    locked = _lock(case)
    _require_designated_contact(actor, locked)
    if not locked.is_closed:
        raise Conflict("The case is not closed: only a closed case can be reopened.")
    deadline = policy.reopen_deadline(locked)
    if deadline is None or now > deadline:
        raise Conflict(
            "A case can be reopened within 30 days of its closure and this one was closed "
            "longer ago: open a new case and mention this case's number."
        )
    reason = _clean_body(reason, required=True, what="reason for reopening")
    closed = _snapshot(locked, "closed_at", "closure_reason")
    case = _customer_transition(
        case=locked,
        actor=actor,
        name="reopen",
        verb="reopened",
        body=reason,
        channel=channel,
        now=now,
        fields=["closed_at", "closure_reason"],
        locked=True,
    )
    _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.REOPENED,
        channel=channel,
        now=now,
        before=closed,
        after={"closed_at": None, "closure_reason": ""},
    )
    return case


# --- care field changes ------------------------------------------------------------------


@transaction.atomic
def case_change_priority(
    *, case: Case, actor: User, priority: str, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Care has final authority over priority, CRITICAL included (C-5)."""
    case = _lock(case)
    _require_care(actor, case)
    if priority not in Priority.values:
        raise InvalidInput(
            "Unknown priority.", {"priority": ["Choose critical, high, medium or low."]}
        )
    if case.is_closed:
        raise Conflict("The case is closed.")
    if priority == case.priority:
        raise Conflict("The case already has this priority.")
    before = case.priority
    case.priority = priority
    fields = ["priority"]
    body = _clean_body(body, required=False)
    update = None
    if body:
        update = _add_update(
            case, actor=actor, body=body, internal=False, by_care=True, channel=channel, now=now
        )
        fields.append("modified_at")
    _save(case, fields)
    event = _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.PRIORITY,
        channel=channel,
        now=now,
        before={"priority": before},
        after={"priority": priority},
    )
    emails.case_priority_changed(case=case, before=before, update=update, event=event, now=now)
    after_case_change(
        case=case, changed={"priority"}, before_sub_status=case.sub_status, actor=actor, now=now
    )
    return case


@transaction.atomic
def case_assign(
    *, case: Case, actor: User, owner: User | None, channel: str, now: datetime
) -> Case:
    case = _lock(case)
    _require_care(actor, case)
    if owner is not None and not policy.is_care(owner):
        raise InvalidInput(
            "The owner must be a care analyst or manager.",
            {"owner": ["Choose a care analyst or manager."]},
        )
    if case.is_closed:
        raise Conflict("The case is closed.")
    if case.owner_id == (owner.pk if owner else None):
        return case
    before = case.owner_id
    case.owner = owner
    _save(case, ["owner"])
    _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.OWNER,
        channel=channel,
        now=now,
        before={"owner": before},
        after={"owner": owner.pk if owner else None},
        internal=True,
    )
    return case


@transaction.atomic
def case_convert_to_incident(
    *, case: Case, actor: User, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Care turns a service-affecting Support case into an Incident (C-2)."""
    case = _lock(case)
    _require_care(actor, case)
    if case.type != CaseType.SUPPORT:
        raise Conflict("Only a Support case can be converted to an Incident.")
    if case.is_closed:
        raise Conflict("The case is closed.")
    case.type = CaseType.INCIDENT
    fields = ["type"]
    body = _clean_body(body, required=False)
    if body:
        _add_update(
            case, actor=actor, body=body, internal=False, by_care=True, channel=channel, now=now
        )
        fields.append("modified_at")
    _save(case, fields)
    _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.TYPE,
        channel=channel,
        now=now,
        before={"type": CaseType.SUPPORT},
        after={"type": CaseType.INCIDENT},
    )
    after_case_change(
        case=case, changed={"type"}, before_sub_status=case.sub_status, actor=actor, now=now
    )
    return case


@transaction.atomic
def case_change_fields(
    *,
    case: Case,
    actor: User,
    deployment_id: int | None = None,
    service_slug: str | None = None,
    channel: str,
    now: datetime,
) -> Case:
    """Care corrects the deployment or the cloud service of an open case (C-16).

    The deployment must be an active one of the case's organization; the service an active
    one, and none for Admin cases. The product group follows the service (routing)."""
    case = _lock(case)
    _require_care(actor, case)
    if case.is_closed:
        raise Conflict("The case is closed.")
    errors: dict[str, list[str]] = {}
    before = _snapshot(case, "deployment", "service")
    fields: list[str] = []
    if deployment_id is not None and deployment_id != case.deployment_id:
        deployment = Deployment.unscoped.filter(
            pk=deployment_id, organization_id=case.organization_id, is_active=True
        ).first()
        if deployment is None:
            errors["deployment"] = ["Choose an active deployment of the case's organization."]
        else:
            case.deployment = deployment
            fields.append("deployment")
    if service_slug is not None and service_slug != (case.service.slug if case.service else ""):
        if case.type == CaseType.ADMIN:
            if service_slug:
                errors["service"] = ["Admin cases are not about a cloud service."]
        else:
            service = CloudService.objects.filter(slug=service_slug, is_active=True).first()
            if service is None:
                errors["service"] = ["Choose one of the listed cloud services."]
            else:
                case.service = service
                case.product_group_id = service.product_group_id
                fields += ["service", "product_group"]
    if errors:
        raise InvalidInput("Some fields need attention.", errors)
    if not fields:
        raise Conflict("Nothing to change: the case already has these values.")
    _save(case, fields)
    _record(
        case,
        actor=actor,
        kind=CaseEvent.Kind.FIELDS,
        channel=channel,
        now=now,
        before=before,
        after=_snapshot(case, "deployment", "service"),
    )
    return case
