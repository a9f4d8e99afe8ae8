"""Profile changes, holiday snapshot upkeep (T-11, B-1), and care's changes to an
organization's set-up with their history (T-4, T-5, S-5, B-1)."""

import threading
import time as time_module
from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import services
from accounts.forms import ProfileForm
from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    CalendarClosure,
    Membership,
    Organization,
    OrganizationChange,
    SupportLevel,
)
from accounts.services import calendars_extend_holiday_snapshots, user_update_profile
from core.errors import InvalidInput, NotAllowed
from core.tenancy import scopes_disabled
from tests.cases import migrated_data_restored, postgres_only  # noqa: F401  (a fixture)
from tests.factories import BusinessCalendarFactory, UserFactory
from tests.helpers.concurrency import race

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


def test_a_name_and_phone_are_one_line_however_they_are_written(dc_a):
    # DOMAIN T-11: they reach email headers and bodies; a line break would start a new line
    user_update_profile(
        user=dc_a,
        data={
            "display_name": "Dana\r\nBcc: victim@example.org\x00 Doe",
            "phone": "+1 555 0100\n",
            "time_zone": "",
        },
    )
    dc_a.refresh_from_db()
    assert (dc_a.display_name, dc_a.phone) == ("Dana Bcc: victim@example.org Doe", "+1 555 0100")

    dc_a.display_name = "Care\twrote:\n> quoted"
    dc_a.save()  # the care workspace and every other path
    dc_a.refresh_from_db()
    assert dc_a.display_name == "Care wrote: > quoted"


@pytest.mark.parametrize("pin", ["²³⁴⁵", "١٢٣٤", "１２３４", "12a4", "123", "123456789"])
def test_a_pin_is_four_to_eight_ascii_digits(dc_a, pin):
    # DOMAIN T-11: str.isdigit() accepts superscripts and other scripts' digits
    with pytest.raises(ValidationError):
        dc_a.set_pin(pin)
    form = ProfileForm(
        data={"display_name": "Dana", "time_zone": "", "new_pin": pin, "confirm_pin": pin},
        instance=dc_a,
    )
    assert not form.is_valid() and "new_pin" in form.errors


def test_extending_snapshots_adds_missing_years_once(org_a, org_b):
    # DOMAIN B-1
    BusinessCalendarFactory(organization=org_a)
    BusinessCalendarFactory(organization=org_b, holiday_country="", holiday_subdivision="")
    now = datetime(2027, 6, 1, tzinfo=UTC)
    assert calendars_extend_holiday_snapshots(now=now) == 2
    assert calendars_extend_holiday_snapshots(now=now) == 0
    calendar = org_a.businesscalendars.model.unscoped.get(organization=org_a)
    assert sorted(calendar.holiday_snapshot) == ["2026", "2027", "2028", "2029", "2030"]


# --- care's changes to an organization's set-up, with their history (T-4, S-5, B-1) ---------

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@care.example", is_staff=True, is_superuser=True)


def history(organization: Organization) -> list[tuple[str, int | None, dict, dict]]:
    with scopes_disabled():
        return list(
            OrganizationChange.unscoped.filter(organization=organization)
            .order_by("created_at", "id")
            .values_list("kind", "actor", "before", "after")
        )


def state(organization: Organization) -> dict:
    """Everything a refused change must leave as it was."""
    with scopes_disabled():
        return {
            "organization": Organization.objects.filter(pk=organization.pk).values().get(),
            "calendars": list(BusinessCalendar.unscoped.filter(organization=organization).values()),
            "closures": list(CalendarClosure.unscoped.filter(organization=organization).values()),
            "members": list(Membership.unscoped.filter(organization=organization).values()),
            "history": history(organization),
        }


def test_a_manager_changes_the_support_level_with_a_history_row(org_a, manager):
    # DOMAIN S-5
    change = services.organization_change_support_level(
        organization=org_a, actor=manager, support_level=SupportLevel.PREMIUM, now=NOW
    )

    assert Organization.objects.get(pk=org_a.pk).support_level == "PREMIUM"
    assert change is not None and change.created_at == NOW
    assert history(org_a) == [
        ("support_level", manager.pk, {"support_level": "BUSINESS_CARE"},
         {"support_level": "PREMIUM"}),
    ]  # fmt: skip


def test_the_same_support_level_again_changes_nothing(org_a, manager):
    assert (
        services.organization_change_support_level(
            organization=org_a, actor=manager, support_level="BUSINESS_CARE", now=NOW
        )
        is None
    )
    assert history(org_a) == []


@pytest.mark.parametrize("who", ["analyst", "product_manager", "dc_a"])
def test_only_managers_change_an_organization_and_a_refusal_changes_nothing(
    request, org_a, dc_a, who
):
    # DOMAIN T-5
    actor = request.getfixturevalue(who)
    before = state(org_a)
    calls = [
        lambda: services.organization_change_support_level(
            organization=org_a, actor=actor, support_level="PREMIUM", now=NOW
        ),
        lambda: services.organization_update(
            organization=org_a, actor=actor, changes={"name": "Renamed"}, now=NOW
        ),
        lambda: services.calendar_create(
            calendar=BusinessCalendar(organization=org_a, time_zone="UTC", working_days=[0]),
            actor=actor,
            now=NOW,
        ),
        lambda: services.membership_add(
            organization=org_a,
            user=UserFactory(email=f"new-{who}@org-a.example"),
            access_level=AccessLevel.BASIC,
            actor=actor,
            now=NOW,
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()

    assert state(org_a) == before


def test_an_unknown_support_level_is_refused(org_a, manager):
    with pytest.raises(InvalidInput) as refused:
        services.organization_change_support_level(
            organization=org_a, actor=manager, support_level="GOLD", now=NOW
        )
    assert "support_level" in refused.value.errors
    assert history(org_a) == []


def test_details_change_with_only_the_changed_fields_in_the_history(org_a, manager):
    change = services.organization_update(
        organization=org_a,
        actor=manager,
        changes={"name": "Org A Holding", "slug": "org-a", "is_active": True},
        now=NOW,
    )

    assert Organization.objects.get(pk=org_a.pk).name == "Org A Holding"
    assert (change.kind, change.before, change.after) == (
        "details",
        {"name": "Org A"},
        {"name": "Org A Holding"},
    )


def test_details_are_checked_like_the_form_checks_them(org_a, org_b, manager):
    before = state(org_a)
    with pytest.raises(InvalidInput) as refused:
        services.organization_update(
            organization=org_a,
            actor=manager,
            changes={"slug": "org-b", "distribution_list": "not an address"},
            now=NOW,
        )
    assert set(refused.value.errors) == {"slug", "distribution_list"}
    with pytest.raises(InvalidInput, match="support_level"):
        services.organization_update(
            organization=org_a, actor=manager, changes={"support_level": "CARE"}, now=NOW
        )
    assert state(org_a) == before


def test_adding_an_organization_starts_its_history(manager):
    organization = Organization(slug="initech", name="Initech", support_level="CARE")

    services.organization_create(organization=organization, actor=manager, now=NOW)

    [(kind, actor, before, after)] = history(organization)
    assert (kind, actor, before) == ("created", manager.pk, {})
    assert after["slug"] == "initech" and after["support_level"] == "CARE"
    assert Organization.objects.get(slug="initech").created_at == NOW


# --- calendars ------------------------------------------------------------------------------


def test_a_new_calendar_snapshots_holidays_and_records_its_closed_days(org_a, manager):
    # DOMAIN B-1
    calendar = BusinessCalendar(
        organization=org_a, time_zone="Europe/Berlin", working_days=[0, 1, 2, 3, 4],
        holiday_country="DE", holiday_subdivision="BY",
    )  # fmt: skip

    services.calendar_create(
        calendar=calendar, actor=manager, closures={date(2026, 12, 24): "Office party"}, now=NOW
    )

    with scopes_disabled():
        stored = BusinessCalendar.unscoped.get(organization=org_a)
        assert list(stored.closures.values_list("day", "reason", "organization")) == [
            (date(2026, 12, 24), "Office party", org_a.pk)
        ]
    assert "2026-01-06" in stored.holiday_snapshot["2026"]  # Epiphany in Bavaria
    assert calendar.holiday_snapshot == stored.holiday_snapshot
    [(kind, actor, before, after)] = history(org_a)
    assert (kind, actor, before) == ("calendar", manager.pk, {})
    assert after["closures"] == [["2026-12-24", "Office party"]]
    assert after["opens"] == "09:00:00"


def test_a_calendar_edit_records_what_changed_and_sets_the_closed_days(org_a, manager):
    # DOMAIN B-1
    calendar = BusinessCalendarFactory(organization=org_a)
    with scopes_disabled():
        CalendarClosure.unscoped.create(
            organization=org_a, calendar=calendar, day=date(2026, 5, 4), reason="Move"
        )
        CalendarClosure.unscoped.create(
            organization=org_a, calendar=calendar, day=date(2026, 5, 5), reason="Move"
        )

    change = services.calendar_update(
        calendar=calendar,
        actor=manager,
        changes={"opens": time(8, 0), "time_zone": "Europe/Berlin"},
        closures={date(2026, 5, 5): "Move, day two", date(2026, 12, 31): "Year end"},
        now=NOW,
    )

    with scopes_disabled():
        closures = list(
            CalendarClosure.unscoped.filter(calendar=calendar).values_list("day", "reason")
        )
        assert BusinessCalendar.unscoped.get(pk=calendar.pk).opens == time(8, 0)
    assert closures == [(date(2026, 5, 5), "Move, day two"), (date(2026, 12, 31), "Year end")]
    assert change.before == {
        "opens": "09:00:00",
        "closures": [["2026-05-04", "Move"], ["2026-05-05", "Move"]],
    }
    assert change.after == {
        "opens": "08:00:00",
        "closures": [["2026-05-05", "Move, day two"], ["2026-12-31", "Year end"]],
    }


def test_a_calendar_saved_unchanged_writes_no_history(org_a, manager):
    calendar = BusinessCalendarFactory(organization=org_a)

    assert (
        services.calendar_update(
            calendar=calendar, actor=manager, changes={"time_zone": "Europe/Berlin"}, now=NOW
        )
        is None
    )
    assert history(org_a) == []


def test_a_new_holiday_country_takes_a_fresh_snapshot(org_a, manager):
    # DOMAIN B-1: existing years change only when care changes the country on purpose
    calendar = BusinessCalendarFactory(organization=org_a)
    services.calendar_snapshot_holidays(calendar=calendar, years=[2026])

    services.calendar_update(
        calendar=calendar,
        actor=manager,
        changes={"holiday_country": "US", "holiday_subdivision": ""},
        now=NOW,
    )

    with scopes_disabled():
        snapshot = BusinessCalendar.unscoped.get(pk=calendar.pk).holiday_snapshot
    assert "2026-07-03" in snapshot["2026"]  # Independence Day observed
    assert "2026-01-06" not in snapshot["2026"]


def test_bad_calendar_input_is_refused_and_changes_nothing(org_a, manager):
    calendar = BusinessCalendarFactory(organization=org_a)
    before = state(org_a)

    with pytest.raises(InvalidInput) as refused:
        services.calendar_update(
            calendar=calendar, actor=manager, changes={"closes": time(8, 0)}, now=NOW
        )
    assert "closes" in refused.value.errors
    with pytest.raises(InvalidInput, match="organization"):
        services.calendar_update(
            calendar=calendar, actor=manager, changes={"organization": None}, now=NOW
        )
    with pytest.raises(InvalidInput):
        services.calendar_create(
            calendar=BusinessCalendar(organization=org_a, time_zone="UTC", working_days=[0]),
            actor=manager,
            now=NOW,
        )  # one calendar per organization

    assert state(org_a) == before


def test_removing_a_calendar_is_for_superusers_and_recorded(org_a, manager, superuser):
    # The care roles do not delete calendars; a superuser may.
    calendar = BusinessCalendarFactory(organization=org_a)
    before = state(org_a)
    with pytest.raises(NotAllowed):
        services.calendar_delete(calendar=calendar, actor=manager, now=NOW)
    assert state(org_a) == before

    change = services.calendar_delete(calendar=calendar, actor=superuser, now=NOW)

    with scopes_disabled():
        assert not BusinessCalendar.unscoped.filter(organization=org_a).exists()
    assert (change.kind, change.after, change.before["time_zone"]) == (
        "calendar",
        {},
        "Europe/Berlin",
    )


# --- memberships ----------------------------------------------------------------------------


def test_members_come_change_and_go_with_a_history_row_each(org_a, manager):
    # DOMAIN T-4
    user = UserFactory(email="new@org-a.example")

    membership = services.membership_add(
        organization=org_a, user=user, access_level=AccessLevel.READ_ONLY, actor=manager, now=NOW
    )
    services.membership_change_level(
        membership=membership, actor=manager, access_level=AccessLevel.DESIGNATED_CONTACT, now=NOW
    )
    services.membership_remove(membership=membership, actor=manager, now=NOW)

    with scopes_disabled():
        assert not Membership.unscoped.filter(user=user).exists()
    assert history(org_a) == [
        ("membership", manager.pk, {}, {"user": user.pk, "access_level": "READ_ONLY"}),
        ("membership", manager.pk, {"user": user.pk, "access_level": "READ_ONLY"},
         {"user": user.pk, "access_level": "DESIGNATED_CONTACT"}),
        ("membership", manager.pk, {"user": user.pk, "access_level": "DESIGNATED_CONTACT"}, {}),
    ]  # fmt: skip


def test_membership_rules_are_kept(org_a, dc_a, manager, analyst):
    # DOMAIN T-4, T-5: staff are never members; a user is a member once; levels are known
    with scopes_disabled():
        membership = Membership.unscoped.get(user=dc_a)
    before = state(org_a)

    with pytest.raises(InvalidInput, match="Some fields"):
        services.membership_add(
            organization=org_a, user=analyst, access_level="BASIC", actor=manager, now=NOW
        )
    with pytest.raises(InvalidInput):
        services.membership_add(
            organization=org_a, user=dc_a, access_level="BASIC", actor=manager, now=NOW
        )
    with pytest.raises(InvalidInput, match="Choose"):
        services.membership_change_level(
            membership=membership, actor=manager, access_level="OWNER", now=NOW
        )
    with pytest.raises(NotAllowed):
        services.membership_remove(membership=membership, actor=analyst, now=NOW)
    assert (
        services.membership_change_level(
            membership=membership, actor=manager, access_level="DESIGNATED_CONTACT", now=NOW
        )
        is None
    )

    assert state(org_a) == before


def test_the_organization_history_is_append_only(org_a, manager):
    services.organization_change_support_level(
        organization=org_a, actor=manager, support_level="PREMIUM", now=NOW
    )
    with scopes_disabled():
        change = OrganizationChange.unscoped.get()
        change.after = {"support_level": "CARE"}
        with pytest.raises(ValueError, match="append-only"):
            change.save()
        with pytest.raises(ValueError, match="append-only"):
            change.delete()
        for manager_ in (OrganizationChange.objects, OrganizationChange.unscoped):
            with pytest.raises(ValueError, match="append-only"):
                manager_.update(after={})
            with pytest.raises(ValueError, match="append-only"):
                manager_.all().delete()
        assert OrganizationChange.unscoped.get().after == {"support_level": "PREMIUM"}


@postgres_only
def test_a_support_level_change_waits_for_the_organization_lock(org_a, manager):
    # Two managers changing the same organization queue on its row: the second sees the
    # first's level as its "before".
    locked = threading.Event()
    released: list[float] = []

    def hold_the_organization() -> None:
        with transaction.atomic():
            Organization.objects.select_for_update().get(pk=org_a.pk)
            locked.set()
            time_module.sleep(0.3)
            Organization.objects.filter(pk=org_a.pk).update(support_level="CARE")
            released.append(time_module.monotonic())

    def change() -> float:
        assert locked.wait(timeout=10)
        services.organization_change_support_level(
            organization=org_a, actor=manager, support_level="PREMIUM", now=NOW
        )
        return time_module.monotonic()

    _, changed_at = race(hold_the_organization, change)

    assert isinstance(changed_at, float), changed_at
    assert changed_at >= released[0]
    assert history(org_a) == [
        ("support_level", manager.pk, {"support_level": "CARE"}, {"support_level": "PREMIUM"})
    ]
