"""The signed-in user of a request is read with their organizations in one query, and the
organizations are exactly what the selectors would read on their own (T-4, T-6)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.backends import EmailBackend
from accounts.models import AccessLevel, Organization
from accounts.selectors import access_levels, visible_organizations
from core.tenancy import scopes_disabled
from tests.factories import BusinessCalendarFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def organizations_read_alone(user) -> list[tuple]:
    """What ``accounts.selectors`` reads when the backend left nothing cached."""
    with scopes_disabled():
        fresh = type(user).objects.get(pk=user.pk)
    return [
        (o.pk, o.slug, o.name, o.membership_level, o.calendar_time_zone)
        for o in visible_organizations(fresh)
    ]


def organizations_of(user) -> list[tuple]:
    return [
        (o.pk, o.slug, o.name, o.membership_level, o.calendar_time_zone)
        for o in user._member_organizations_cache
    ]


def test_user_and_organizations_in_one_query(dc_a, org_a, org_b):
    # DOMAIN T-6: a member of two organizations (one with a business calendar), by name
    with scopes_disabled():
        MembershipFactory(user=dc_a, organization=org_b, access_level=AccessLevel.READ_ONLY)
        BusinessCalendarFactory(organization=org_b, time_zone="Asia/Tokyo")
    with CaptureQueriesContext(connection) as queries:
        user = EmailBackend().get_user(dc_a.pk)
        levels = access_levels(user)
        shown = visible_organizations(user)
    assert len(queries.captured_queries) == 1
    assert user == dc_a
    assert levels == {
        org_a.pk: AccessLevel.DESIGNATED_CONTACT,
        org_b.pk: AccessLevel.READ_ONLY,
    }
    assert [o.name for o in shown] == ["Org A", "Org B"]
    assert organizations_of(user) == organizations_read_alone(dc_a)
    assert [o.calendar_time_zone for o in shown] == [None, "Asia/Tokyo"]


def test_inactive_organizations_are_left_out(dc_a, org_a, org_b):
    # DOMAIN T-6: an inactive organization's cases are not visible through the membership
    with scopes_disabled():
        MembershipFactory(user=dc_a, organization=org_b, access_level=AccessLevel.READ_ONLY)
        Organization.objects.filter(pk=org_b.pk).update(is_active=False)
    user = EmailBackend().get_user(dc_a.pk)
    assert [o.pk for o in user._member_organizations_cache] == [org_a.pk]
    assert organizations_of(user) == organizations_read_alone(dc_a)


def test_user_without_active_memberships_is_read_alone(analyst, dc_a, org_a):
    # DOMAIN T-5: care staff have no memberships; a customer whose only organization went
    # inactive sees none
    staff = EmailBackend().get_user(analyst.pk)
    assert staff == analyst
    assert staff._member_organizations_cache == []
    with scopes_disabled():
        Organization.objects.filter(pk=org_a.pk).update(is_active=False)
    with CaptureQueriesContext(connection) as queries:
        user = EmailBackend().get_user(dc_a.pk)
        levels = access_levels(user)
    assert user == dc_a
    assert levels == {}
    assert len(queries.captured_queries) == 2  # the memberships, then the user alone


def test_inactive_or_unknown_users_are_not_signed_in(dc_a, analyst):
    type(dc_a).objects.filter(pk__in=[dc_a.pk, analyst.pk]).update(is_active=False)
    assert EmailBackend().get_user(dc_a.pk) is None
    assert EmailBackend().get_user(analyst.pk) is None
    assert EmailBackend().get_user(10**9) is None


def test_a_signed_in_page_reads_the_user_once(client, dc_a, org_a):
    # the layout, the tenant scope and the page share the organizations read with the user
    client.force_login(dc_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/help/")
    assert response.status_code == 200
    user_reads = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    organization_reads = [
        q["sql"] for q in queries.captured_queries if "accounts_organization" in q["sql"]
    ]
    assert len(user_reads) == 1
    assert organization_reads == user_reads
    assert b"Org A" in response.content
