"""The organizations a customer's pages show (T-6, T-8) and the calendar deadlines use (B-1),
read with as few queries as the pages can."""

from datetime import date, time

import pytest

from accounts.models import AccessLevel, CalendarClosure, Organization
from accounts.selectors import business_calendar_for, visible_organizations
from tests.factories import BusinessCalendarFactory, MembershipFactory, UserFactory, member_of

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it: nothing cached on the instance."""
    return type(user).objects.get(pk=user.pk)


def test_one_organization_comes_with_the_membership_query(dc_a, org_a, django_assert_num_queries):
    # DOMAIN T-6: the layout names the organization; the scope's query already read it.
    BusinessCalendarFactory(organization=org_a, time_zone="Europe/Berlin")
    user = fresh(dc_a)
    with django_assert_num_queries(1):
        organizations = visible_organizations(user)
        assert visible_organizations(user) is organizations
    assert [(o.pk, o.name, o.slug, o.created_at) for o in organizations] == [
        (org_a.pk, org_a.name, org_a.slug, org_a.created_at)
    ]
    assert organizations[0].calendar_time_zone == "Europe/Berlin"
    assert organizations[0].support_level == Organization.objects.get(pk=org_a.pk).support_level


def test_several_organizations_are_listed_by_name(
    dc_a, org_a, org_b, no_scope, django_assert_num_queries
):
    MembershipFactory(user=dc_a, organization=org_b, access_level=AccessLevel.READ_ONLY)
    user = fresh(dc_a)
    with django_assert_num_queries(1):
        organizations = visible_organizations(user)
    assert [o.pk for o in organizations] == [
        o.pk for o in sorted([org_a, org_b], key=lambda o: o.name)
    ]
    assert all(o.calendar_time_zone is None for o in organizations)


def test_reseller_members_see_the_linked_organizations_too(reseller, end_user_org):
    # DOMAIN T-8
    partner = member_of(reseller, AccessLevel.READ_ONLY, "ro@partner.example")
    names = {o.name for o in visible_organizations(fresh(partner))}
    assert names == {reseller.name, end_user_org.name}


def test_staff_and_people_without_membership(analyst, org_a, org_b, no_scope):
    assert {o.pk for o in visible_organizations(fresh(analyst))} >= {org_a.pk, org_b.pk}
    assert visible_organizations(fresh(UserFactory(email="nobody@a.example"))) == []


def test_calendar_with_several_closures_in_one_query(org_a, django_assert_num_queries):
    # DOMAIN B-1
    calendar = BusinessCalendarFactory(
        organization=org_a, time_zone="America/New_York", opens=time(8), closes=time(18)
    )
    for day in (date(2027, 3, 31), date(2027, 4, 1)):
        CalendarClosure.unscoped.create(
            organization=org_a, calendar=calendar, day=day, reason="Office move"
        )
    with django_assert_num_queries(1):
        cal = business_calendar_for(org_a.pk)
    assert (cal.tz, cal.opens, cal.closes) == ("America/New_York", time(8), time(18))
    assert cal.working_days == frozenset(calendar.working_days)
    assert {date(2027, 3, 31), date(2027, 4, 1)} <= cal.closed_dates
