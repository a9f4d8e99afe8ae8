"""Users, organizations and calendars (T-1, T-4, T-5, T-8, T-11, B-1)."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    Membership,
    Organization,
    ResellerLink,
    User,
)
from core.tenancy import scopes_disabled
from tests.factories import DEFAULT_PASSWORD, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_lowercase_and_unique_ignoring_case():
    UserFactory(email="Jane.Doe@Example.COM")
    assert User.objects.filter(email="jane.doe@example.com").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="JANE.DOE@example.com")


def test_email_clash_is_a_clear_validation_error():
    UserFactory(email="jane@example.com")
    clash = User(email="JANE@example.com", display_name="Other")
    with pytest.raises(ValidationError, match="already exists"):
        clash.full_clean(exclude=["password"])


def test_login_with_email_ignores_case():
    user = UserFactory(email="sam@example.com")
    assert authenticate(username="SAM@Example.com", password=DEFAULT_PASSWORD) == user
    assert authenticate(username="sam@example.com", password="wrong") is None


def test_inactive_user_cannot_log_in():
    UserFactory(email="gone@example.com", is_active=False)
    assert authenticate(username="gone@example.com", password=DEFAULT_PASSWORD) is None


def test_pin_is_hashed_and_checked():
    # DOMAIN T-11: the profile holds a PIN used by mobile clients.
    user = UserFactory()
    user.set_pin("4711")
    user.save()
    user.refresh_from_db()
    assert "4711" not in user.pin_hash
    assert user.check_pin("4711")
    assert not user.check_pin("4712")
    with pytest.raises(ValidationError, match="4 to 8 digits"):
        user.set_pin("12a4")


def test_time_zone_must_be_real():
    user = UserFactory()
    user.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError, match="not a known time zone"):
        user.full_clean(exclude=["password"])


def test_staff_cannot_be_members(org_a, analyst):
    # DOMAIN T-5: care staff are not members of organizations.
    membership = Membership(user=analyst, organization=org_a, access_level=AccessLevel.BASIC)
    with pytest.raises(ValidationError, match="not members"), scopes_disabled():
        membership.full_clean()


def test_one_membership_per_user_and_organization(dc_a, org_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.unscoped.create(user=dc_a, organization=org_a, access_level=AccessLevel.BASIC)


def test_reseller_link_needs_a_reseller_and_a_customer():
    # DOMAIN T-8
    customer = OrganizationFactory()
    other = OrganizationFactory()
    with pytest.raises(ValidationError, match="Only a reseller"):
        ResellerLink(reseller=customer, end_user=other).full_clean()
    reseller = OrganizationFactory(kind=Organization.Kind.RESELLER)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResellerLink.objects.create(reseller=reseller, end_user=reseller)


def test_distribution_list_addresses_are_validated():
    org = OrganizationFactory.build(slug="x", name="X", distribution_list="ops@x.example\nnot-mail")
    with pytest.raises(ValidationError, match="not-mail"):
        org.full_clean()
    org.distribution_list = "ops@x.example\n\n noc@x.example "
    org.full_clean()
    assert org.distribution_addresses() == ["ops@x.example", "noc@x.example"]


def test_calendar_rejects_closing_before_opening_and_unknown_country(org_a):
    # DOMAIN B-1
    from datetime import time

    calendar = BusinessCalendar(
        organization=org_a,
        time_zone="Europe/Berlin",
        working_days=[0, 1, 2, 3, 4],
        opens=time(17),
        closes=time(9),
    )
    with pytest.raises(ValidationError) as caught, scopes_disabled():
        calendar.full_clean()
    assert "closes" in caught.value.message_dict
    calendar.closes = time(18)
    calendar.opens = time(8)
    calendar.holiday_country = "XX"
    with pytest.raises(ValidationError) as caught, scopes_disabled():
        calendar.full_clean()
    assert "holiday_country" in caught.value.message_dict


@pytest.mark.parametrize("days", [[], [7], [0, 0], ["mon"], [True]])
def test_calendar_working_days_are_validated(org_a, days):
    calendar = BusinessCalendar(organization=org_a, time_zone="UTC", working_days=days)
    with pytest.raises(ValidationError) as caught, scopes_disabled():
        calendar.full_clean()
    assert "working_days" in caught.value.message_dict
