"""Business-time arithmetic (DOMAIN B-1 to B-4): golden examples and properties.

Pure functions: no database, no Django settings, so these run under pytest-django unchanged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.business_time import (
    Calendar,
    add_business_days,
    add_business_hours,
    business_days_between,
    business_seconds_between,
    from_local,
    holiday_dates,
    is_business_day,
    next_business_day,
    to_local,
)

SNAPSHOT_YEARS = range(2025, 2032)
ALL_WEEK = frozenset(range(7))

BERLIN = Calendar(tz="Europe/Berlin")
BAVARIA = Calendar(tz="Europe/Berlin", closed_dates=holiday_dates("DE", "BY", SNAPSHOT_YEARS))
NEW_YORK = Calendar(tz="America/New_York", closed_dates=holiday_dates("US", None, SNAPSHOT_YEARS))
SANTIAGO = Calendar(tz="America/Santiago", closed_dates=holiday_dates("CL", None, SNAPSHOT_YEARS))
# Open around the clock so that midnight, which Chile skips when DST starts, is a working time.
SANTIAGO_ROUND_THE_CLOCK = Calendar(
    tz="America/Santiago",
    working_days=ALL_WEEK,
    opens=time(0, 0),
    closes=time(23, 59),
    closed_dates=holiday_dates("CL", None, SNAPSHOT_YEARS),
)

CALENDARS = {
    "berlin": BERLIN,
    "bavaria": BAVARIA,
    "new_york": NEW_YORK,
    "santiago": SANTIAGO,
    "santiago_24h": SANTIAGO_ROUND_THE_CLOCK,
}


def at(cal: Calendar, *fields: int) -> datetime:
    """The UTC instant of a local wall time in the calendar's zone."""
    return from_local(cal, datetime(*fields))  # type: ignore[arg-type]


def wall(cal: Calendar, instant: datetime) -> datetime:
    """The naive local wall time of an instant, for readable comparisons."""
    return to_local(cal, instant).replace(tzinfo=None)


# --- Golden table: B-2 adding business days ------------------------------------------------------

GOLDEN_BUSINESS_DAYS = [
    # Bavaria 2027: Good Friday (26 Mar) and Easter Monday (29 Mar) are closed, DST starts 28 Mar.
    ("bavaria", datetime(2027, 3, 24, 10), 2, datetime(2027, 3, 30, 10)),
    ("bavaria", datetime(2027, 3, 24, 10), 5, datetime(2027, 4, 2, 10)),
    ("bavaria", datetime(2027, 3, 24, 10), 10, datetime(2027, 4, 9, 10)),
    # US 2027: Thanksgiving Thu 25 Nov closed, the Friday after is a normal business day.
    ("new_york", datetime(2027, 11, 24, 10), 1, datetime(2027, 11, 26, 10)),
    ("new_york", datetime(2027, 11, 24, 10), 2, datetime(2027, 11, 29, 10)),
    # Christmas falls on Saturday 25 Dec 2027 and is observed on Friday 24 Dec.
    ("new_york", datetime(2027, 12, 22, 10), 2, datetime(2027, 12, 27, 10)),
    ("new_york", datetime(2027, 12, 23, 10), 1, datetime(2027, 12, 27, 10)),
    # New Year 2028 falls on Saturday and is observed on Friday 31 Dec 2027.
    ("new_york", datetime(2027, 12, 29, 10), 1, datetime(2027, 12, 30, 10)),
    ("new_york", datetime(2027, 12, 29, 10), 2, datetime(2028, 1, 3, 10)),
    # A start on a business day keeps its wall time even outside working hours.
    ("berlin", datetime(2027, 6, 9, 20), 1, datetime(2027, 6, 10, 20)),
    # A start on a non-business day counts from the next opening: Sat -> Mon 09:00, +1 -> Tue.
    ("berlin", datetime(2027, 6, 12, 11, 15), 0, datetime(2027, 6, 14, 9)),
    ("berlin", datetime(2027, 6, 12, 11, 15), 1, datetime(2027, 6, 15, 9)),
    # Zero days on a business day is the start itself.
    ("berlin", datetime(2027, 6, 9, 10, 45), 0, datetime(2027, 6, 9, 10, 45)),
]


@pytest.mark.parametrize(
    ("cal_name", "start_local", "days", "expected_local"),
    GOLDEN_BUSINESS_DAYS,
    ids=[f"{c}-{s:%Y%m%d%H%M}+{n}" for c, s, n, _ in GOLDEN_BUSINESS_DAYS],
)
def test_add_business_days_golden_table(
    cal_name: str, start_local: datetime, days: int, expected_local: datetime
) -> None:
    """DOMAIN B-2 (with B-1 holidays): known deadlines around public holidays and weekends."""
    # Given a calendar and a local start time
    cal = CALENDARS[cal_name]
    start = from_local(cal, start_local)

    # When adding business days
    result = add_business_days(cal, start, days)

    # Then the deadline is the expected local wall time, stored in UTC
    assert result.tzinfo is UTC
    assert wall(cal, result) == expected_local
    # And counting back gives the same number of days when the start was a business day
    if is_business_day(cal, start_local.date()):
        assert business_days_between(cal, start, result) == days


def test_us_holiday_snapshot_has_observed_days() -> None:
    """DOMAIN B-1: the snapshot closes the days offices actually close, including observed ones."""
    # Given the US public holidays snapshotted for 2027
    closed = holiday_dates("US", None, [2027])

    # Then Thanksgiving and the Friday observances of Christmas and New Year 2028 are closed
    assert date(2027, 11, 25) in closed
    assert date(2027, 12, 24) in closed
    assert date(2027, 12, 31) in closed
    # And the Friday after Thanksgiving is not a public holiday
    assert date(2027, 11, 26) not in closed


def test_bavarian_snapshot_has_easter_holidays() -> None:
    """DOMAIN B-1: the subdivision's holidays come from the `holidays` package."""
    closed = holiday_dates("DE", "BY", [2027])

    assert {date(2027, 3, 26), date(2027, 3, 29), date(2027, 1, 6)} <= closed
    # Epiphany is Bavarian, not national
    assert date(2027, 1, 6) not in holiday_dates("DE", None, [2027])


def test_unknown_holiday_country_or_subdivision_is_a_clear_value_error() -> None:
    """DOMAIN B-1: a misconfigured holiday country is rejected, not silently ignored."""
    with pytest.raises(ValueError, match="'XX'"):
        holiday_dates("XX", None, [2027])
    with pytest.raises(ValueError, match="subdivision 'ZZ'"):
        holiday_dates("DE", "ZZ", [2027])


def test_calendar_ignores_holidays_outside_its_snapshot() -> None:
    """DOMAIN B-1: only closed_dates close a day; the holiday library is not consulted live."""
    # Given a Berlin calendar with no snapshot
    # Then Good Friday 2027 is an ordinary business day for it, but not for Bavaria
    assert is_business_day(BERLIN, date(2027, 3, 26))
    assert not is_business_day(BAVARIA, date(2027, 3, 26))


# --- B-3: business hours -------------------------------------------------------------------------


def test_friday_afternoon_plus_two_business_hours_lands_monday_morning() -> None:
    """DOMAIN B-3: time between Friday closing and Monday opening does not count."""
    # Given Friday 16:30 with a normal Monday after it
    start = at(BERLIN, 2027, 6, 11, 16, 30)

    # When adding 2 business hours
    result = add_business_hours(BERLIN, start, 2)

    # Then half an hour is used on Friday and 1.5 hours on Monday
    assert wall(BERLIN, result) == datetime(2027, 6, 14, 10, 30)
    assert business_seconds_between(BERLIN, start, result) == 2 * 3600


def test_start_after_closing_counts_from_next_opening() -> None:
    """DOMAIN B-3: Friday 20:00 + 1h is Monday 10:00."""
    start = at(BERLIN, 2027, 6, 11, 20, 0)

    assert wall(BERLIN, add_business_hours(BERLIN, start, 1)) == datetime(2027, 6, 14, 10)
    assert wall(BERLIN, add_business_hours(BERLIN, start, timedelta(minutes=90))) == datetime(
        2027, 6, 14, 10, 30
    )


def test_business_hours_ending_at_closing_time_stay_at_closing_time() -> None:
    """DOMAIN B-3: the deadline is the earliest instant the working time has elapsed."""
    start = at(BERLIN, 2027, 6, 9, 9, 0)

    assert wall(BERLIN, add_business_hours(BERLIN, start, 8)) == datetime(2027, 6, 9, 17)
    assert wall(BERLIN, add_business_hours(BERLIN, start, 8.5)) == datetime(2027, 6, 10, 9, 30)


def test_zero_business_hours_is_the_start() -> None:
    """DOMAIN B-3: adding no working time does not move the start, even outside hours."""
    start = at(BERLIN, 2027, 6, 12, 11, 0)  # a Saturday

    assert add_business_hours(BERLIN, start, 0) == start


def test_business_seconds_between_counts_only_working_hours() -> None:
    """DOMAIN B-3: a week from Monday 09:00 to the next Monday 09:00 holds 5 x 8h."""
    start = at(BERLIN, 2027, 6, 7, 9, 0)
    end = at(BERLIN, 2027, 6, 14, 9, 0)

    assert business_seconds_between(BERLIN, start, end) == 40 * 3600
    assert business_seconds_between(BERLIN, end, start) == 0
    assert business_seconds_between(BERLIN, start, start) == 0


def test_business_days_between_does_not_count_an_unfinished_day() -> None:
    """DOMAIN B-2: whole business days only, so one minute short of a day does not count."""
    start = at(BERLIN, 2027, 6, 9, 10, 0)

    assert business_days_between(BERLIN, start, at(BERLIN, 2027, 6, 10, 9, 59)) == 0
    assert business_days_between(BERLIN, start, at(BERLIN, 2027, 6, 10, 10, 0)) == 1
    assert business_days_between(BERLIN, start, at(BERLIN, 2027, 6, 14, 10, 0)) == 3
    assert business_days_between(BERLIN, start, at(BERLIN, 2027, 6, 14, 9, 0)) == 2


# --- Care-added closures --------------------------------------------------------------------------


def test_care_added_closure_is_skipped() -> None:
    """DOMAIN B-1: a day care closes is not a business day for days or hours."""
    # Given care closes Tuesday 15 June 2027 on top of the public holidays
    closure = date(2027, 6, 15)
    cal = Calendar(tz="Europe/Berlin", closed_dates=BAVARIA.closed_dates | {closure})
    monday = at(cal, 2027, 6, 14, 10, 0)

    # Then the closed day is skipped when adding days and hours, and holds no working time
    assert not is_business_day(cal, closure)
    assert next_business_day(cal, date(2027, 6, 14)) == date(2027, 6, 16)
    assert wall(cal, add_business_days(cal, monday, 1)) == datetime(2027, 6, 16, 10)
    assert wall(cal, add_business_hours(cal, at(cal, 2027, 6, 14, 16), 2)) == datetime(
        2027, 6, 16, 10
    )
    assert business_seconds_between(cal, monday, at(cal, 2027, 6, 16, 10)) == 8 * 3600


# --- B-4: time zones and DST ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("friday", "monday", "offset_before", "offset_after"),
    [
        # Spring forward on Sunday 28 March 2027: CET (+1) -> CEST (+2)
        (date(2027, 3, 26), date(2027, 3, 29), timedelta(hours=1), timedelta(hours=2)),
        # Fall back on Sunday 31 October 2027: CEST (+2) -> CET (+1)
        (date(2027, 10, 29), date(2027, 11, 1), timedelta(hours=2), timedelta(hours=1)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_dst_weekend_keeps_local_wall_time(
    friday: date, monday: date, offset_before: timedelta, offset_after: timedelta
) -> None:
    """DOMAIN B-2/B-4: Fri 10:00 + 1 business day is Mon 10:00 local across a DST change."""
    # Given Friday 10:00 in Berlin (no holiday snapshot, so both days are business days)
    start = from_local(BERLIN, datetime.combine(friday, time(10)))

    # When adding one business day
    result = add_business_days(BERLIN, start, 1)

    # Then it is Monday 10:00 local, at a different UTC offset
    assert wall(BERLIN, result) == datetime.combine(monday, time(10))
    assert to_local(BERLIN, start).utcoffset() == offset_before
    assert to_local(BERLIN, result).utcoffset() == offset_after
    assert result - start == timedelta(days=3) + offset_before - offset_after
    # And the DST change outside working hours costs no working time: 7h Fri + 1h Mon, and
    # 4h Fri + 4h Mon from midday to midday
    assert business_seconds_between(BERLIN, start, result) == 8 * 3600
    midday_friday = from_local(BERLIN, datetime.combine(friday, time(13)))
    midday_monday = from_local(BERLIN, datetime.combine(monday, time(13)))
    assert business_seconds_between(BERLIN, midday_friday, midday_monday) == 8 * 3600


@pytest.mark.parametrize(
    ("day", "expected_hours"),
    [(date(2027, 3, 28), 3), (date(2027, 10, 31), 5), (date(2027, 6, 13), 4)],
    ids=["spring-forward", "fall-back", "ordinary"],
)
def test_dst_change_inside_working_hours_changes_real_length(
    day: date, expected_hours: int
) -> None:
    """DOMAIN B-3/B-4: working hours are wall time, so a DST change inside them shifts real time."""
    # Given a Berlin night shift 01:00-05:00 on every day of the week
    cal = Calendar(tz="Europe/Berlin", working_days=ALL_WEEK, opens=time(1), closes=time(5))
    opening = from_local(cal, datetime.combine(day, time(1)))

    # Then the day holds the wall-clock 4h plus or minus the DST shift
    end_of_day = from_local(cal, datetime.combine(day, time(23)))
    assert business_seconds_between(cal, opening, end_of_day) == expected_hours * 3600
    # And adding exactly that much working time reaches 05:00 local
    closing = add_business_hours(cal, opening, expected_hours)
    assert wall(cal, closing) == datetime.combine(day, time(5))


def test_from_local_resolves_gaps_forward_and_overlaps_to_first_occurrence() -> None:
    """DOMAIN B-4: non-existent times move forward by the gap; ambiguous times take the first."""
    # 02:30 does not exist in Berlin on 28 March 2027 -> 03:30 CEST
    assert at(BERLIN, 2027, 3, 28, 2, 30) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert wall(BERLIN, at(BERLIN, 2027, 3, 28, 2, 30)) == datetime(2027, 3, 28, 3, 30)
    # 02:30 happens twice in Berlin on 31 October 2027 -> the first, still CEST (+2)
    assert at(BERLIN, 2027, 10, 31, 2, 30) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    # 23:30 happens twice in Santiago on 3 April 2027 -> the first, still -03
    assert at(SANTIAGO, 2027, 4, 3, 23, 30) == datetime(2027, 4, 4, 2, 30, tzinfo=UTC)


def test_santiago_midnight_that_does_not_exist_resolves_to_one_am() -> None:
    """DOMAIN B-4: Chile starts DST at midnight, so 5 Sep 2027 00:00 local never happens."""
    cal = SANTIAGO_ROUND_THE_CLOCK
    # Given the chosen date really has no local midnight (zoneinfo: 00:00 -04 is 01:00 -03)
    assert not is_business_day(cal, date(2027, 9, 18))  # sanity: CL holidays are snapshotted
    midnight = from_local(cal, datetime(2027, 9, 5, 0, 0))
    assert midnight == datetime(2027, 9, 5, 4, 0, tzinfo=UTC)
    assert wall(cal, midnight) == datetime(2027, 9, 5, 1, 0)

    # When a deadline lands on that midnight by adding a business day to Saturday 00:00
    saturday_midnight = at(cal, 2027, 9, 4, 0, 0)
    result = add_business_days(cal, saturday_midnight, 1)

    # Then it resolves to the real instant 01:00 local: one local day later on the wall clock,
    # and exactly 24 real hours since the skipped hour moved it forward
    assert result == midnight
    assert result - saturday_midnight == timedelta(hours=24)
    assert business_days_between(cal, saturday_midnight, result) == 1

    # And opening time on that day (counting from a closed day) is 01:00 local as well
    closed_saturday = Calendar(
        tz=cal.tz,
        working_days=cal.working_days,
        opens=cal.opens,
        closes=cal.closes,
        closed_dates=cal.closed_dates | {date(2027, 9, 4)},
    )
    assert add_business_days(closed_saturday, at(cal, 2027, 9, 4, 12, 0), 0) == midnight
    # And that working day is one hour short: 00:00-23:59 wall clock is 22h59m of real time
    day_start = at(cal, 2027, 9, 5, 0, 0)
    next_day = at(cal, 2027, 9, 6, 0, 0)
    assert business_seconds_between(cal, day_start, next_day) == (22 * 60 + 59) * 60


def test_to_local_and_from_local_round_trip() -> None:
    """DOMAIN B-4: instants are UTC; local times use the calendar's zone."""
    instant = datetime(2027, 7, 1, 12, 0, tzinfo=UTC)

    local = to_local(NEW_YORK, instant)

    assert local.replace(tzinfo=None) == datetime(2027, 7, 1, 8, 0)
    assert from_local(NEW_YORK, local.replace(tzinfo=None)) == instant


# --- Validation and loop guards -------------------------------------------------------------------


def test_calendar_rejects_invalid_configuration() -> None:
    """DOMAIN B-1: broken calendars fail at construction, not deep inside a sweep."""
    with pytest.raises(ValueError, match="after"):
        Calendar(tz="Europe/Berlin", opens=time(17), closes=time(9))
    with pytest.raises(ValueError, match="after"):
        Calendar(tz="Europe/Berlin", opens=time(9), closes=time(9))
    with pytest.raises(ValueError, match="time zone"):
        Calendar(tz="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="calendar has no business days"):
        Calendar(tz="Europe/Berlin", working_days=frozenset())
    with pytest.raises(ValueError, match="weekday"):
        Calendar(tz="Europe/Berlin", working_days=frozenset({7}))


def test_calendar_closed_for_more_than_three_years_raises_instead_of_looping() -> None:
    """DOMAIN B-1: a calendar with every day closed cannot produce a deadline."""
    # Given every day closed from 2027 to the end of 2030
    first = date(2027, 1, 1)
    closed = frozenset(first + timedelta(days=i) for i in range(4 * 366))
    cal = Calendar(tz="Europe/Berlin", closed_dates=closed)
    start = at(cal, 2026, 12, 31, 10, 0)

    # Then searching for a business day fails loudly
    with pytest.raises(ValueError, match="calendar has no business days"):
        next_business_day(cal, date(2026, 12, 31))
    with pytest.raises(ValueError, match="calendar has no business days"):
        add_business_days(cal, start, 1)
    with pytest.raises(ValueError, match="calendar has no business days"):
        add_business_hours(cal, start, 10)
    # But measuring a bounded span inside the closure is simply zero
    assert business_seconds_between(cal, at(cal, 2027, 2, 1, 0, 0), at(cal, 2027, 3, 1, 0, 0)) == 0


def test_arguments_are_validated() -> None:
    """DOMAIN B-4: naive instants are rejected because their zone would be a guess."""
    naive = datetime(2027, 6, 9, 10, 0)
    aware = at(BERLIN, 2027, 6, 9, 10, 0)

    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_days(BERLIN, naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_hours(BERLIN, naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_local(BERLIN, naive)
    with pytest.raises(ValueError, match="naive"):
        from_local(BERLIN, aware)
    with pytest.raises(ValueError, match="negative"):
        add_business_days(BERLIN, aware, -1)
    with pytest.raises(ValueError, match="negative"):
        add_business_hours(BERLIN, aware, -0.5)
    with pytest.raises(TypeError, match="not a datetime"):
        is_business_day(BERLIN, aware)  # type: ignore[arg-type]


def test_long_spans_round_trip_and_stay_consistent() -> None:
    """DOMAIN B-3: a year of working time is measured and added back exactly."""
    start = at(NEW_YORK, 2027, 1, 4, 9, 0)
    end = at(NEW_YORK, 2028, 1, 3, 9, 0)

    seconds = business_seconds_between(NEW_YORK, start, end)

    # 4 Jan to 31 Dec 2027 has 260 weekdays; 11 of them are holidays or Friday/Monday observances
    # (Juneteenth, Independence Day, Christmas and New Year 2028 fall on weekends)
    assert seconds == (260 - 11) * 8 * 3600
    # Adding it back ends at the last closing time of 2027 (31 Dec is closed)
    assert add_business_hours(NEW_YORK, start, timedelta(seconds=seconds)) == at(
        NEW_YORK, 2027, 12, 30, 17, 0
    )
    # 248 business days after 4 Jan in 2027, plus Monday 3 Jan 2028 reached exactly at 09:00
    assert business_days_between(NEW_YORK, start, end) == 249


# --- Properties -----------------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(deadline=None, max_examples=200, derandomize=True)

calendars = st.sampled_from(list(CALENDARS.values()))
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)
hour_amounts = st.one_of(
    st.integers(min_value=0, max_value=300),
    st.floats(min_value=0, max_value=300, allow_nan=False, allow_infinity=False),
)


@st.composite
def business_day_starts(draw: st.DrawFn) -> tuple[Calendar, datetime]:
    """A calendar and an instant inside working hours of one of its business days."""
    cal = draw(calendars)
    day = date(2026, 1, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=4 * 365)))
    if not is_business_day(cal, day):
        day = next_business_day(cal, day)
    opening = datetime.combine(day, cal.opens)
    minutes = int((datetime.combine(day, cal.closes) - opening).total_seconds() // 60)
    offset = timedelta(minutes=draw(st.integers(min_value=0, max_value=minutes - 1)))
    return cal, from_local(cal, opening + offset)


@PROPERTY_SETTINGS
@given(cal=calendars, start=instants, days=st.integers(min_value=0, max_value=40))
def test_property_add_business_days_never_lands_on_a_closed_day(
    cal: Calendar, start: datetime, days: int
) -> None:
    """DOMAIN B-1/B-2: a business-day deadline is always on a business day."""
    result = add_business_days(cal, start, days)

    assert result.tzinfo is UTC
    assert result >= start
    assert is_business_day(cal, to_local(cal, result).date())


@PROPERTY_SETTINGS
@given(
    cal=calendars,
    start=instants,
    hours=st.floats(min_value=0.001, max_value=300, allow_nan=False, allow_infinity=False),
)
def test_property_add_business_hours_lands_within_working_hours(
    cal: Calendar, start: datetime, hours: float
) -> None:
    """DOMAIN B-3: a business-hours deadline is inside (or at the close of) working hours."""
    result = add_business_hours(cal, start, hours)

    day = to_local(cal, result).date()
    assert result.tzinfo is UTC
    assert is_business_day(cal, day)
    opening = from_local(cal, datetime.combine(day, cal.opens))
    closing = from_local(cal, datetime.combine(day, cal.closes))
    assert opening < result <= closing


@PROPERTY_SETTINGS
@given(cal=calendars, start=instants, hours=hour_amounts)
def test_property_business_seconds_between_inverts_add_business_hours(
    cal: Calendar, start: datetime, hours: float
) -> None:
    """DOMAIN B-3: measuring the working time up to a deadline gives back what was added."""
    result = add_business_hours(cal, start, hours)

    assert business_seconds_between(cal, start, result) == pytest.approx(hours * 3600, abs=1e-6)


@PROPERTY_SETTINGS
@given(start=business_day_starts(), days=st.integers(min_value=0, max_value=60))
def test_property_business_days_between_inverts_add_business_days(
    start: tuple[Calendar, datetime], days: int
) -> None:
    """DOMAIN B-2: counting whole business days up to a deadline gives back what was added."""
    cal, instant = start

    result = add_business_days(cal, instant, days)

    assert business_days_between(cal, instant, result) == days
    # And one microsecond earlier the last day is not complete yet
    if days > 0:
        assert business_days_between(cal, instant, result - timedelta(microseconds=1)) == days - 1
