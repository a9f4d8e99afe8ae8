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
with ``QuerySet.update()`` (never the state field). It also points the sweep
(``cases.sla.sweep``) at the target due first and says when to look at the case next.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from accounts.models import Organization, SupportLevel
from accounts.selectors import business_calendar_for
from cases.models import (
    CLOSED_SUB_STATUSES,
    Case,
    CaseEvent,
    CaseType,
    SlaState,
    Status,
    SubStatus,
)
from cases.sla.clock import UTC_CALENDAR, advance, measure, risk_at
from cases.sla.targets import (
    AT_RISK_SHARE,
    PAUSED,
    RCA,
    RESOLUTION,
    RESPONSE,
    RESTORATION,
    RUNNING,
    Targets,
    ends_resolution,
    resolution_clock,
    targets_for,
)
from core.business_time import Calendar
from core.tenancy import scopes_disabled

RECOMPUTE_BATCH = 500

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
# Not needed to compute targets; not read by the batch jobs.
LONG_TEXT = ("description", "business_impact", "search_vector")


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

    ``changed`` as ``cases.services.lifecycle.after_case_change`` documents it. The case row is
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
                .defer(*LONG_TEXT)
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
        consumed = sum(measure(cal, target, a, b) for a, b in spans)
        case.resolution_consumed_seconds = consumed
        if clock == RUNNING:
            case.sla_paused_since = None
            if all(resolution_clock(after) == RUNNING for _at, _before, after in history):
                # Never stopped since the opening: the plain rule (B-2 for days).
                case.resolution_due_at = target.due(cal, case.opened_at)
            else:
                case.resolution_due_at = advance(cal, target, now, target.seconds(cal) - consumed)
        else:
            case.resolution_due_at = None
            case.sla_paused_since = case.sla_paused_since or since
            if ends_resolution(case.sub_status) and case.resolution_met is None:
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
            case.resolution_consumed_seconds = total - measure(cal, target, now, due)
            if now > due and case.resolution_met is None:
                case.resolution_met = False  # the clock ran past the due time: missed
            case.resolution_due_at = None
        if now_clock == RUNNING:
            left = total - case.resolution_consumed_seconds
            case.resolution_due_at = advance(cal, target, now, left) if left > 0 else now
            if case.resolution_met:
                case.resolution_met = None  # back at work: decided again at the next end
        case.sla_paused_since = now if now_clock == PAUSED else None
    if target is not None and ends_resolution(case.sub_status) and case.resolution_met is None:
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
        risk = risk_at(
            ctx.calendar if target.business else UTC_CALENDAR, target, due, now, share=AT_RISK_SHARE
        )
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
