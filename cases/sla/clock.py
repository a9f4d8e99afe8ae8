"""Service-level clocks: pure arithmetic on a business calendar (B-1 … B-4, S-6).

A target is a length of time and the clock that counts it: calendar time, business hours or
business days. Everything here is plain Python over ``core.business_time``: no ORM, no
Django, no reading of the clock (``now`` is always a parameter), so it can be property-tested
and called for thousands of cases with one calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core import business_time
from core.business_time import Calendar

CALENDAR = "calendar"
BUSINESS_HOURS = "business_hours"
BUSINESS_DAYS = "business_days"

# Calendar targets ignore the organization's calendar: their arithmetic runs on this one,
# so callers need not read the organization's.
UTC_CALENDAR = Calendar(tz="UTC")


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
            return self.days * working_day_seconds(cal)
        return self.hours.total_seconds()

    def due(self, cal: Calendar, start: datetime) -> datetime:
        """Due time of the target started at ``start`` (B-2, B-3)."""
        if self.unit == CALENDAR:
            return start + self.hours
        if self.unit == BUSINESS_HOURS:
            return business_time.add_business_hours(cal, start, self.hours)
        return business_time.add_business_days(cal, start, self.days)


def calendar_hours(hours: float) -> Target:
    return Target(CALENDAR, hours=timedelta(hours=hours))


def business_hours(hours: float) -> Target:
    return Target(BUSINESS_HOURS, hours=timedelta(hours=hours))


def business_days(days: int) -> Target:
    return Target(BUSINESS_DAYS, days=days)


def working_day_seconds(cal: Calendar) -> float:
    """The length of one working day of the calendar, in seconds."""
    day = date(2000, 1, 3)
    return (datetime.combine(day, cal.closes) - datetime.combine(day, cal.opens)).total_seconds()


def measure(cal: Calendar, target: Target, start: datetime, end: datetime) -> float:
    """Seconds the target's clock counts from start to end; negative if end is earlier."""
    if end < start:
        return -measure(cal, target, end, start)
    if target.business:
        return business_time.business_seconds_between(cal, start, end)
    return (end - start).total_seconds()


def advance(cal: Calendar, target: Target, start: datetime, seconds: float) -> datetime:
    """The instant at which the target's clock has counted ``seconds`` more."""
    amount = timedelta(seconds=max(0.0, seconds))
    if target.business:
        return business_time.add_business_hours(cal, start, amount)
    return start + amount


def risk_at(
    cal: Calendar, target: Target, due: datetime, now: datetime, *, share: float
) -> datetime:
    """When under ``share`` of the target will be left (now, if that is already so)."""
    left = measure(cal, target, now, due) if due > now else 0.0
    return advance(cal, target, now, left - share * target.seconds(cal))
