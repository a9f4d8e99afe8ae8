"""Two customers on real calendars: globex in Bavaria, acme in New York (B-1)."""

from __future__ import annotations

import pytest

from accounts.models import AccessLevel
from accounts.services import calendar_snapshot_holidays
from core.tenancy import scopes_disabled
from tests.factories import (
    BusinessCalendarFactory,
    DeploymentFactory,
    OrganizationFactory,
    member_of,
)

YEARS = (2026, 2027, 2028)


def _customer(slug: str, name: str, zone: str, country: str, subdivision: str):
    with scopes_disabled():
        org = OrganizationFactory(slug=slug, name=name)
        DeploymentFactory(organization=org, code=f"{slug.upper()}-PRD", name="Production")
        calendar = BusinessCalendarFactory(
            organization=org,
            time_zone=zone,
            holiday_country=country,
            holiday_subdivision=subdivision,
        )
        calendar_snapshot_holidays(calendar=calendar, years=YEARS)
    return org


@pytest.fixture
def globex(db):
    return _customer("globex", "Globex", "Europe/Berlin", "DE", "BY")


@pytest.fixture
def acme(db):
    return _customer("acme", "Acme", "America/New_York", "US", "")


@pytest.fixture
def globex_dc(globex):
    return member_of(globex, AccessLevel.DESIGNATED_CONTACT, "dc@globex.example")


@pytest.fixture
def acme_dc(acme):
    return member_of(acme, AccessLevel.DESIGNATED_CONTACT, "dc@acme.example")
