"""Care's changes to a case's fields: priority (C-5), owner, type (C-2), deployment and cloud
service (C-16)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import Deployment, User
from cases import emails, policy
from cases.models import Case, CaseEvent, CaseType, CloudService, Priority
from cases.services.common import (
    add_update,
    clean_body,
    lock_case,
    require_care,
    save_case,
    snapshot,
)
from cases.services.history import case_event_record
from cases.services.lifecycle import after_case_change
from core.errors import Conflict, InvalidInput


@transaction.atomic
def case_change_priority(
    *, case: Case, actor: User, priority: str, body: str | None = None, channel: str, now: datetime
) -> Case:
    """Care has final authority over priority, CRITICAL included (C-5)."""
    case = lock_case(case)
    require_care(actor, case)
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
    body = clean_body(body, required=False)
    update = None
    if body:
        update = add_update(
            case, actor=actor, body=body, internal=False, by_care=True, channel=channel, now=now
        )
        fields.append("modified_at")
    save_case(case, fields)
    event = case_event_record(
        case=case,
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
    case = lock_case(case)
    require_care(actor, case)
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
    save_case(case, ["owner"])
    case_event_record(
        case=case,
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
    case = lock_case(case)
    require_care(actor, case)
    if case.type != CaseType.SUPPORT:
        raise Conflict("Only a Support case can be converted to an Incident.")
    if case.is_closed:
        raise Conflict("The case is closed.")
    case.type = CaseType.INCIDENT
    fields = ["type"]
    body = clean_body(body, required=False)
    if body:
        add_update(
            case, actor=actor, body=body, internal=False, by_care=True, channel=channel, now=now
        )
        fields.append("modified_at")
    save_case(case, fields)
    case_event_record(
        case=case,
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
    case = lock_case(case)
    require_care(actor, case)
    if case.is_closed:
        raise Conflict("The case is closed.")
    errors: dict[str, list[str]] = {}
    before = snapshot(case, "deployment", "service")
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
    save_case(case, fields)
    case_event_record(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.FIELDS,
        channel=channel,
        now=now,
        before=before,
        after=snapshot(case, "deployment", "service"),
    )
    return case
