"""Follow-up timers start and stop (F-1, F-5) inside the case service's own transaction.

Every case service calls ``cases.services.lifecycle.after_case_change``, which calls
``followup_on_case_change``. This module is a timer primitive of the case layer: it imports
nothing of ``cases`` but its models, so the case services can import it (the sweep, which
acts on timers and closes cases, is ``followups.sweep``, above them).
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from accounts.selectors import business_calendar_for
from cases.models import AWAITING_CUSTOMER, Case, SubStatus
from core.business_time import add_business_days
from followups.models import CLOSE_DAYS, REMINDER_1_DAYS, REMINDER_2_DAYS, FollowUpTimer


def followup_on_case_change(
    *,
    case: Case,
    changed: set[str],
    before_sub_status: str | None,
    actor: User | None,
    now: datetime,
) -> None:
    """Start a timer when the case starts waiting for the customer (F-1); stop it on any
    customer response, reopen or transition out of the awaiting state (F-5)."""
    status_changed = "sub_status" in changed and before_sub_status != case.sub_status
    if status_changed and case.sub_status in AWAITING_CUSTOMER:
        # No transition goes straight from one awaiting state to the other today; if one
        # ever does, the new request gets its own, fresh timer.
        followup_stop(case=case, now=now, reason=FollowUpTimer.StopReason.NEW_REQUEST)
        followup_start(case=case, now=now)
    elif "customer_update" in changed or (
        status_changed and case.sub_status == SubStatus.CUSTOMER_RESPONDED
    ):
        followup_stop(case=case, now=now, reason=FollowUpTimer.StopReason.CUSTOMER_RESPONDED)
    elif status_changed:
        followup_stop(case=case, now=now, reason=FollowUpTimer.StopReason.CASE_MOVED_ON)


def followup_start(*, case: Case, now: datetime) -> FollowUpTimer:
    """A fresh timer for the request the case is waiting on (F-1 … F-4). Due times are
    business days on the organization's calendar, stored in UTC (B-2, B-4)."""
    calendar = business_calendar_for(case.organization)
    reminder1 = add_business_days(calendar, now, REMINDER_1_DAYS)
    return FollowUpTimer.unscoped.create(
        organization_id=case.organization_id,
        case=case,
        reason=FollowUpTimer.Reason(case.sub_status),
        started_at=now,
        reminder1_due_at=reminder1,
        reminder2_due_at=add_business_days(calendar, now, REMINDER_2_DAYS),
        close_due_at=add_business_days(calendar, now, CLOSE_DAYS),
        next_due_at=reminder1,
        created_at=now,
    )


def followup_stop(*, case: Case, now: datetime, reason: str) -> int:
    """Stop the case's running timer, if any; returns how many were stopped (0 or 1).

    The caller holds the case lock: lock order is the case, then its timer (the sweep,
    which finds the timer first, takes the case with ``skip_locked`` instead of waiting)."""
    return FollowUpTimer.unscoped.filter(case_id=case.pk, stopped_at__isnull=True).update(
        stopped_at=now, stop_reason=reason, next_due_at=None
    )
