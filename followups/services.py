"""Automated follow-ups (F-1 … F-7) on business-day timers.

A timer starts and stops inside the case service's own transaction: every service calls
``cases.lifecycle.after_case_change``, which calls ``followup_on_case_change``. The sweep
performs what is due; it is safe to run from any number of workers at once and to repeat.

Lock order is the case row, then its timer: the case services lock the case and then stop
the timer. The sweep finds the timer first, so it never waits for a case lock: it takes it
with ``skip_locked`` and leaves a case that someone is changing right now to its next run.
Waiting there would deadlock with a service that holds the case and waits for the timer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from accounts.models import BusinessCalendar, User
from accounts.selectors import business_calendar_for
from cases.models import AWAITING_CUSTOMER, Case, CaseEvent, Channel, SubStatus
from cases.services import case_auto_close
from core.business_time import add_business_days
from core.tenancy import scopes_disabled
from followups import emails
from followups.models import (
    ACTIVE,
    CLOSE_DAYS,
    REMINDER_1_DAYS,
    REMINDER_2_DAYS,
    FollowUpStep,
    FollowUpTimer,
)

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
LAST_STEP = 3


# --- start and stop (F-1, F-5) ----------------------------------------------------------


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
        _stop(case, now=now, reason=FollowUpTimer.StopReason.NEW_REQUEST)
        followup_start(case=case, now=now)
    elif "customer_update" in changed or (
        status_changed and case.sub_status == SubStatus.CUSTOMER_RESPONDED
    ):
        _stop(case, now=now, reason=FollowUpTimer.StopReason.CUSTOMER_RESPONDED)
    elif status_changed:
        _stop(case, now=now, reason=FollowUpTimer.StopReason.CASE_MOVED_ON)


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


def _stop(case: Case, *, now: datetime, reason: str) -> int:
    return FollowUpTimer.unscoped.filter(case_id=case.pk, stopped_at__isnull=True).update(
        stopped_at=now, stop_reason=reason, next_due_at=None
    )


# --- the sweep (F-2 … F-4, F-6, F-7) ----------------------------------------------------


class Outcome(Enum):
    PERFORMED = "performed"
    STOPPED = "stopped"  # the case had moved on: no step, the timer is over
    BUSY = "busy"  # the case or timer is held by someone else, or the step failed: next run


@dataclass
class _SweepRun:
    now: datetime
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    passed: set[int] = field(default_factory=set)


def due_timers(*, now: datetime) -> QuerySet:
    """The sweep's read: ids of running timers whose next step is due, oldest first,
    without locks. Served by the partial index ``followup_due``, which holds running timers
    only, so the cost follows the due rows, not the table (bench/followups_sweep.py)."""
    return (
        FollowUpTimer.unscoped.filter(ACTIVE, next_due_at__lte=now)
        .order_by("next_due_at")
        .values_list("pk", flat=True)
    )


def due_timer_for_update(*, pk: int, now: datetime) -> QuerySet[FollowUpTimer]:
    """The timer, to be locked, if it is still running and due; a row another sweep holds
    is skipped, not waited for. Ordered by key: the model's ordering would add a sort."""
    return (
        FollowUpTimer.unscoped.select_for_update(skip_locked=True, of=("self",))
        .filter(ACTIVE, pk=pk, next_due_at__lte=now)
        .order_by("pk")
    )


def followup_sweep(*, now: datetime, batch: int = SWEEP_BATCH) -> int:
    """Perform every follow-up step due at ``now``; returns how many were performed.

    Reads the due timers ``batch`` at a time, then handles each in its own short
    transaction: lock the timer with ``skip_locked`` and check it is still due, lock the
    case, act, commit. Sweeps running at once share the work instead of queueing; a case
    is held only for the time of its own step (a round-long transaction held hundreds of
    cases for seconds: bench/RESULTS.md); a worker killed mid-batch loses only the step
    under way, which the next sweep redoes. A timer passed over (its case busy, another
    sweep holding it, an error) is left to the next run.

    After an outage only the highest due step is performed (the issue's acceptance: one
    reminder or the close, never a burst of stale reminders); the steps it passes over are
    named in the history event. Due times never move, so the remaining steps keep their
    dates.
    """
    run = _SweepRun(now=now)
    performed = 0
    delay = float(getattr(settings, "FOLLOWUP_SWEEP_STEP_DELAY", 0) or 0)
    with scopes_disabled():
        while True:
            due = due_timers(now=now)
            if run.passed:
                due = due.exclude(pk__in=run.passed)
            ids = list(due[:batch])
            if not ids:
                break
            for pk in ids:
                outcome = _attempt(pk, run, delay)
                if outcome is Outcome.PERFORMED:
                    performed += 1
                elif outcome is Outcome.BUSY:
                    run.passed.add(pk)
    return performed


def _attempt(pk: int, run: _SweepRun, delay: float) -> Outcome:
    try:
        with transaction.atomic():
            timer = due_timer_for_update(pk=pk, now=run.now).first()
            if timer is None:
                return Outcome.BUSY  # another sweep has it, or it was just done
            outcome = _step(timer, run)
            if delay:
                # Fault tests only (tests/followups/worker_settings.py): holds the
                # transaction open so a killed worker dies in the middle of a step.
                time.sleep(delay)
            return outcome
    except Exception:  # one broken case must not stop the sweep; logged for care
        log.exception("Follow-up timer %s failed; it stays due.", pk)
        return Outcome.BUSY


def _step(timer: FollowUpTimer, run: _SweepRun) -> Outcome:
    now = run.now
    case = (
        Case.unscoped.select_for_update(skip_locked=True, of=("self",))
        .select_related("contact")
        .defer("search_vector", "description", "business_impact")  # kilobytes, unused here
        .filter(pk=timer.case_id)
        .order_by()
        .first()
    )
    if case is None:
        return Outcome.BUSY
    if case.sub_status != timer.reason:
        # The request is over even if no service said so (a direct write): never remind
        # the customer about it.
        _finish(timer, now=now, reason=FollowUpTimer.StopReason.CASE_MOVED_ON)
        return Outcome.STOPPED
    step = max(s for s in range(1, LAST_STEP + 1) if timer.due_at(s) <= now)
    if step <= timer.steps_done:
        # Cannot happen through this module; repaired rather than repeated.
        _reschedule(timer, now=now)
        return Outcome.STOPPED
    skipped = list(range(timer.steps_done + 1, step))
    # The unique (timer, step) key: a repeat fails here and its transaction rolls back.
    FollowUpStep.unscoped.create(
        organization_id=timer.organization_id,
        timer=timer,
        step=step,
        due_at=timer.due_at(step),
        done_at=now,
    )
    CaseEvent.unscoped.create(
        organization_id=case.organization_id,
        case=case,
        actor=None,
        kind=CaseEvent.Kind.FOLLOW_UP,
        channel=Channel.SYSTEM,
        before={"steps_done": timer.steps_done},
        after={
            "step": step,
            "timer": timer.pk,
            "due_at": timer.due_at(step).isoformat(),
            "skipped": skipped,
        },
        created_at=now,
    )
    zone = _zone(case, run)
    if step < LAST_STEP:
        timer.steps_done = step
        timer.next_due_at = timer.due_at(step + 1)
        timer.save(update_fields=["steps_done", "next_due_at"])
        emails.followup_reminder(case=case, timer=timer, step=step, zone=zone, now=now)
        return Outcome.PERFORMED
    timer.steps_done = LAST_STEP
    _finish(timer, now=now, reason=FollowUpTimer.StopReason.AUTO_CLOSED)
    case, _ = case_auto_close(case=case, now=now)
    emails.followup_closed(case=case, timer=timer, zone=zone, now=now)
    return Outcome.PERFORMED


def _finish(timer: FollowUpTimer, *, now: datetime, reason: str) -> None:
    timer.stopped_at = now
    timer.stop_reason = reason
    timer.next_due_at = None
    timer.save(update_fields=["steps_done", "stopped_at", "stop_reason", "next_due_at"])


def _reschedule(timer: FollowUpTimer, *, now: datetime) -> None:
    if timer.steps_done >= LAST_STEP:
        _finish(timer, now=now, reason=FollowUpTimer.StopReason.AUTO_CLOSED)
        return
    timer.next_due_at = timer.due_at(timer.steps_done + 1)
    timer.save(update_fields=["next_due_at"])


def _zone(case: Case, run: _SweepRun) -> ZoneInfo:
    """Where the contact reads times (B-5): their profile's zone, else the organization's."""
    name = case.contact.time_zone
    if not name:
        if case.organization_id not in run.zones:
            org_zone = (
                BusinessCalendar.unscoped.filter(organization_id=case.organization_id)
                .values_list("time_zone", flat=True)
                .first()
            )
            run.zones[case.organization_id] = _zone_named(org_zone)
        return run.zones[case.organization_id]
    return _zone_named(name)


def _zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
