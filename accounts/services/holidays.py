"""Public holidays copied into each calendar's snapshot, year by year (B-1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from accounts.models import BusinessCalendar
from core import business_time

# Years kept in a holiday snapshot ahead of the current one: deadlines reach at most a few
# weeks ahead, reports look back; three years leaves ample room.
SNAPSHOT_YEARS_AHEAD = 3


@transaction.atomic
def calendar_snapshot_holidays(
    *, calendar: BusinessCalendar, years: Iterable[int], refresh: bool = False
) -> BusinessCalendar:
    """Copy public holidays into the calendar's snapshot for the given years.

    Years already in the snapshot are left as they are unless ``refresh`` is set (care
    changed the country, or decided to take a corrected holiday list on purpose), so an
    update of the holiday data never moves an open deadline silently (B-1).
    """
    calendar = BusinessCalendar.unscoped.select_for_update().get(pk=calendar.pk)
    snapshot = {} if refresh else dict(calendar.holiday_snapshot)
    wanted = sorted({int(y) for y in years} - {int(y) for y in snapshot})
    if wanted:
        if calendar.holiday_country:
            days = business_time.holiday_dates(
                calendar.holiday_country, calendar.holiday_subdivision or None, wanted
            )
        else:
            days = frozenset()
        for year in wanted:
            snapshot[str(year)] = sorted(d.isoformat() for d in days if d.year == year)
    if snapshot != calendar.holiday_snapshot:
        calendar.holiday_snapshot = dict(sorted(snapshot.items()))
        calendar.save(update_fields=["holiday_snapshot", "updated_at"])
    return calendar


def snapshot_years(now: datetime) -> range:
    return range(now.year - 1, now.year + SNAPSHOT_YEARS_AHEAD + 1)


def calendars_extend_holiday_snapshots(*, now: datetime) -> int:
    """Add the coming years to every calendar's snapshot; returns how many changed."""
    years = snapshot_years(now)
    changed = 0
    for calendar in BusinessCalendar.unscoped.all().iterator():
        missing = {str(y) for y in years} - set(calendar.holiday_snapshot)
        if missing:
            calendar_snapshot_holidays(calendar=calendar, years=years)
            changed += 1
    return changed
