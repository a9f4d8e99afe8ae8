"""Golden follow-up dates on real calendars: Easter and DST in Bavaria, Thanksgiving,
Christmas, New Year and DST in New York. Each step keeps the local time of the request."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from cases.models import ClosureReason
from tests.cases import make_case, reload
from tests.followups.helpers import active_timer, ask, followup_emails, followup_events, steps

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# (customer, local time of care's request, local dates of reminder 1, reminder 2, close)
GOLDEN = [
    pytest.param(
        "globex",
        datetime(2027, 3, 24, 10, 0),  # Wednesday
        # Good Friday 26 Mar and Easter Monday 29 Mar are closed; DST starts 28 Mar
        (date(2027, 3, 30), date(2027, 4, 2), date(2027, 4, 9)),
        id="bavaria-easter-and-dst-start",
    ),
    pytest.param(
        "globex",
        datetime(2027, 10, 27, 10, 0),  # Wednesday
        # DST ends 31 Oct; All Saints' Day 1 Nov is a holiday in Bavaria
        (date(2027, 10, 29), date(2027, 11, 4), date(2027, 11, 11)),
        id="bavaria-dst-end-all-saints",
    ),
    pytest.param(
        "acme",
        datetime(2027, 11, 23, 10, 0),  # Tuesday
        # Thanksgiving 25 Nov
        (date(2027, 11, 26), date(2027, 12, 1), date(2027, 12, 8)),
        id="us-thanksgiving",
    ),
    pytest.param(
        "acme",
        datetime(2027, 12, 22, 10, 0),  # Wednesday
        # Christmas (Saturday) observed Friday 24 Dec, New Year 2028 observed Friday 31 Dec
        (date(2027, 12, 27), date(2027, 12, 30), date(2028, 1, 7)),
        id="us-christmas-and-new-year",
    ),
    pytest.param(
        "acme",
        datetime(2027, 11, 3, 10, 0),  # Wednesday
        # DST ends 7 Nov; Veterans Day 11 Nov
        (date(2027, 11, 5), date(2027, 11, 10), date(2027, 11, 18)),
        id="us-dst-end-veterans-day",
    ),
]
ZONES = {"globex": BERLIN, "acme": NEW_YORK}


@pytest.mark.parametrize(("customer", "asked_local", "expected"), GOLDEN)
def test_due_times_are_business_days_at_the_local_time_of_the_request(
    request, analyst, customer, asked_local, expected
):
    # DOMAIN F-1, F-2, F-3, F-4, B-1, B-2, B-4
    org = request.getfixturevalue(customer)
    contact = request.getfixturevalue(f"{customer}_dc")
    zone = ZONES[customer]
    asked_at = asked_local.replace(tzinfo=zone)
    case = make_case(org, contact, "investigation")

    ask(case, analyst, now=asked_at)

    timer = active_timer(case)
    due = (timer.reminder1_due_at, timer.reminder2_due_at, timer.close_due_at)
    assert tuple(d.astimezone(zone).date() for d in due) == expected
    assert all(d.astimezone(zone).time() == time(10, 0) for d in due)
    assert due == tuple(datetime.combine(d, time(10, 0), tzinfo=zone) for d in expected)
    assert timer.next_due_at == timer.reminder1_due_at
    assert timer.started_at == asked_at


def test_globex_request_runs_its_course_on_those_days(globex, globex_dc, analyst):
    # DOMAIN F-2, F-3, F-4, F-7: the sweep, moved through time by run_sweeps, acts exactly
    # at 10:00 local on 30 Mar, 2 Apr and 9 Apr (the first before DST, the rest after)
    case = make_case(globex, globex_dc, "investigation")
    ask(case, analyst, now=datetime(2027, 3, 24, 10, 0, tzinfo=BERLIN))
    second = timedelta(seconds=1)

    def run(local: datetime) -> None:
        call_command("run_sweeps", now=local.replace(tzinfo=BERLIN).isoformat(), stdout=StringIO())

    due_dates = [datetime(2027, 3, 30, 10), datetime(2027, 4, 2, 10), datetime(2027, 4, 9, 10)]
    for done, due in enumerate(due_dates):
        run(due - second)
        assert len(steps(case)) == done
        run(due)
        assert [s for _, s in steps(case)] == list(range(1, done + 2))

    emails = followup_emails(case)
    assert [e.idempotency_key.rsplit("-", 1)[1] for e in emails] == ["1", "2", "3"]
    assert [e.created_at.astimezone(BERLIN).replace(tzinfo=None) for e in emails] == due_dates
    assert [e.after["step"] for e in followup_events(case)] == [1, 2, 3]
    case = reload(case)
    assert case.sub_status == "resolved"
    assert case.closure_reason == ClosureReason.NO_CUSTOMER_RESPONSE
    assert active_timer(case) is None
