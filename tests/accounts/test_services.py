"""Profile changes and holiday snapshot upkeep (T-11, B-1)."""

from datetime import UTC, datetime

import pytest

from accounts.services import calendars_extend_holiday_snapshots, user_update_profile
from tests.factories import BusinessCalendarFactory

pytestmark = pytest.mark.django_db


def test_profile_update_sets_fields_and_pin(dc_a):
    # DOMAIN T-11
    user_update_profile(
        user=dc_a,
        data={
            "display_name": "Dana",
            "phone": "+1 555 0100",
            "time_zone": "Europe/Berlin",
            "new_pin": "2468",
        },
    )
    dc_a.refresh_from_db()
    assert (dc_a.display_name, dc_a.phone, dc_a.time_zone) == (
        "Dana",
        "+1 555 0100",
        "Europe/Berlin",
    )
    assert dc_a.check_pin("2468")


def test_extending_snapshots_adds_missing_years_once(org_a, org_b):
    # DOMAIN B-1
    BusinessCalendarFactory(organization=org_a)
    BusinessCalendarFactory(organization=org_b, holiday_country="", holiday_subdivision="")
    now = datetime(2027, 6, 1, tzinfo=UTC)
    assert calendars_extend_holiday_snapshots(now=now) == 2
    assert calendars_extend_holiday_snapshots(now=now) == 0
    calendar = org_a.businesscalendars.model.unscoped.get(organization=org_a)
    assert sorted(calendar.holiday_snapshot) == ["2026", "2027", "2028", "2029", "2030"]
