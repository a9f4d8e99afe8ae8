"""Business-time arithmetic for service-level deadlines (spec rules B-1 to B-4).

Pure Python on purpose: deadline sweeps run over 100k rows and in property tests, so nothing
here may touch Django, the database or the network. Every function takes a ``Calendar`` that
the caller has already built from the organization's stored settings.

Semantics worth knowing before calling anything:

* Instants going in must be timezone-aware; instants coming out are aware UTC (B-4). Local wall
  times only ever exist inside this module, so a naive datetime reaching the public API is a bug
  upstream and is rejected rather than guessed at.
* Non-existent local times (spring-forward gaps) move forward by the gap; ambiguous local times
  (fall-back overlaps) take the first occurrence (B-4).
* ``add_business_days`` keeps the local wall-clock time when the start falls on a business day,
  even if that time is outside working hours (B-2 speaks about days, not hours). A start on a
  non-business day counts from the opening time of the next business day.
* ``add_business_hours`` returns the *earliest* instant at which the requested amount of working
  time has elapsed: a deadline that runs out exactly at closing time stays at closing time instead
  of jumping to the next opening, and adding zero hours returns the start itself.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "Calendar",
    "add_business_days",
    "add_business_hours",
    "business_days_between",
    "business_seconds_between",
    "from_local",
    "holiday_dates",
    "is_business_day",
    "next_business_day",
    "to_local",
]

# A real calendar never closes for this long; hitting the limit means the configuration is broken
# (e.g. care closed every day "until further notice"), and failing loudly beats a sweep that never
# finishes.
_MAX_CLOSED_RUN_DAYS = 3 * 366 + 7

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


@dataclass(frozen=True)
class Calendar:
    """An organization's business calendar (B-1).

    ``closed_dates`` is the only source of holidays: the app snapshots public holidays (see
    ``holiday_dates``) into the database and adds care's own closures, so upgrading the
    ``holidays`` package can never silently move a deadline that is already running.
    """

    tz: str
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    closed_dates: frozenset[date] = frozenset()

    # Derived once per calendar because sweeps call the functions below hundreds of thousands of
    # times with the same calendar; excluded from equality so two calendars built from the same
    # settings still compare equal.
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _closed_working_sorted: tuple[date, ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    # Sweeps measure overlapping spans for many rows, so the same days' UTC windows are asked for
    # over and over; the calendar is immutable, so a per-instance memo can never go stale. It is
    # bounded by the number of distinct days ever asked about (a few thousand in practice).
    _window_cache: dict[date, tuple[datetime, datetime]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.tz, str) or not self.tz:
            raise ValueError(f"calendar time zone must be a non-empty IANA name, got {self.tz!r}")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc

        # Callers pass sets/lists read from the database; normalizing keeps the dataclass hashable
        # and makes equality independent of the container type.
        working_days = frozenset(self.working_days)
        if any(isinstance(d, bool) or not isinstance(d, int) for d in working_days) or any(
            not 0 <= d <= 6 for d in working_days
        ):
            raise ValueError(
                f"working days must be weekday numbers 0 (Monday) to 6 (Sunday), "
                f"got {sorted(working_days, key=repr)!r}"
            )
        if not working_days:
            raise ValueError("calendar has no business days: working_days is empty")

        for name, value in (("opens", self.opens), ("closes", self.closes)):
            if not isinstance(value, time):
                raise ValueError(f"{name} must be a datetime.time, got {value!r}")
            # Working hours are local wall time by definition (B-1); an offset here would be
            # contradicted by DST half of the year.
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive local wall time, got {value!r}")
        if self.closes <= self.opens:
            raise ValueError(
                f"closing time {self.closes.isoformat()} must be after "
                f"opening time {self.opens.isoformat()}"
            )

        closed_dates = frozenset(self.closed_dates)
        for d in closed_dates:
            # A datetime is a date subclass but never equals a date, so it would silently fail to
            # close anything.
            if not isinstance(d, date) or isinstance(d, datetime):
                raise ValueError(f"closed_dates must contain dates, got {d!r}")

        object.__setattr__(self, "working_days", working_days)
        object.__setattr__(self, "closed_dates", closed_dates)
        object.__setattr__(self, "_zone", zone)
        # Closures on weekends don't change any count; keeping only the ones on working weekdays
        # lets business-day counting subtract them with two bisections.
        object.__setattr__(
            self,
            "_closed_working_sorted",
            tuple(sorted(d for d in closed_dates if d.weekday() in working_days)),
        )
        object.__setattr__(self, "_window_cache", {})


def holiday_dates(country: str, subdivision: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holidays of ``country`` (and ``subdivision``) in ``years``, for snapshotting.

    Observed days (e.g. a Saturday holiday observed on Friday) are included because that is when
    offices actually close; an observed day may fall in the neighbouring year of the holiday and is
    kept regardless, since the result is a set of closed dates, not a per-year report.
    """
    year_list = list(years)
    if any(isinstance(y, bool) or not isinstance(y, int) for y in year_list):
        raise ValueError(f"years must be integers, got {year_list!r}")
    code = country.strip().upper() if isinstance(country, str) else country
    # Forms and database columns store "no subdivision" as an empty string.
    subdiv = subdivision.strip() if isinstance(subdivision, str) else subdivision
    if not subdiv:
        subdiv = None
    try:
        calendar = holidays.country_holidays(code, subdiv=subdiv, years=year_list)
    except NotImplementedError as exc:
        where = f"{code!r}" if subdiv is None else f"{code!r} subdivision {subdiv!r}"
        raise ValueError(f"no public holiday data for country {where}: {exc}") from exc
    return frozenset(calendar.keys())


def is_business_day(cal: Calendar, day: date) -> bool:
    _require_date(day)
    return day.weekday() in cal.working_days and day not in cal.closed_dates


def to_local(cal: Calendar, instant: datetime) -> datetime:
    _require_aware(instant, "instant")
    return instant.astimezone(cal._zone)


def from_local(cal: Calendar, local: datetime) -> datetime:
    """Resolve a naive local wall time to an aware UTC instant (B-4).

    PEP 495 gives exactly the resolution B-4 asks for with ``fold=0``: in an overlap it selects
    the first occurrence, and in a gap it applies the offset from before the transition, which
    lands the wall time forward by the size of the gap (02:30 in a one-hour gap -> 03:30).
    """
    if not isinstance(local, datetime):
        raise ValueError(f"expected a naive datetime, got {local!r}")
    if local.tzinfo is not None:
        raise ValueError(f"expected a naive local wall time, got aware {local!r}")
    return local.replace(tzinfo=cal._zone, fold=0).astimezone(UTC)


def next_business_day(cal: Calendar, day: date) -> date:
    """The first business day strictly after ``day``."""
    _require_date(day)
    candidate = day
    for _ in range(_MAX_CLOSED_RUN_DAYS):
        candidate += _ONE_DAY
        if candidate.weekday() in cal.working_days and candidate not in cal.closed_dates:
            return candidate
    raise ValueError(
        f"calendar has no business days in the {_MAX_CLOSED_RUN_DAYS} days after "
        f"{day.isoformat()}; check closed dates"
    )


def add_business_days(cal: Calendar, start: datetime, days: int) -> datetime:
    """``days`` business days after ``start`` (B-2), as aware UTC."""
    _require_aware(start, "start")
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"days must be an integer, got {days!r}")
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    anchor, wall = _day_anchor(cal, start)
    if days == 0 and anchor == to_local(cal, start).date():
        # Re-deriving the instant from its wall time would turn the second occurrence of an
        # ambiguous hour into the first one; adding nothing must not move the start.
        return start.astimezone(UTC)
    target = anchor
    for _ in range(days):
        target = next_business_day(cal, target)
    return from_local(cal, datetime.combine(target, wall))


def add_business_hours(cal: Calendar, start: datetime, hours: float | int | timedelta) -> datetime:
    """The earliest instant at which ``hours`` of working time have elapsed since ``start`` (B-3).

    Walks one business day at a time, so a year-long span costs a few hundred iterations.
    """
    _require_aware(start, "start")
    remaining = _as_duration(hours)
    cursor = start.astimezone(UTC)
    if remaining == _ZERO:
        return cursor

    # Start one day early: a window whose closing time sits in a DST gap can spill past local
    # midnight, and skipping it would lose working time that belongs to the span.
    day = _business_day_on_or_after(cal, to_local(cal, start).date() - _ONE_DAY)
    while True:
        opens_at, closes_at = _window(cal, day)
        if closes_at > cursor:
            begin = max(opens_at, cursor)
            available = closes_at - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = closes_at
        day = next_business_day(cal, day)


def business_seconds_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Seconds of working time in ``[start, end)`` (B-3); 0 if ``end <= start``."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    lo = start.astimezone(UTC)
    hi = end.astimezone(UTC)
    if hi <= lo:
        return 0.0

    total = _ZERO
    cursor = lo
    # Stepping plain days (rather than next_business_day) keeps a short span over a long closure
    # at zero instead of tripping the "no business days" guard meant for unbounded searches.
    day = to_local(cal, start).date() - _ONE_DAY
    last = to_local(cal, end).date()
    while day <= last:
        if day.weekday() in cal.working_days and day not in cal.closed_dates:
            opens_at, closes_at = _window(cal, day)
            begin = max(opens_at, cursor)
            finish = min(closes_at, hi)
            if finish > begin:
                total += finish - begin
            # Never count an instant twice even if two windows overlap around a DST transition;
            # add_business_hours advances the same cursor, which keeps the two exact inverses.
            cursor = max(cursor, closes_at)
        day += _ONE_DAY
    return total.total_seconds()


def business_days_between(cal: Calendar, start: datetime, end: datetime) -> int:
    """How many whole business days can be added to ``start`` without passing ``end``.

    The inverse of ``add_business_days``: the largest ``n`` with
    ``add_business_days(cal, start, n) <= end`` (0 if even that is not reached).
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return 0
    base, wall = _day_anchor(cal, start)
    end_day = to_local(cal, end).date()
    count = _count_business_days(cal, base, end_day)
    if count == 0:
        return 0
    # The count-th business day is the last one on or before end_day; it only counts if the
    # deadline on that day is not after `end`. Looping (instead of a single check) covers a wall
    # time pushed past midnight by a DST gap.
    day = end_day if is_business_day(cal, end_day) else _previous_business_day(cal, end_day)
    while count > 0 and from_local(cal, datetime.combine(day, wall)) > end:
        count -= 1
        day = _previous_business_day(cal, day)
    return count


def _day_anchor(cal: Calendar, start: datetime) -> tuple[date, time]:
    """The business day B-2 counts from and the local wall time every result keeps."""
    local = to_local(cal, start)
    if is_business_day(cal, local.date()):
        return local.date(), local.time()
    return next_business_day(cal, local.date()), cal.opens


def _window(cal: Calendar, day: date) -> tuple[datetime, datetime]:
    """The real (UTC) working window of ``day``.

    Converting both local boundaries to UTC is what makes a DST change inside working hours
    lengthen or shorten the day by the size of the shift.
    """
    cached = cal._window_cache.get(day)
    if cached is not None:
        return cached
    opens_at = from_local(cal, datetime.combine(day, cal.opens))
    closes_at = from_local(cal, datetime.combine(day, cal.closes))
    # Only when both boundaries straddle a gap (e.g. 02:30-03:10 on a spring-forward night) does
    # gap resolution put closing before opening; the day then simply has no working time.
    window = (opens_at, max(opens_at, closes_at))
    cal._window_cache[day] = window
    return window


def _business_day_on_or_after(cal: Calendar, day: date) -> date:
    return day if is_business_day(cal, day) else next_business_day(cal, day)


def _previous_business_day(cal: Calendar, day: date) -> date:
    candidate = day
    for _ in range(_MAX_CLOSED_RUN_DAYS):
        candidate -= _ONE_DAY
        if candidate.weekday() in cal.working_days and candidate not in cal.closed_dates:
            return candidate
    raise ValueError(
        f"calendar has no business days in the {_MAX_CLOSED_RUN_DAYS} days before "
        f"{day.isoformat()}; check closed dates"
    )


def _count_business_days(cal: Calendar, after: date, upto: date) -> int:
    """Business days in the half-open range ``(after, upto]`` without walking it day by day."""
    if upto <= after:
        return 0
    full_weeks, rest = divmod((upto - after).days, 7)
    count = full_weeks * len(cal.working_days)
    first_weekday = (after.weekday() + 1) % 7
    count += sum(1 for i in range(rest) if (first_weekday + i) % 7 in cal.working_days)
    closed = cal._closed_working_sorted
    return count - (bisect_right(closed, upto) - bisect_right(closed, after))


def _as_duration(hours: float | int | timedelta) -> timedelta:
    # Work in timedelta (integer microseconds) from here on, so adding hours and measuring them
    # back are exact inverses instead of drifting by float rounding.
    if isinstance(hours, timedelta):
        duration = hours
    elif isinstance(hours, bool) or not isinstance(hours, int | float):
        raise ValueError(f"hours must be a number or a timedelta, got {hours!r}")
    elif not math.isfinite(hours):
        raise ValueError(f"hours must be finite, got {hours!r}")
    else:
        duration = timedelta(hours=hours)
    if duration < _ZERO:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return duration


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _require_date(value: date) -> None:
    # A datetime here almost always means someone passed an instant whose calendar date depends on
    # the time zone; making the caller pick (via to_local) avoids an off-by-one day near midnight.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"expected a date (not a datetime), got {value!r}")
