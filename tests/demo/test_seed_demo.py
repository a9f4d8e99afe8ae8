"""The demo data command."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AccessLevel, BusinessCalendar, Membership, Organization, User
from accounts.selectors import visible_organization_ids
from core.tenancy import scopes_disabled

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_documented_world_and_is_idempotent(settings):
    settings.DEMO_PASSWORD = "demo-pass-test"
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert set(Organization.objects.values_list("slug", flat=True)) == {
        "acme",
        "globex",
        "northwind",
        "initech",
    }
    with scopes_disabled():
        assert Membership.objects.count() == 13
        acme_calendar = BusinessCalendar.objects.get(organization__slug="acme")
        globex_calendar = BusinessCalendar.objects.get(organization__slug="globex")
        level = Membership.objects.get(user__email="ro@acme.example").access_level
    assert level == AccessLevel.READ_ONLY
    assert (acme_calendar.time_zone, acme_calendar.holiday_country) == ("America/New_York", "US")
    assert (globex_calendar.holiday_country, globex_calendar.holiday_subdivision) == ("DE", "BY")
    assert acme_calendar.holiday_snapshot  # holidays copied in
    dc1 = User.objects.get(email="dc1@acme.example")
    assert dc1.check_password("demo-pass-test")
    analyst = User.objects.get(email="analyst@care.example")
    assert analyst.is_staff and analyst.groups.filter(name="CARE_ANALYST").exists()
    northwind = User.objects.get(email="dc1@northwind.example")
    initech = Organization.objects.get(slug="initech")
    assert initech.pk in visible_organization_ids(northwind)


def test_seed_demo_refuses_a_negative_case_count(db):
    with pytest.raises(CommandError, match="0 or more"):
        call_command("seed_demo", cases=-1, verbosity=0)
    assert not Organization.objects.exists()
