"""Opening a case (C-1 … C-5): the customer's input checked field by field, the number drawn,
the service levels computed, the history started and the confirmation email recorded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import AccessLevel, Deployment, Organization, User
from accounts.selectors import access_level_for
from cases import emails
from cases.attachments import validate_uploads
from cases.models import (
    ALL_TYPES,
    CUSTOMER_PRIORITIES,
    CUSTOMER_TYPES,
    STATUS_OF,
    Case,
    CaseEvent,
    CaseType,
    Channel,
    CloudService,
    Priority,
    Stage,
    SubType,
)
from cases.numbering import next_case_number
from cases.search import search_document
from cases.services.common import (
    BODY_MAX,
    SUBJECT_MAX,
    add_update,
    care_phones,
    is_staff,
    line,
    save_case,
    search_text_pending,
    text,
)
from cases.services.history import case_event_record
from cases.services.lifecycle import after_case_change
from cases.sla.services import sla_for_new_case
from core.errors import InvalidInput, NotAllowed, NotFound


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


def clean_input(data: CaseInput) -> CaseInput:
    return replace(
        data,
        service_slug=line(data.service_slug) or None,
        type=line(data.type),
        sub_type=line(data.sub_type),
        implementation_stage=line(data.implementation_stage),
        subject=line(data.subject),
        description=text(data.description),
        priority=line(data.priority),
        business_impact=text(data.business_impact),
        external_reference=line(data.external_reference),
    )


def validate_case_input(data: CaseInput) -> tuple[Deployment, CloudService | None]:
    """Checks C-2 … C-5; raises InvalidInput with every field error at once."""
    data = clean_input(data)
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
            "Only Customer Care sets Critical. Open the case as High and call us: "
            f"{care_phones()}.",
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
    if is_staff(actor):
        raise NotAllowed("Cases are opened by designated contacts of the organization.")
    level = access_level_for(actor, data.organization)
    if level != AccessLevel.DESIGNATED_CONTACT:
        if level is None:
            raise NotFound("No such organization.")
        raise NotAllowed("Only designated contacts can open cases.")
    data = clean_input(data)
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
        add_update(
            case,
            actor=actor,
            body="Files added when the case was opened.",
            internal=False,
            by_care=False,
            channel=channel,
            now=now,
            uploads=uploads,
        )
        if search_text_pending(case):  # the files' note joins the search document
            save_case(case, ["modified_at"])
    event = case_event_record(
        case=case,
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
