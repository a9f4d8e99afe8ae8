"""Escalations (E-1 … E-9): a customer's request that care management look at a case, with
its own small state machine and its own feed, separate from the case feed."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.models import User
from cases.models import Channel
from core.tenancy import TenantModel


class Reason(models.TextChoices):
    DISSATISFIED = "dissatisfied_with_handling", "Dissatisfied with the handling"
    SLOW_PROGRESS = "slow_progress", "Slow progress"
    NO_UPDATE = "no_update", "No update"
    RCA_OVERDUE = "rca_overdue", "RCA overdue"
    DEADLINE_AT_RISK = "deadline_at_risk", "Deadline at risk"


class State(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATES = (State.REQUESTED, State.ACCEPTED)  # E-2


class Level(models.TextChoices):
    """Importance and urgency of an accepted escalation (E-8)."""

    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


LEVEL_RANK = {Level.HIGH: 3, Level.MEDIUM: 2, Level.LOW: 1}


def priority_score(importance: str, urgency: str) -> int:
    """The order of the accepted queue: important and urgent first (9) down to neither (1);
    an escalation not yet prioritised scores 0."""
    if not importance or not urgency:
        return 0
    return LEVEL_RANK[importance] * LEVEL_RANK[urgency]


class Escalation(ConcurrentTransitionMixin, TenantModel):
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="escalations_requested"
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    details = models.TextField()
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    state = FSMField(max_length=16, choices=State.choices, default=State.REQUESTED, protected=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_owned",
        help_text="The escalation owner (a care manager).",
    )
    importance = models.CharField(max_length=8, choices=Level.choices, blank=True)
    urgency = models.CharField(max_length=8, choices=Level.choices, blank=True)
    priority_score = models.PositiveSmallIntegerField(
        default=0, help_text="Importance × urgency (1–9); the accepted queue's order."
    )
    explanation = models.TextField(
        blank=True, help_text="Why it was rejected (shown to the customer)."
    )
    summary = models.TextField(blank=True, help_text="How it was resolved (shown to the customer).")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # E-2: the database refuses a second active escalation, whatever the race.
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(state__in=["requested", "accepted"]),
                name="escalation_one_active_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(explanation=""),
                name="escalation_rejected_has_explanation",
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | ~Q(summary=""),
                name="escalation_resolved_has_summary",
            ),
        ]
        indexes = [
            # The care manager's queues: requested (oldest first) and accepted (by score).
            models.Index(
                fields=["state", "-priority_score", "requested_at"], name="escalation_queue"
            ),
            models.Index(fields=["case", "-requested_at"], name="escalation_case"),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} of case {self.case_id}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    # Transitions change only this row; the services do the rest (locks, checks, history,
    # email).

    @transition(field=state, source=State.REQUESTED, target=State.ACCEPTED)
    def accept(
        self, *, by: User, owner: User, importance: str, urgency: str, now: datetime
    ) -> None:
        self.decided_by = by
        self.decided_at = now
        self.owner = owner
        self.importance = importance
        self.urgency = urgency
        self.priority_score = priority_score(importance, urgency)

    @transition(field=state, source=State.REQUESTED, target=State.REJECTED)
    def reject(self, *, by: User, explanation: str, now: datetime) -> None:
        self.decided_by = by
        self.decided_at = now
        self.explanation = explanation
        self.owner = self.owner or by

    @transition(field=state, source=State.ACCEPTED, target=State.RESOLVED)
    def resolve(self, *, summary: str, now: datetime) -> None:
        self.summary = summary
        self.resolved_at = now


class EscalationMessage(TenantModel):
    """An entry of the escalation feed (E-9): between the customer and the escalation owner,
    never mixed with the case feed."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    by_care = models.BooleanField(default=False)
    body = models.TextField()
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["escalation", "created_at"], name="escalation_msg_created")]

    def __str__(self) -> str:
        return f"Message on escalation {self.escalation_id}"
