"""Cases and everything that hangs off them (C-1 … C-16).

The sub-status is the state machine's state (C-7, C-8); the status is derived from it and
stored so lists can filter and index on it. Transition methods change only fields of the
case itself: services lock the row, check who may act, fire the transition, save and write
history in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from cases.choices import (
    ALL_TYPES,
    AWAITING_CUSTOMER,
    CLOSED_SUB_STATUSES,
    CUSTOMER_PRIORITIES,
    CUSTOMER_TYPES,
    OPEN_SUB_STATUSES,
    PRIORITY_RANK,
    STATUS_OF,
    CaseType,
    Channel,
    ClosureReason,
    Priority,
    SlaState,
    Stage,
    Status,
    SubStatus,
    SubType,
)
from core.indexes import PostgresOnlyGinIndex
from core.tenancy import TenantManager, TenantModel

# The choices live in cases.choices and are re-exported here, for the callers that import
# them with the models.
__all__ = [
    "ALL_TYPES",
    "AWAITING_CUSTOMER",
    "CLOSED_SUB_STATUSES",
    "CUSTOMER_PRIORITIES",
    "CUSTOMER_TYPES",
    "OPEN_SUB_STATUSES",
    "PRIORITY_RANK",
    "STATUS_OF",
    "AppendOnlyQuerySet",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "CaseType",
    "CaseUpdate",
    "Channel",
    "ClosureReason",
    "CloudService",
    "Priority",
    "ProductGroup",
    "SlaState",
    "Stage",
    "Status",
    "SubStatus",
    "SubType",
    "attachment_path",
]


class ProductGroup(models.Model):
    """A care team that a cloud service's cases are routed to (T-3)."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CloudService(models.Model):
    """A product customers open cases about (T-3): global, with its intake checklist."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    product_group = models.ForeignKey(
        ProductGroup, on_delete=models.PROTECT, related_name="services"
    )
    checklist = models.TextField(help_text="Shown in the description when a case is opened.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CaseNumberCounter(models.Model):
    """The case number counter on databases without sequences (see numbering.py)."""

    last = models.BigIntegerField()

    def __str__(self) -> str:
        return str(self.last)


S = SubStatus


def _restorable(case: Case) -> bool:
    return case.type in (CaseType.SUPPORT, CaseType.INCIDENT)


class Case(ConcurrentTransitionMixin, TenantModel):
    # No single-column index: every organization's lookup starts one of the composite
    # indexes below (one index fewer to write for each new or changed case).
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="cases",
        related_query_name="case",
        db_index=False,
    )
    number = models.BigIntegerField(unique=True, editable=False)
    deployment = models.ForeignKey(
        "accounts.Deployment", on_delete=models.PROTECT, related_name="cases"
    )
    service = models.ForeignKey(
        CloudService, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    product_group = models.ForeignKey(
        ProductGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    type = models.CharField(max_length=24, choices=CaseType.choices)
    sub_type = models.CharField(max_length=24, choices=SubType.choices, blank=True)
    implementation_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    subject = models.CharField(max_length=200)
    description = models.TextField()
    priority = models.CharField(max_length=10, choices=Priority.choices)
    business_impact = models.TextField()
    affected_count = models.PositiveIntegerField(null=True, blank=True)
    external_reference = models.CharField(max_length=100, blank=True)
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contact_cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_cases",
        db_index=False,  # "case_owner_status" (owner, status) serves every owner lookup
    )
    sub_status = FSMField(
        max_length=32, choices=SubStatus.choices, default=SubStatus.NEW, protected=True
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    modified_at = models.DateTimeField(help_text="Time of the last public update (C-9).")
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(max_length=32, choices=ClosureReason.choices, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)
    rca_delivered_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer last asked for an escalation (E-7)."
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    # Service levels (S-1 … S-8): due times stored in UTC and recomputed on the events that
    # change them (cases.sla), never computed at display time. Null: no such target.
    response_due_at = models.DateTimeField(null=True, blank=True)
    response_met = models.BooleanField(null=True, blank=True, help_text="Null until decided.")
    resolution_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Null while the resolution clock is paused."
    )
    resolution_met = models.BooleanField(null=True, blank=True, help_text="Null until decided.")
    restoration_due_at = models.DateTimeField(null=True, blank=True)
    rca_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_since = models.DateTimeField(null=True, blank=True)
    resolution_consumed_seconds = models.FloatField(
        default=0,
        help_text="Resolution time used before the current pause: business or calendar "
        "seconds, as the target counts.",
    )
    sla_state = models.CharField(max_length=16, choices=SlaState.choices, default=SlaState.OK)
    sla_target = models.CharField(
        max_length=16, blank=True, help_text="The target the SLA state is about."
    )
    at_risk_notified_at = models.DateTimeField(null=True, blank=True)
    breached_notified_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the targets whose clock runs (the care queue's "next due"),
    # and when the SLA sweep must look at the case next (null: nothing to watch).
    sla_next_due_at = models.DateTimeField(null=True, blank=True)
    sla_check_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    # PostgreSQL full-text document of the public text (C-14); maintained by services.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["-modified_at", "-number"]
        indexes = [
            # All Cases in list order. The columns the filters compare ride along, and the
            # id, so a filtered page is read from the index alone, in order, and stopped after
            # a page (PostgreSQL; other databases index the key columns only).
            models.Index(
                fields=["organization", "-modified_at", "-number"],
                include=["status", "sub_status", "priority", "type", "id"],
                name="case_org_recent",
            ),
            # Care's queues across every tenant, last modified first, and "my open cases".
            models.Index(fields=["-modified_at", "-number"], name="case_modified"),
            models.Index(
                fields=["owner", "-modified_at"],
                name="case_owner_open_modified",
                condition=~Q(status="closed"),
            ),
            models.Index(fields=["organization", "status", "-modified_at"], name="case_org_status"),
            models.Index(fields=["organization", "-opened_at"], name="case_org_opened"),
            # All Cases sorted by number, read in order and stopped after a page.
            models.Index(fields=["organization", "number"], name="case_org_number"),
            models.Index(fields=["owner", "status"], name="case_owner_status"),
            # My Cases (C-13) exactly as selectors.my_open_cases asks: the contact's open
            # cases, newest first, read in order and stopped after a page.
            models.Index(
                fields=["contact", "-modified_at", "-number"],
                name="case_contact_open_recent",
                condition=Q(sub_status__in=OPEN_SUB_STATUSES),
            ),
            # The SLA sweep reads only the open cases whose next check is due, in due order.
            models.Index(
                fields=["sla_check_at"],
                name="case_sla_check_due",
                condition=~Q(status="closed") & Q(sla_check_at__isnull=False),
            ),
            # The "at risk / breached" queue, worked in due order.
            models.Index(
                fields=["sla_next_due_at"],
                name="case_sla_attention",
                condition=~Q(status="closed") & ~Q(sla_state="ok"),
            ),
            # Care's "escalated" filter: the few escalated cases, latest first.
            models.Index(
                fields=["-escalated_at"],
                name="case_escalated",
                condition=Q(escalated_at__isnull=False),
            ),
            # Keyword search (C-14, cases/search.py), PostgreSQL only. Care's searches across
            # every tenant: (organization, document).
            PostgresOnlyGinIndex(
                Cast("organization", models.IntegerField()),
                "search_vector",
                name="case_org_search_gin",
                gin_pending_list_limit=128,
            ),
            # A customer's search: each case's words prefixed with its organization, so it
            # reads only that organization's index entries. The SQL functions are in
            # cases/sql/ (created by migration 0013), and are documented there.
            PostgresOnlyGinIndex(
                models.Func(
                    Cast("organization", models.IntegerField()),
                    "search_vector",
                    function="case_tenant_document",
                    output_field=SearchVectorField(),
                ),
                name="case_tenant_search_gin",
                gin_pending_list_limit=128,
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(affected_count__isnull=True) | Q(affected_count__gte=0),
                name="case_affected_count_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_number}: {self.subject}"

    @property
    def display_number(self) -> str:
        """C-1: zero-padded to 8 digits."""
        return f"{self.number:08d}"

    @property
    def is_closed(self) -> bool:
        return self.sub_status in CLOSED_SUB_STATUSES

    # --- C-8 transitions. Each changes only this row's fields. -----------------------

    @transition(field=sub_status, source=S.NEW, target=S.INVESTIGATION)
    def take(self) -> None:
        """Care takes the case / gives the first response."""

    @transition(
        field=sub_status,
        source=[S.NEW, S.INVESTIGATION, S.CUSTOMER_RESPONDED],
        target=S.INFO_REQUIRED,
    )
    def request_info(self) -> None:
        pass

    @transition(
        field=sub_status,
        source=[
            S.NEW,
            S.INVESTIGATION,
            S.CUSTOMER_RESPONDED,
            S.PENDING_PERMANENT_SOLUTION,
            S.PENDING_RCA,
        ],
        target=S.SOLUTION_PROPOSED,
    )
    def propose_solution(self) -> None:
        pass

    @transition(
        field=sub_status,
        source=[S.INVESTIGATION, S.CUSTOMER_RESPONDED],
        target=S.PENDING_PERMANENT_SOLUTION,
        conditions=[_restorable],
    )
    def restore_service_pending_solution(self, *, now: datetime) -> None:
        self.restored_at = now

    @transition(
        field=sub_status,
        source=[S.INVESTIGATION, S.CUSTOMER_RESPONDED],
        target=S.PENDING_RCA,
        conditions=[_restorable],
    )
    def restore_service_pending_rca(self, *, now: datetime) -> None:
        self.restored_at = now

    @transition(field=sub_status, source=S.PENDING_RCA, target=S.SOLUTION_PROPOSED)
    def deliver_rca(self, *, now: datetime) -> None:
        self.rca_delivered_at = now

    @transition(field=sub_status, source=S.SOLUTION_PROPOSED, target=S.PROBLEM_RESOLVED)
    def confirm_solution(self) -> None:
        pass

    @transition(
        field=sub_status,
        source=[S.INFO_REQUIRED, S.SOLUTION_PROPOSED],
        target=S.CUSTOMER_RESPONDED,
    )
    def customer_respond(self) -> None:
        pass

    @transition(field=sub_status, source=list(OPEN_SUB_STATUSES), target=S.CANCELLED)
    def cancel(self, *, now: datetime) -> None:
        self.closed_at = now
        self.closure_reason = ClosureReason.CANCELLED

    @transition(field=sub_status, source=list(OPEN_SUB_STATUSES), target=S.RESOLVED)
    def resolve(self, *, now: datetime, reason: str) -> None:
        self.closed_at = now
        self.closure_reason = reason

    @transition(field=sub_status, source=list(OPEN_SUB_STATUSES), target=S.REDIRECTED)
    def redirect(self, *, now: datetime) -> None:
        self.closed_at = now
        self.closure_reason = ClosureReason.REDIRECTED

    @transition(field=sub_status, source=list(CLOSED_SUB_STATUSES), target=S.CUSTOMER_RESPONDED)
    def reopen(self) -> None:
        self.closed_at = None
        self.closure_reason = ""


class CaseUpdate(TenantModel):
    """An entry of the case feed: a public update or an internal note (C-9)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(default=False)
    by_care = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    requested_priority = models.CharField(
        max_length=10, choices=Priority.choices, blank=True, help_text="Priority request (C-6)."
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="update_case_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_internal=False) | Q(by_care=True), name="update_internal_only_care"
            )
        ]

    def __str__(self) -> str:
        return f"{'Internal note' if self.is_internal else 'Update'} on {self.case_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Stored under an opaque name: the customer's file name is kept only as data.
    return f"attachments/{instance.organization_id}/{instance.case_id}/{instance.token}"


class Attachment(TenantModel):
    """A file added to an update (C-10). Served only through an access-checked download."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    update = models.ForeignKey(CaseUpdate, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=64, unique=True, editable=False)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk changes of the history are refused like single ones (C-16). Deleting a whole
    case still removes its events: the cascade does not go through this queryset."""

    def update(self, **kwargs):
        raise ValueError("Case history is append-only: events are never changed.")

    def delete(self):
        raise ValueError("Case history is append-only: events are never deleted.")


class CaseEvent(TenantModel):
    """Append-only history of every change to a case (C-16)."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Opened"
        TRANSITION = "transition", "Status changed"
        PRIORITY = "priority", "Priority changed"
        OWNER = "owner", "Owner changed"
        TYPE = "type", "Type changed"
        FIELDS = "fields", "Fields changed"
        UPDATE = "update", "Update posted"
        NOTE = "note", "Internal note added"
        PRIORITY_REQUEST = "priority_request", "Priority change requested"
        REOPENED = "reopened", "Reopened"
        FOLLOW_UP = "follow_up", "Automated follow-up"
        SLA = "sla", "Service level"
        ESCALATION = "escalation", "Escalation"
        # A case email was returned as undeliverable (N-3): care only, never a customer.
        EMAIL_BOUNCED = "email_bounced", "Email not delivered"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    internal = models.BooleanField(default=False, help_text="Shown to care only.")
    created_at = models.DateTimeField()

    objects = TenantManager.from_queryset(AppendOnlyQuerySet)()
    unscoped = models.Manager.from_queryset(AppendOnlyQuerySet)()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["case", "-created_at"], name="event_case_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.case_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Case history is append-only: events are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Case history is append-only: events are never deleted.")
