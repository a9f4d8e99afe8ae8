"""Care's changes to an organization's business calendar and its extra closed days (B-1)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction

from accounts.models import BusinessCalendar, CalendarClosure, OrganizationChange, User
from accounts.services.history import (
    organization_change_record,
    require_permission,
    stored,
    validated,
)
from accounts.services.holidays import calendar_snapshot_holidays, snapshot_years
from core.errors import Conflict, InvalidInput, NotFound

# What care edits on a calendar; the closed days are set as a whole, the holiday snapshot
# follows the country.
CALENDAR_FIELDS = (
    "time_zone",
    "working_days",
    "opens",
    "closes",
    "holiday_country",
    "holiday_subdivision",
)
HOLIDAY_FIELDS = frozenset({"holiday_country", "holiday_subdivision"})


def _calendar_state(calendar: BusinessCalendar, closures: Mapping[date, str]) -> dict[str, Any]:
    state = {f: stored(getattr(calendar, f)) for f in CALENDAR_FIELDS}
    state["closures"] = [[day.isoformat(), reason] for day, reason in sorted(closures.items())]
    return state


def _difference(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _lock_calendar(calendar: BusinessCalendar) -> BusinessCalendar:
    try:
        return BusinessCalendar.unscoped.select_for_update().get(pk=calendar.pk)
    except BusinessCalendar.DoesNotExist as exc:
        raise NotFound("No such calendar.") from exc


def _set_closures(calendar: BusinessCalendar, actor: User, wanted: Mapping[date, str]) -> None:
    """Make the calendar's extra closed days exactly ``wanted`` ({day: reason})."""
    current = {c.day: c for c in CalendarClosure.unscoped.filter(calendar=calendar)}
    removed = [c.pk for day, c in current.items() if day not in wanted]
    added = [
        CalendarClosure(
            organization_id=calendar.organization_id, calendar=calendar, day=day, reason=reason
        )
        for day, reason in wanted.items()
        if day not in current
    ]
    renamed = [c for day, c in current.items() if day in wanted and c.reason != wanted[day]]
    for needed, permission in ((removed, "delete"), (added, "add"), (renamed, "change")):
        if needed:
            require_permission(actor, f"accounts.{permission}_calendarclosure")
    for closure in renamed:
        closure.reason = wanted[closure.day]
    for closure in (*added, *renamed):
        validated(closure)
    if removed:
        CalendarClosure.unscoped.filter(pk__in=removed).delete()
    CalendarClosure.unscoped.bulk_create(added)
    for closure in renamed:
        closure.save(update_fields=["reason"])


@transaction.atomic
def calendar_create(
    *,
    calendar: BusinessCalendar,
    actor: User,
    closures: Mapping[date, str] | None = None,
    now: datetime,
) -> BusinessCalendar:
    """Give an organization the calendar care has filled in (B-1), with its extra closed days
    ({day: reason}) and its public holidays snapshotted.

    Due times of open cases follow the calendar: callers go through
    ``cases.services.calendar_create``, which recomputes them (this layer does not know
    cases)."""
    require_permission(actor, "accounts.add_businesscalendar")
    if calendar.pk is not None:
        raise Conflict("This calendar exists already.")
    validated(calendar)
    calendar.save(force_insert=True)
    _set_closures(calendar, actor, closures or {})
    years = snapshot_years(now)
    snapshot = calendar_snapshot_holidays(calendar=calendar, years=years, refresh=True)
    calendar.holiday_snapshot = snapshot.holiday_snapshot
    organization_change_record(
        organization_id=calendar.organization_id,
        actor=actor,
        kind=OrganizationChange.Kind.CALENDAR,
        now=now,
        after=_calendar_state(calendar, closures or {}),
    )
    return calendar


@transaction.atomic
def calendar_update(
    *,
    calendar: BusinessCalendar,
    actor: User,
    changes: Mapping[str, Any],
    closures: Mapping[date, str] | None = None,
    now: datetime,
) -> OrganizationChange | None:
    """Change a calendar's hours, zone or holiday country, and set its extra closed days
    ({day: reason}; None leaves them as they are). A new holiday country or subdivision
    takes a fresh holiday snapshot; otherwise the snapshot only gains missing years (B-1).
    Returns the history row, or None if nothing changed.

    Callers go through ``cases.services.calendar_update``, which recomputes the due times of
    open cases."""
    require_permission(actor, "accounts.change_businesscalendar")
    unknown = sorted(set(changes) - set(CALENDAR_FIELDS))
    if unknown:
        raise InvalidInput(f"Not a field of a calendar: {', '.join(unknown)}.")
    calendar = _lock_calendar(calendar)
    fields = [f for f, v in changes.items() if getattr(calendar, f) != v]
    current = dict(CalendarClosure.unscoped.filter(calendar=calendar).values_list("day", "reason"))
    before = _calendar_state(calendar, current)
    for field in fields:
        setattr(calendar, field, changes[field])
    if fields:
        validated(calendar)
        calendar.save(update_fields=[*fields, "updated_at"])
    if closures is not None:
        _set_closures(calendar, actor, closures)
    calendar_snapshot_holidays(
        calendar=calendar, years=snapshot_years(now), refresh=bool(HOLIDAY_FIELDS & set(fields))
    )
    was, now_is = _difference(
        before, _calendar_state(calendar, current if closures is None else closures)
    )
    if not now_is:
        return None
    return organization_change_record(
        organization_id=calendar.organization_id,
        actor=actor,
        kind=OrganizationChange.Kind.CALENDAR,
        now=now,
        before=was,
        after=now_is,
    )


@transaction.atomic
def calendar_delete(
    *, calendar: BusinessCalendar, actor: User, now: datetime
) -> OrganizationChange:
    """Remove a calendar and its closed days: the defaults of B-1 apply again. Callers go
    through ``cases.services.calendar_delete``, which recomputes the due times of open
    cases."""
    require_permission(actor, "accounts.delete_businesscalendar")
    calendar = _lock_calendar(calendar)
    closures = dict(CalendarClosure.unscoped.filter(calendar=calendar).values_list("day", "reason"))
    before = _calendar_state(calendar, closures)
    organization_id = calendar.organization_id
    CalendarClosure.unscoped.filter(calendar=calendar).delete()
    BusinessCalendar.unscoped.filter(pk=calendar.pk).delete()
    return organization_change_record(
        organization_id=organization_id,
        actor=actor,
        kind=OrganizationChange.Kind.CALENDAR,
        now=now,
        before=before,
    )
