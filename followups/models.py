"""Follow-up timers (F-1 … F-7).

A timer starts when care asks the customer for something and carries the due times of its
three steps, computed once on the organization's business calendar and stored in UTC. The
sweep reads only ``next_due_at`` of active timers through a partial index, so its cost
follows the number of due rows, not the number of cases. ``FollowUpStep`` is the record
that a step happened; its unique key is what makes a step happen at most once per timer
(F-6), whatever the number of workers or retries.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import F, Q

from core.tenancy import TenantModel

REMINDER_1_DAYS = 2  # F-2
REMINDER_2_DAYS = 5  # F-3
CLOSE_DAYS = 10  # F-4

ACTIVE = Q(stopped_at__isnull=True, next_due_at__isnull=False)


class FollowUpTimer(TenantModel):
    class Reason(models.TextChoices):
        # The wire values are the sub-statuses that start a timer.
        INFO_REQUIRED = "info_required", "Information requested"
        SOLUTION_PROPOSED = "solution_proposed", "Solution proposed"

    class StopReason(models.TextChoices):
        CUSTOMER_RESPONDED = "customer_responded", "The customer responded"
        CASE_MOVED_ON = "case_moved_on", "The case left the awaiting state"
        NEW_REQUEST = "new_request", "A new request started another timer"
        AUTO_CLOSED = "auto_closed", "Closed for no customer response"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="followups")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    started_at = models.DateTimeField()
    reminder1_due_at = models.DateTimeField()
    reminder2_due_at = models.DateTimeField()
    close_due_at = models.DateTimeField()
    next_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next step is due; empty once stopped."
    )
    steps_done = models.PositiveSmallIntegerField(
        default=0, help_text="The last step performed (0: none yet, 3: closed)."
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=24, choices=StopReason.choices, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "follow-up timer"
        indexes = [
            # The sweep's only read: due rows of active timers, oldest first.
            models.Index(fields=["next_due_at"], name="followup_due", condition=ACTIVE),
            models.Index(fields=["case", "-started_at"], name="followup_case_started"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(stopped_at__isnull=True),
                name="followup_one_active_per_case",
            ),
            models.CheckConstraint(
                condition=Q(steps_done__lte=3), name="followup_steps_done_at_most_3"
            ),
            # Running and stopped are exclusive: a stopped timer is never due again.
            models.CheckConstraint(
                condition=Q(stopped_at__isnull=True, next_due_at__isnull=False)
                | Q(stopped_at__isnull=False, next_due_at__isnull=True),
                name="followup_due_only_while_running",
            ),
            models.CheckConstraint(
                condition=Q(started_at__lte=F("reminder1_due_at"))
                & Q(reminder1_due_at__lte=F("reminder2_due_at"))
                & Q(reminder2_due_at__lte=F("close_due_at")),
                name="followup_steps_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up of case {self.case_id} from {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.stopped_at is None

    def due_at(self, step: int) -> datetime:
        return {1: self.reminder1_due_at, 2: self.reminder2_due_at, 3: self.close_due_at}[step]


class FollowUpStep(TenantModel):
    """A follow-up step that happened (F-6, F-7): reminder 1, reminder 2 or the close."""

    class Step(models.IntegerChoices):
        REMINDER_1 = 1, "First reminder"
        REMINDER_2 = 2, "Second reminder"
        CLOSE = 3, "Closed for no response"

    timer = models.ForeignKey(FollowUpTimer, on_delete=models.CASCADE, related_name="steps")
    step = models.PositiveSmallIntegerField(choices=Step.choices)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField()

    class Meta:
        ordering = ["timer", "step"]
        verbose_name = "follow-up step"
        constraints = [
            models.UniqueConstraint(fields=["timer", "step"], name="followup_step_once"),
            models.CheckConstraint(
                condition=Q(step__gte=1, step__lte=3), name="followup_step_1_to_3"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()} of timer {self.timer_id}"
