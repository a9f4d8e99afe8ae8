"""Service levels (S-1 … S-8): due times stored on the case, recomputed on events.

Every target is a due time in a UTC column of the case (S-8). Nothing here reads the clock:
``now`` is a parameter, so the sweep's ``--now`` and the tests move time without patching.

- Opening a case computes its targets from its type, priority and the organization's
  support level (S-1 … S-5, S-7), on the organization's business calendar (B-1 … B-4).
- The first response (the first public care update or the take transition, which the
  services record in ``first_response_at``) decides ``response_met``.
- The resolution clock pauses in AWAITING INFO and SOLUTION PROPOSED (S-3): the time used so
  far is kept in ``resolution_consumed_seconds`` (business seconds for business-time
  targets, plain seconds for calendar ones) and on resume the due time is now plus what
  remains, counted the same way. While paused, ``resolution_due_at`` is null and
  ``sla_paused_since`` says since when. Solution Proposed or Closed decides
  ``resolution_met``; a case that comes back (the customer answers, a reopen) runs again
  with what remained, and is decided again.
- A change of priority, type, support level or calendar recomputes every target that is
  still running; the time already used is measured again from the case history under the
  new rule, so a change between calendar and business time counts correctly.
- Incidents (S-4): restoration is due 15 minutes after the case became an Incident;
  entering Pending RCA sets the RCA due 5 business days after restoration.

The case row is locked by the calling service; this module writes only its own columns,
with ``QuerySet.update()`` (never the state field).

The sweep (``sla_sweep``) then only compares stored instants: each open case carries the
target whose due time comes first (``sla_target``, ``sla_next_due_at``) and when it must be
looked at next (``sla_check_at``: when under 25% of the target is left, then the due time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts import roles
from accounts.models import Organization, SupportLevel, User
from accounts.selectors import business_calendar_for
from cases.models import (
    CLOSED_SUB_STATUSES,
    STATUS_OF,
    Case,
    CaseEvent,
    CaseType,
    Channel,
    Priority,
    SlaState,
    Status,
    SubStatus,
)
from core import business_time
from core.business_time import Calendar
from core.outbox.services import outbox_enqueue
from core.tenancy import scopes_disabled

CALENDAR = "calendar"
BUSINESS_HOURS = "business_hours"
BUSINESS_DAYS = "business_days"

AT_RISK_SHARE = 0.25  # S-6: at risk with under 25% of the target left
GOAL_SHARE = 0.80  # S-6: resolve over 80% of cases within target
SWEEP_BATCH = 200
RECOMPUTE_BATCH = 500

RESPONSE, RESOLUTION, RESTORATION, RCA = "response", "resolution", "restoration", "rca"
TARGET_LABELS = {
    RESPONSE: "First response",
    RESOLUTION: "Resolution",
    RESTORATION: "Service restoration",
    RCA: "Root cause analysis",
}
SR_LABELS = {RESPONSE: "Acknowledgement", RESOLUTION: "Accepted or rejected"}

# The SLA columns of the case; only these are written here.
SLA_FIELDS = (
    "response_due_at",
    "response_met",
    "resolution_due_at",
    "resolution_met",
    "restoration_due_at",
    "rca_due_at",
    "sla_paused_since",
    "resolution_consumed_seconds",
    "sla_state",
    "sla_target",
    "at_risk_notified_at",
    "breached_notified_at",
    "sla_next_due_at",
    "sla_check_at",
)
_STATE_RANK = {SlaState.OK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}
# Not needed to compute targets; not read by the batch jobs.
_LONG_TEXT = ("description", "business_impact", "search_vector")


# --- the rules (S-1 … S-5, S-7) -------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A length of time and the clock that counts it."""

    unit: str  # CALENDAR, BUSINESS_HOURS or BUSINESS_DAYS
    hours: timedelta = timedelta(0)  # CALENDAR and BUSINESS_HOURS
    days: int = 0  # BUSINESS_DAYS

    @property
    def business(self) -> bool:
        return self.unit != CALENDAR

    def seconds(self, cal: Calendar) -> float:
        """The target's length as its clock counts it (a business day is a working day's
        hours)."""
        if self.unit == BUSINESS_DAYS:
            return self.days * _working_day_seconds(cal)
        return self.hours.total_seconds()

    def due(self, cal: Calendar, start: datetime) -> datetime:
        """Due time of the target started at ``start`` (B-2, B-3)."""
        if self.unit == CALENDAR:
            return start + self.hours
        if self.unit == BUSINESS_HOURS:
            return business_time.add_business_hours(cal, start, self.hours)
        return business_time.add_business_days(cal, start, self.days)

    def describe(self) -> str:
        if self.unit == BUSINESS_DAYS:
            return f"{self.days} business day{'s' if self.days != 1 else ''}"
        if self.unit == BUSINESS_HOURS:
            return _duration_words(self.hours.total_seconds(), "business ")
        return _duration_words(self.hours.total_seconds())


def _calendar_hours(hours: float) -> Target:
    return Target(CALENDAR, hours=timedelta(hours=hours))


def _business_hours(hours: float) -> Target:
    return Target(BUSINESS_HOURS, hours=timedelta(hours=hours))


def _business_days(days: int) -> Target:
    return Target(BUSINESS_DAYS, days=days)


RESPONSE_TARGETS = {  # S-2
    Priority.CRITICAL: _calendar_hours(1),
    Priority.HIGH: _business_hours(2),
    Priority.MEDIUM: _business_hours(4),
    Priority.LOW: _business_days(1),
}
# S-5: BUSINESS_CARE_PLUS and PREMIUM answer 50% sooner for CRITICAL, HIGH and MEDIUM.
FAST_RESPONSE_TARGETS = {
    Priority.CRITICAL: _calendar_hours(0.5),
    Priority.HIGH: _business_hours(1),
    Priority.MEDIUM: _business_hours(2),
    Priority.LOW: _business_days(1),
}
FAST_RESPONSE_LEVELS = (SupportLevel.BUSINESS_CARE_PLUS, SupportLevel.PREMIUM)
RESOLUTION_TARGETS = {  # S-3
    Priority.CRITICAL: _calendar_hours(24),
    Priority.HIGH: _business_days(2),
    Priority.MEDIUM: _business_days(5),
    Priority.LOW: _business_days(10),
}
RESTORATION_TARGET = Target(CALENDAR, hours=timedelta(minutes=15))  # S-4
RCA_TARGET = _business_days(5)  # S-4
SR_ACKNOWLEDGEMENT = _business_days(1)  # S-7
SR_DECISION = _business_days(2)  # S-7
TARGET_TYPES = (CaseType.SUPPORT, CaseType.INCIDENT, CaseType.SERVICE_REQUEST)


@dataclass(frozen=True)
class Targets:
    response: Target | None = None
    resolution: Target | None = None
    restoration: Target | None = None
    rca: Target | None = None

    def of(self, name: str) -> Target | None:
        return getattr(self, name)


def targets_for(*, case_type: str, priority: str, support_level: str) -> Targets:
    """The targets that apply to a case (S-1 … S-5, S-7).

    A CARE organization has no response target at all, service requests' acknowledgement
    included (S-5: "not shown or measured"). The 50% shorter response of S-5 applies to
    the response targets of S-2; a service request's acknowledgement (S-7) does not depend
    on priority and keeps its business day.
    """
    measured = support_level != SupportLevel.CARE
    if case_type == CaseType.SERVICE_REQUEST:
        return Targets(response=SR_ACKNOWLEDGEMENT if measured else None, resolution=SR_DECISION)
    if case_type not in (CaseType.SUPPORT, CaseType.INCIDENT) or priority not in Priority.values:
        return Targets()
    response = None
    if measured:
        table = FAST_RESPONSE_TARGETS if support_level in FAST_RESPONSE_LEVELS else RESPONSE_TARGETS
        response = table[priority]
    incident = case_type == CaseType.INCIDENT
    return Targets(
        response=response,
        resolution=RESOLUTION_TARGETS[priority],
        restoration=RESTORATION_TARGET if incident else None,
        rca=RCA_TARGET if incident else None,
    )


def _working_day_seconds(cal: Calendar) -> float:
    day = date(2000, 1, 3)
    return (datetime.combine(day, cal.closes) - datetime.combine(day, cal.opens)).total_seconds()


def _duration_words(seconds: float, kind: str = "") -> str:
    """ "2 hours", "1 business hour 30 minutes", "15 minutes"."""
    minutes = max(0, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} {kind}hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} {kind if not hours else ''}minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


# --- clocks ---------------------------------------------------------------------------------

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
_UTC = Calendar(tz="UTC")
PAUSED_STATUSES = (Status.AWAITING_INFO, Status.SOLUTION_PROPOSED)  # S-3
ENDING_STATUSES = (Status.SOLUTION_PROPOSED, Status.CLOSED)  # S-3: resolution ends here


def resolution_clock(sub_status: str) -> str:
    status = STATUS_OF.get(sub_status)
    if status == Status.CLOSED:
        return STOPPED
    if status in PAUSED_STATUSES:
        return PAUSED
    return RUNNING


def _measure(cal: Calendar, target: Target, start: datetime, end: datetime) -> float:
    """Seconds the target's clock counts from start to end; negative if end is earlier."""
    if end < start:
        return -_measure(cal, target, end, start)
    if target.business:
        return business_time.business_seconds_between(cal, start, end)
    return (end - start).total_seconds()


def _advance(cal: Calendar, target: Target, start: datetime, seconds: float) -> datetime:
    """The instant at which the target's clock has counted ``seconds`` more."""
    amount = timedelta(seconds=max(0.0, seconds))
    if target.business:
        return business_time.add_business_hours(cal, start, amount)
    return start + amount


def _risk_at(cal: Calendar, target: Target, due: datetime, now: datetime) -> datetime:
    """When under 25% of the target will be left (now, if that is already so)."""
    left = _measure(cal, target, now, due) if due > now else 0.0
    return _advance(cal, target, now, left - AT_RISK_SHARE * target.seconds(cal))


# --- the context of one computation ----------------------------------------------------------


class _Context:
    """The organization's calendar and support level, read once and only when needed."""

    def __init__(
        self, case: Case, *, calendar: Calendar | None = None, level: str | None = None
    ) -> None:
        self.case = case
        # A service may call the hook twice for one change: what was read is kept on the
        # case instance for the second call.
        self._calendar = calendar or getattr(case, "_sla_calendar", None)
        self._level = level or getattr(case, "_sla_level", None)

    @property
    def calendar(self) -> Calendar:
        if self._calendar is None:
            self._calendar = business_calendar_for(self.case.organization_id)
            self.case._sla_calendar = self._calendar
        return self._calendar

    @property
    def level(self) -> str:
        if self._level is None:
            if Case.organization.is_cached(self.case):
                self._level = self.case.organization.support_level
            else:
                self._level = (
                    Organization.objects.filter(pk=self.case.organization_id)
                    .values_list("support_level", flat=True)
                    .first()
                    or SupportLevel.BUSINESS_CARE
                )
            self.case._sla_level = self._level
        return self._level

    @property
    def targets(self) -> Targets:
        return targets_for(
            case_type=self.case.type, priority=self.case.priority, support_level=self.level
        )


# --- the hook ---------------------------------------------------------------------------------


def sla_on_case_change(
    *, case: Case, changed: set[str], before_sub_status: str | None, now: datetime
) -> None:
    """Recompute the case's SLA columns after a change (S-8), in the service's transaction.

    ``changed`` as ``cases.lifecycle.after_case_change`` documents it. The case row is
    locked and saved by the caller; this writes only the SLA columns, and only those that
    changed.
    """
    if "opened" in changed and getattr(case, "_sla_set_before_insert", False):
        return  # sla_for_new_case already put the due times in the INSERT
    before = _values(case)
    ctx = _Context(case)
    if "opened" in changed:
        _retarget(case, ctx, now, history=[])
    elif changed & {"priority", "type"}:
        _retarget(case, ctx, now, history=_transitions([case.pk])[case.pk])
    if (
        "sub_status" in changed
        and before_sub_status is not None
        and before_sub_status != case.sub_status
    ):
        _on_transition(case, ctx, before_sub_status, now)
    _decide_response(case, now)
    _track(case, ctx, now)
    _write(case, before)


def sla_for_new_case(*, case: Case, now: datetime) -> None:
    """The service levels of a case about to be inserted (S-1 … S-4): set on the instance,
    so the INSERT carries them and no UPDATE follows. ``sla_on_case_change`` then has
    nothing left to do for the opening."""
    ctx = _Context(case)
    _retarget(case, ctx, now, history=[])
    _decide_response(case, now)
    _track(case, ctx, now)
    case._sla_set_before_insert = True


def sla_recompute_for_organization(*, organization: Organization, now: datetime) -> int:
    """Recompute the open cases of an organization after its support level or business
    calendar changed (S-5, S-8, B-1); returns how many cases changed.

    Reads and locks the open cases in batches, with the case history of each batch in one
    query, and writes the changes of a batch in one statement.
    """
    calendar = business_calendar_for(organization.pk)
    level = (
        Organization.objects.filter(pk=organization.pk)
        .values_list("support_level", flat=True)
        .get()
    )
    changed_total = 0
    with scopes_disabled(), transaction.atomic():
        ids = list(
            Case.unscoped.filter(organization_id=organization.pk)
            .exclude(status=Status.CLOSED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), RECOMPUTE_BATCH):
            chunk = ids[start : start + RECOMPUTE_BATCH]
            cases = list(
                Case.unscoped.select_for_update(of=("self",))
                .filter(pk__in=chunk)
                .exclude(status=Status.CLOSED)
                .defer(*_LONG_TEXT)
                .order_by("pk")
            )
            history = _transitions([c.pk for c in cases])
            dirty: list[Case] = []
            fields: set[str] = set()
            for case in cases:
                before = _values(case)
                ctx = _Context(case, calendar=calendar, level=level)
                _retarget(case, ctx, now, history=history[case.pk])
                _decide_response(case, now)
                _track(case, ctx, now)
                diff = {f for f in SLA_FIELDS if getattr(case, f) != before[f]}
                if diff:
                    dirty.append(case)
                    fields |= diff
            if dirty:
                Case.unscoped.bulk_update(dirty, sorted(fields))
            changed_total += len(dirty)
    return changed_total


def _values(case: Case) -> dict[str, Any]:
    return {f: getattr(case, f) for f in SLA_FIELDS}


def _write(case: Case, before: dict[str, Any]) -> None:
    changes = {f: getattr(case, f) for f in SLA_FIELDS if getattr(case, f) != before[f]}
    if changes:
        with scopes_disabled():
            Case.unscoped.filter(pk=case.pk).update(**changes)


# --- targets from the rules (opening, priority, type, level, calendar) --------------------


def _transitions(case_ids: Sequence[int]) -> dict[int, list[tuple[datetime, str, str]]]:
    """Each case's status changes, oldest first: (when, before, after)."""
    history: dict[int, list[tuple[datetime, str, str]]] = {pk: [] for pk in case_ids}
    if not case_ids:
        return history
    with scopes_disabled():
        rows = (
            CaseEvent.unscoped.filter(case_id__in=case_ids, kind=CaseEvent.Kind.TRANSITION)
            .order_by("case_id", "created_at", "id")
            .values_list("case_id", "created_at", "before", "after")
        )
        for case_id, at, before, after in rows:
            if isinstance(after, dict) and after.get("sub_status"):
                history[case_id].append(
                    (at, (before or {}).get("sub_status") or "", after["sub_status"])
                )
    return history


def _running_spans(
    case: Case, history: list[tuple[datetime, str, str]], now: datetime
) -> tuple[list[tuple[datetime, datetime]], datetime]:
    """The spans in which the resolution clock ran, and since when the case is in its
    current status."""
    # Without recorded changes (a case written directly, as seeding does) the case has been
    # in its current status since it was opened.
    status = (history[0][1] or SubStatus.NEW) if history else case.sub_status
    since = case.opened_at
    spans = []
    for at, _before, after in history:
        if resolution_clock(status) == RUNNING and at > since:
            spans.append((since, at))
        status, since = after, max(at, since)
    if resolution_clock(status) == RUNNING and now > since:
        spans.append((since, now))
    return spans, since


def _retarget(
    case: Case, ctx: _Context, now: datetime, *, history: list[tuple[datetime, str, str]]
) -> None:
    """Every target from the rules in force now, for a case that is not closed."""
    if case.sub_status in CLOSED_SUB_STATUSES:
        return
    targets = ctx.targets
    # Response: from the opening, until a response or a decision. A response given before
    # any due time was stored (cases written directly, as seeding does) is measured too.
    if case.response_met is None and (
        case.first_response_at is None or case.response_due_at is None
    ):
        case.response_due_at = (
            targets.response.due(ctx.calendar, case.opened_at) if targets.response else None
        )
    # Resolution: the time used so far is measured again under the rule in force.
    target = targets.resolution
    clock = resolution_clock(case.sub_status)
    if target is None:
        case.resolution_due_at = None
        case.sla_paused_since = None
        case.resolution_consumed_seconds = 0
        if case.resolution_met is not None and clock == RUNNING:
            case.resolution_met = None
    else:
        spans, since = _running_spans(case, history, now)
        cal = ctx.calendar
        consumed = sum(_measure(cal, target, a, b) for a, b in spans)
        case.resolution_consumed_seconds = consumed
        if clock == RUNNING:
            case.sla_paused_since = None
            if all(resolution_clock(after) == RUNNING for _at, _before, after in history):
                # Never stopped since the opening: the plain rule (B-2 for days).
                case.resolution_due_at = target.due(cal, case.opened_at)
            else:
                case.resolution_due_at = _advance(cal, target, now, target.seconds(cal) - consumed)
        else:
            case.resolution_due_at = None
            case.sla_paused_since = case.sla_paused_since or since
            if STATUS_OF[case.sub_status] in ENDING_STATUSES and case.resolution_met is None:
                case.resolution_met = consumed <= target.seconds(cal)
    # Incidents (S-4).
    if targets.restoration is not None and case.restored_at is None:
        if case.restoration_due_at is None:
            case.restoration_due_at = targets.restoration.due(ctx.calendar, now)
    elif targets.restoration is None:
        case.restoration_due_at = None
    if targets.rca is not None and case.sub_status == SubStatus.PENDING_RCA:
        case.rca_due_at = targets.rca.due(ctx.calendar, case.restored_at or now)
    elif targets.rca is None:
        case.rca_due_at = None


# --- status changes: pause, resume, end ------------------------------------------------------


def _on_transition(case: Case, ctx: _Context, before_sub_status: str, now: datetime) -> None:
    targets = ctx.targets
    target = targets.resolution
    was, now_clock = resolution_clock(before_sub_status), resolution_clock(case.sub_status)
    if target is not None and was != now_clock:
        cal = ctx.calendar
        total = target.seconds(cal)
        if was == RUNNING and case.resolution_due_at is not None:
            due = case.resolution_due_at
            case.resolution_consumed_seconds = total - _measure(cal, target, now, due)
            if now > due and case.resolution_met is None:
                case.resolution_met = False  # the clock ran past the due time: missed
            case.resolution_due_at = None
        if now_clock == RUNNING:
            left = total - case.resolution_consumed_seconds
            case.resolution_due_at = _advance(cal, target, now, left) if left > 0 else now
            if case.resolution_met:
                case.resolution_met = None  # back at work: decided again at the next end
        case.sla_paused_since = now if now_clock == PAUSED else None
    if (
        target is not None
        and STATUS_OF[case.sub_status] in ENDING_STATUSES
        and case.resolution_met is None
    ):
        case.resolution_met = case.resolution_consumed_seconds <= target.seconds(ctx.calendar)
    if (
        targets.rca is not None
        and case.sub_status == SubStatus.PENDING_RCA
        and case.rca_due_at is None
    ):
        case.rca_due_at = targets.rca.due(ctx.calendar, case.restored_at or now)


def _decide_response(case: Case, now: datetime) -> None:
    """The first response decides the response target (S-2). A case closed without one
    missed it if it was already overdue; closed in time, it is not measured."""
    if case.response_met is not None or case.response_due_at is None:
        return
    if case.first_response_at is not None:
        case.response_met = case.first_response_at <= case.response_due_at
    elif case.sub_status in CLOSED_SUB_STATUSES and now > case.response_due_at:
        case.response_met = False


# --- what the sweep watches ------------------------------------------------------------------


def running_targets(case: Case) -> list[tuple[str, datetime]]:
    """The targets whose clock runs now, with their due times."""
    if case.sub_status in CLOSED_SUB_STATUSES:
        return []
    out = []
    if case.restoration_due_at and case.restored_at is None and case.type == CaseType.INCIDENT:
        out.append((RESTORATION, case.restoration_due_at))
    if case.response_due_at and case.response_met is None and case.first_response_at is None:
        out.append((RESPONSE, case.response_due_at))
    if case.rca_due_at and case.sub_status == SubStatus.PENDING_RCA:
        out.append((RCA, case.rca_due_at))
    if case.resolution_due_at and case.sla_paused_since is None:
        out.append((RESOLUTION, case.resolution_due_at))
    return out


def _track(case: Case, ctx: _Context, now: datetime) -> None:
    """Point the sweep at the target due first. The state (and its notification) is kept
    when it still holds for the same target, so a recompute never notifies twice; otherwise
    it starts again from "ok" and the sweep notifies what holds now."""
    running = running_targets(case)
    if not running:
        case.sla_next_due_at = None
        case.sla_check_at = None
        if case.sla_target != RESOLUTION or case.sub_status in CLOSED_SUB_STATUSES:
            _reset_state(case)
            case.sla_target = ""
        # Resolution paused: its state is kept for when the clock runs again.
        return
    name, due = min(running, key=lambda item: (item[1], item[0]))
    target = ctx.targets.of(name)
    if target is None:
        risk = due
    else:
        # A calendar target's arithmetic does not look at the calendar: do not read it.
        risk = _risk_at(ctx.calendar if target.business else _UTC, target, due, now)
    case.sla_next_due_at = due
    same = case.sla_target == name
    if same and case.sla_state == SlaState.BREACHED and due <= now:
        case.sla_check_at = None
    elif same and case.sla_state == SlaState.AT_RISK and risk <= now:
        case.sla_check_at = due
    else:
        _reset_state(case)
        case.sla_check_at = risk
    case.sla_target = name


def _reset_state(case: Case) -> None:
    case.sla_state = SlaState.OK
    case.at_risk_notified_at = None
    case.breached_notified_at = None


# --- the sweep ----------------------------------------------------------------------------------


def sla_sweep(*, now: datetime, batch_size: int = SWEEP_BATCH) -> int:
    """Mark open cases at risk (under 25% of the target left) or breached, once per state,
    and notify care (S-6); returns how many cases changed state.

    Reads only the cases whose check is due, through the partial index on
    ``sla_check_at``, in batches locked with ``skip_locked`` so two sweeps never handle the
    same case. After an outage a case that passed both thresholds is marked breached
    directly, with one notification. Every handled case leaves the due set (its next check
    is its due time, or none), so the loop ends.
    """
    changed = 0
    managers: list[str] | None = None
    with scopes_disabled():
        while True:
            with transaction.atomic():
                batch = list(
                    Case.unscoped.select_for_update(skip_locked=True, of=("self",))
                    .select_related("organization", "owner")
                    .defer(*_LONG_TEXT)
                    .filter(sla_check_at__lte=now)
                    .exclude(status=Status.CLOSED)
                    .order_by("sla_check_at", "pk")[:batch_size]
                )
                for case in batch:
                    state = _sweep_state(case, now)
                    if state is None:
                        continue
                    if managers is None and (case.owner_id is None or not case.owner.is_active):
                        managers = _care_manager_addresses()
                    _notify(case, state, now, managers or [])
                    changed += 1
            if len(batch) < batch_size:
                return changed


def _sweep_state(case: Case, now: datetime) -> str | None:
    """Advance the case's state under the lock; the new state if it changed."""
    due = case.sla_next_due_at
    if due is None or case.sub_status in CLOSED_SUB_STATUSES:
        Case.unscoped.filter(pk=case.pk).update(sla_check_at=None)
        return None
    wanted = SlaState.BREACHED if due <= now else SlaState.AT_RISK
    if _STATE_RANK[wanted] <= _STATE_RANK[SlaState(case.sla_state)]:
        check = None if case.sla_state == SlaState.BREACHED else due
        Case.unscoped.filter(pk=case.pk).update(sla_check_at=check)
        return None
    updates: dict[str, Any] = {"sla_state": wanted}
    if wanted == SlaState.BREACHED:
        updates.update(breached_notified_at=now, sla_check_at=None)
    else:
        updates.update(at_risk_notified_at=now, sla_check_at=due)
    Case.unscoped.filter(pk=case.pk).update(**updates)
    before = case.sla_state
    for field, value in updates.items():
        setattr(case, field, value)
    CaseEvent.unscoped.create(
        organization_id=case.organization_id,
        case_id=case.pk,
        actor=None,
        kind=CaseEvent.Kind.SLA,
        channel=Channel.SYSTEM,
        before={"sla_state": before},
        after={"sla_state": wanted, "target": case.sla_target, "due_at": due.isoformat()},
        internal=True,
        created_at=now,
    )
    return wanted


def _care_manager_addresses() -> list[str]:
    """Every active care manager. Product groups have no managers of their own yet, so an
    unowned case's alert goes to all of them."""
    return list(
        User.objects.filter(is_active=True, is_staff=True, groups__name=roles.CARE_MANAGER)
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def _notify(case: Case, state: str, now: datetime, managers: list[str]) -> None:
    owned = case.owner_id is not None and case.owner.is_active
    recipients = [case.owner.email] if owned else managers
    due = case.sla_next_due_at
    label = target_label(case, case.sla_target).lower()
    what = "is at risk" if state == SlaState.AT_RISK else "is breached"
    subject = f"[SLA] Case {case.display_number}: {label} target {what}"
    lines = [
        f"Case {case.display_number} ({case.organization.name}): the {label} target {what}.",
        "",
        f"Subject: {case.subject}",
        f"Priority: {case.get_priority_display()}",
        f"Due: {due.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"Status: {case.get_status_display()} · {case.get_sub_status_display()}",
    ]
    if owned:
        lines.append("You own this case.")
    else:
        lines.append(
            "The case has no owner. Product groups have no managers of their own yet, so "
            "every care manager receives this alert."
        )
    link = settings.SITE_URL + reverse("admin:cases_case_change", args=[case.pk])
    lines += ["", f"Open it in the care workspace: {link}"]
    outbox_enqueue(
        organization_id=case.organization_id,
        key=f"sla-{case.pk}-{case.sla_target}-{state}-{due.astimezone(UTC):%Y%m%dT%H%M%S}",
        to=recipients,
        subject=subject,
        text="\n".join(lines) + "\n",
        case_id=case.pk,
        message_id_hint=f"sla-{case.number:08d}",
        now=now,
    )


# --- what people are shown --------------------------------------------------------------------


def target_label(case: Case, name: str) -> str:
    if case.type == CaseType.SERVICE_REQUEST and name in SR_LABELS:
        return SR_LABELS[name]
    return TARGET_LABELS.get(name, name)


def shows_response(case: Case) -> bool:
    """S-5: a CARE organization is shown no response target."""
    return case.organization.support_level != SupportLevel.CARE


def sla_summary(case: Case) -> dict[str, Any]:
    """The API's ``sla`` block: stored values only; null where a target does not apply."""
    response = shows_response(case)
    paused = case.sla_paused_since is not None and case.sub_status not in CLOSED_SUB_STATUSES
    return {
        "response_due_at": case.response_due_at if response else None,
        "response_met": case.response_met if response else None,
        "resolution_due_at": case.resolution_due_at,
        "resolution_met": case.resolution_met,
        "paused": paused,
        "paused_since": case.sla_paused_since if paused else None,
    }


@dataclass(frozen=True)
class SlaRow:
    """One target as the case page shows it."""

    key: str
    label: str
    target: str
    due_at: datetime | None
    met: bool | None
    paused_since: datetime | None = None
    left: str = ""
    done_at: datetime | None = None
    note: str = ""


def sla_rows(case: Case) -> list[SlaRow]:
    """The targets that apply to the case, from the stored values (S-8): due times, met or
    not, and whether the resolution clock is paused, since when and how much is left."""
    targets = targets_for(
        case_type=case.type,
        priority=case.priority,
        support_level=case.organization.support_level,
    )
    rows = []
    if targets.restoration is not None and case.restoration_due_at is not None:
        met = None if case.restored_at is None else case.restored_at <= case.restoration_due_at
        rows.append(
            SlaRow(
                RESTORATION,
                target_label(case, RESTORATION),
                targets.restoration.describe(),
                case.restoration_due_at,
                met,
                done_at=case.restored_at,
            )
        )
    if targets.response is not None and (case.response_due_at or case.response_met is not None):
        unanswered = case.response_met is None and case.sub_status in CLOSED_SUB_STATUSES
        rows.append(
            SlaRow(
                RESPONSE,
                target_label(case, RESPONSE),
                targets.response.describe(),
                case.response_due_at,
                case.response_met,
                done_at=case.first_response_at,
                note="Not measured: the case was closed before it was due." if unanswered else "",
            )
        )
    if targets.resolution is not None:
        paused = case.sla_paused_since is not None and case.sub_status not in CLOSED_SUB_STATUSES
        left = ""
        if paused:
            target = targets.resolution
            cal = business_calendar_for(case.organization_id) if target.business else _UTC
            seconds = max(0.0, target.seconds(cal) - case.resolution_consumed_seconds)
            left = _duration_words(seconds, "business " if target.business else "")
        rows.append(
            SlaRow(
                RESOLUTION,
                target_label(case, RESOLUTION),
                targets.resolution.describe(),
                case.resolution_due_at,
                case.resolution_met,
                paused_since=case.sla_paused_since if paused else None,
                left=left,
            )
        )
    if targets.rca is not None and case.rca_due_at is not None:
        met = None if case.rca_delivered_at is None else case.rca_delivered_at <= case.rca_due_at
        rows.append(
            SlaRow(
                RCA,
                target_label(case, RCA),
                targets.rca.describe(),
                case.rca_due_at,
                met,
                done_at=case.rca_delivered_at,
            )
        )
    return rows
