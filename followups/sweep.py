"""The follow-up sweep (F-2 … F-4, F-6, F-7): performs the steps that are due.

It is safe to run from any number of workers at once and to repeat. Lock order is the case
row, then its timer: the case services lock the case and then stop the timer
(``followups.timers``). The sweep finds the timer first, so it never waits for a case lock: it
takes it with ``skip_locked`` and leaves a case that someone is changing right now to its next
run. Waiting there would deadlock with a service that holds the case and waits for the timer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import BusinessCalendar
from cases.models import Case, CaseEvent, Channel
from cases.services.care import case_auto_close
from cases.services.history import case_event_record
from core.tenancy import scopes_disabled
from followups import emails
from followups.models import ACTIVE, FollowUpStep, FollowUpTimer

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
LAST_STEP = 3


class Outcome(Enum):
    """What became of one due timer in a sweep."""

    PERFORMED = "performed"  # a reminder or the close was done
    STOPPED = "stopped"  # the case had moved on: no step, the timer is over
    LOCKED = "locked"  # another sweep or a request holds the timer or its case: next run
    FAILED = "failed"  # the step raised; rolled back and logged, the timer stays due


@dataclass
class SweepRun:
    """One sweep's state: its time, the zones it looked up, the timers it passed over."""

    now: datetime
    zones: dict[int, ZoneInfo] = field(default_factory=dict)
    passed: set[int] = field(default_factory=set)
    failed: int = 0


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
    under way, which the next sweep redoes. A timer held by someone else is left to the
    next run; one whose step fails is logged and left to the next run too.

    After an outage only the highest due step is performed (the issue's acceptance: one
    reminder or the close, never a burst of stale reminders); the steps it passes over are
    named in the history event. Due times never move, so the remaining steps keep their
    dates.
    """
    run = SweepRun(now=now)
    performed = 0
    with scopes_disabled():
        while True:
            due = due_timers(now=now)
            if run.passed:
                due = due.exclude(pk__in=run.passed)
            ids = list(due[:batch])
            if not ids:
                break
            for pk in ids:
                outcome = _attempt(pk, run)
                if outcome is Outcome.PERFORMED:
                    performed += 1
                elif outcome is Outcome.LOCKED:
                    run.passed.add(pk)  # someone else is on it: not an error
                elif outcome is Outcome.FAILED:
                    run.passed.add(pk)
                    run.failed += 1
    if run.failed:
        log.error(
            "%d follow-up timer(s) failed as of %s and stay due; the errors are logged above.",
            run.failed,
            now.isoformat(),
        )
    return performed


def _attempt(pk: int, run: SweepRun) -> Outcome:
    try:
        with transaction.atomic():
            timer = due_timer_for_update(pk=pk, now=run.now).first()
            if timer is None:
                # Another sweep holds it, or has just performed its step.
                return Outcome.LOCKED
            return followup_step(timer=timer, run=run)
    except Exception:  # one broken case must not stop the sweep; logged for care
        log.exception("Follow-up timer %s failed; it stays due.", pk)
        return Outcome.FAILED


def followup_step(*, timer: FollowUpTimer, run: SweepRun) -> Outcome:
    """Perform the due step of a locked, due timer, in the caller's transaction."""
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
        return Outcome.LOCKED
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
    case_event_record(
        case=case,
        actor=None,
        kind=CaseEvent.Kind.FOLLOW_UP,
        channel=Channel.SYSTEM,
        now=now,
        before={"steps_done": timer.steps_done},
        after={
            "step": step,
            "timer": timer.pk,
            "due_at": timer.due_at(step).isoformat(),
            "skipped": skipped,
        },
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


def _zone(case: Case, run: SweepRun) -> ZoneInfo:
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
