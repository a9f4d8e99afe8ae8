"""Care's changes to an organization that move due times (S-5, S-8, B-1): the change is saved
with its history row by the accounts service and the open cases are recomputed, in one
transaction."""

from __future__ import annotations

from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from accounts.models import BusinessCalendar, Organization, OrganizationChange
from accounts.selectors import business_calendar_for
from cases import services
from cases.models import Case
from cases.services import organizations
from cases.sla import targets_for
from core import business_time
from core.errors import NotAllowed
from core.tenancy import scopes_disabled
from tests.cases import reload
from tests.factories import BusinessCalendarFactory, UserFactory, open_case

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10 = datetime(2026, 3, 2, 10, tzinfo=BERLIN)


def kinds(organization: Organization) -> list[str]:
    with scopes_disabled():
        return list(
            OrganizationChange.unscoped.filter(organization=organization)
            .order_by("id")
            .values_list("kind", flat=True)
        )


def due_times(case: Case) -> tuple:
    case = reload(case)
    return (case.response_due_at, case.resolution_due_at, case.sla_next_due_at)


def test_a_new_support_level_recomputes_the_open_cases(org_a, dc_a, manager):
    # DOMAIN S-5, S-8
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    closed = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    with scopes_disabled():
        Case.unscoped.filter(pk=closed.pk).update(sub_status="cancelled", status="closed")
    closed_due = due_times(closed)

    recomputed = services.organization_change_support_level(
        organization=org_a, actor=manager, support_level="PREMIUM", now=MONDAY_10
    )

    fast = targets_for(case_type="support", priority="medium", support_level="PREMIUM")
    assert recomputed == 1
    assert reload(case).response_due_at == fast.response.due(
        business_calendar_for(org_a), reload(case).opened_at
    )
    assert due_times(closed) == closed_due
    assert kinds(org_a) == ["support_level"]


def test_the_same_level_again_recomputes_nothing(org_a, dc_a, manager):
    open_case(dc_a, org_a, now=MONDAY_10)

    assert (
        services.organization_change_support_level(
            organization=org_a, actor=manager, support_level="BUSINESS_CARE", now=MONDAY_10
        )
        == 0
    )
    assert kinds(org_a) == []


@pytest.mark.parametrize("who", ["analyst", "dc_a"])
def test_a_refused_change_moves_no_due_time(request, org_a, dc_a, who):
    # DOMAIN T-5
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    before = due_times(case)
    with scopes_disabled():
        calendar = BusinessCalendarFactory(organization=org_a)

    with pytest.raises(NotAllowed):
        services.organization_change_support_level(
            organization=org_a,
            actor=request.getfixturevalue(who),
            support_level="PREMIUM",
            now=MONDAY_10,
        )
    with pytest.raises(NotAllowed):
        services.calendar_update(
            calendar=calendar,
            actor=request.getfixturevalue(who),
            changes={"opens": datetime(2026, 1, 1, 6).time()},
            now=MONDAY_10,
        )

    assert due_times(case) == before
    assert Organization.objects.get(pk=org_a.pk).support_level == "BUSINESS_CARE"
    assert kinds(org_a) == []


def test_a_closed_day_moves_the_resolution_due_time(org_a, dc_a, manager):
    # DOMAIN B-1, S-8
    with scopes_disabled():
        calendar = BusinessCalendarFactory(
            organization=org_a, holiday_country="", holiday_subdivision=""
        )
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="low")
    before = reload(case).resolution_due_at
    tuesday = business_time.next_business_day(business_calendar_for(org_a), MONDAY_10.date())

    recomputed = services.calendar_update(
        calendar=calendar,
        actor=manager,
        changes={},
        closures={tuesday: "Office move"},
        now=MONDAY_10,
    )

    assert recomputed == 1
    assert reload(case).resolution_due_at > before
    assert kinds(org_a) == ["calendar"]


def test_a_new_calendar_and_its_removal_recompute(org_a, dc_a, manager):
    # DOMAIN B-1: without a calendar the defaults apply (UTC, Monday to Friday)
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    on_defaults = due_times(case)
    calendar = BusinessCalendar(
        organization=org_a, time_zone="America/Los_Angeles", working_days=[0, 1, 2, 3, 4]
    )

    assert services.calendar_create(calendar=calendar, actor=manager, now=MONDAY_10) == 1
    on_calendar = due_times(case)
    superuser = UserFactory(email="root@care.example", is_staff=True, is_superuser=True)
    assert services.calendar_delete(calendar=calendar, actor=superuser, now=MONDAY_10) == 1

    assert on_calendar != on_defaults
    assert due_times(case) == on_defaults
    assert kinds(org_a) == ["calendar", "calendar"]


def test_the_change_and_the_recompute_are_one_transaction(org_a, dc_a, manager):
    # A change whose recompute fails leaves no trace: no new level, no history row (a fault
    # injected the way the follow-up tests inject a failing email).
    open_case(dc_a, org_a, now=MONDAY_10)
    failing = mock.patch.object(
        organizations, "sla_recompute_for_organization", side_effect=RuntimeError("disk full")
    )

    with failing, pytest.raises(RuntimeError):
        services.organization_change_support_level(
            organization=org_a, actor=manager, support_level="PREMIUM", now=MONDAY_10
        )

    assert Organization.objects.get(pk=org_a.pk).support_level == "BUSINESS_CARE"
    assert kinds(org_a) == []
