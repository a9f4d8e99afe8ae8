"""Who sees what (T-4, T-6, T-7, T-8) and which calendar deadlines use (B-1)."""

from datetime import UTC, date, datetime, time

import pytest

from accounts.models import AccessLevel, CalendarClosure, Organization
from accounts.selectors import (
    access_level_for,
    business_calendar_for,
    organizations_short_of_designated_contacts,
    visible_organization_ids,
)
from accounts.services import calendar_snapshot_holidays
from core import business_time
from tests.factories import BusinessCalendarFactory, member_of

pytestmark = pytest.mark.django_db


def test_member_sees_only_own_organization(dc_a, org_a, org_b):
    # DOMAIN T-6
    assert visible_organization_ids(dc_a) == (org_a.pk,)
    assert access_level_for(dc_a, org_a) == AccessLevel.DESIGNATED_CONTACT
    assert access_level_for(dc_a, org_b) is None


def test_staff_have_no_tenant_memberships(analyst, org_a):
    # DOMAIN T-5: staff see everything through a disabled scope, not memberships.
    assert visible_organization_ids(analyst) == ()


def test_reseller_members_reach_linked_end_users_with_their_level(reseller, end_user_org, org_a):
    # DOMAIN T-8
    partner_ro = member_of(reseller, AccessLevel.READ_ONLY, "ro@partner.example")
    assert set(visible_organization_ids(partner_ro)) == {reseller.pk, end_user_org.pk}
    assert access_level_for(partner_ro, end_user_org) == AccessLevel.READ_ONLY


def test_direct_membership_wins_when_higher(reseller, end_user_org):
    user = member_of(reseller, AccessLevel.READ_ONLY, "both@partner.example")
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, organization=end_user_org, access_level="DESIGNATED_CONTACT")
    user = type(user).objects.get(pk=user.pk)  # fresh object, no cached levels
    assert access_level_for(user, end_user_org) == AccessLevel.DESIGNATED_CONTACT


def test_inactive_organization_is_invisible(dc_a, org_a):
    Organization.objects.filter(pk=org_a.pk).update(is_active=False)
    dc_a = type(dc_a).objects.get(pk=dc_a.pk)
    assert visible_organization_ids(dc_a) == ()


def test_fewer_than_two_designated_contacts_is_flagged(org_a, org_b, dc_a, ro_a, dc_b):
    # DOMAIN T-7
    member_of(org_b, AccessLevel.DESIGNATED_CONTACT, "dc2@org-b.example")
    short = organizations_short_of_designated_contacts(
        Organization.objects.filter(pk__in=[org_a.pk, org_b.pk])
    )
    assert list(short) == [org_a]


def test_calendar_for_deadlines_uses_snapshot_and_closures(org_a):
    # DOMAIN B-1: public holidays of the country and subdivision, plus care's closures.
    calendar = BusinessCalendarFactory(organization=org_a, time_zone="Europe/Berlin")
    calendar_snapshot_holidays(calendar=calendar, years=[2027])
    CalendarClosure.unscoped.create(
        organization=org_a, calendar=calendar, day=date(2027, 3, 31), reason="Office move"
    )
    cal = business_calendar_for(org_a)
    assert cal.tz == "Europe/Berlin"
    assert date(2027, 3, 26) in cal.closed_dates  # Good Friday
    assert date(2027, 1, 6) in cal.closed_dates  # Epiphany, Bavaria only
    assert not business_time.is_business_day(cal, date(2027, 3, 31))
    start = datetime(2027, 3, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
    due = business_time.add_business_days(cal, start, 3)
    # Thu 25, (Good Friday, weekend, Easter Monday), Tue 30, (closure Wed 31), Thu 1 April
    assert business_time.to_local(cal, due).date() == date(2027, 4, 1)


def test_snapshot_never_changes_a_year_it_already_holds(org_a, monkeypatch):
    # DOMAIN B-1: a holiday-data update must not move an open deadline silently.
    calendar = BusinessCalendarFactory(
        organization=org_a,
        holiday_country="US",
        holiday_subdivision="",
        time_zone="America/New_York",
    )
    calendar_snapshot_holidays(calendar=calendar, years=[2027])
    before = dict(calendar.__class__.unscoped.get(pk=calendar.pk).holiday_snapshot)
    assert "2027-11-25" in before["2027"]  # Thanksgiving

    def updated_library(country, subdivision, years):
        return frozenset({date(2027, 8, 2), date(2028, 8, 7)})

    monkeypatch.setattr(business_time, "holiday_dates", updated_library)
    calendar = calendar_snapshot_holidays(calendar=calendar, years=[2027, 2028])
    assert calendar.holiday_snapshot["2027"] == before["2027"]
    assert calendar.holiday_snapshot["2028"] == ["2028-08-07"]
    refreshed = calendar_snapshot_holidays(calendar=calendar, years=[2027], refresh=True)
    assert refreshed.holiday_snapshot == {"2027": ["2027-08-02"]}


def test_organization_without_calendar_gets_default_hours(org_b):
    cal = business_calendar_for(org_b)
    assert (cal.tz, cal.opens, cal.closes) == ("UTC", time(9), time(17))
    assert cal.working_days == frozenset(range(5))
