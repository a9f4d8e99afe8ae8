"""REST API v1 for people and tenants: tokens, /me/ and /organizations/ (T-4 … T-8)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import AccessLevel
from core.tenancy import scopes_disabled
from tests.factories import (
    DEFAULT_PASSWORD,
    DeploymentFactory,
    OrganizationFactory,
    UserFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # The token endpoint's rate limit counts in the cache; each test starts with none spent.
    cache.clear()
    yield
    cache.clear()


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- token ---------------------------------------------------------------------------------


def test_token_for_email_and_password_in_any_case(dc_a):
    client = APIClient()

    first = client.post(
        TOKEN_URL, {"email": "DC@Org-A.example", "password": DEFAULT_PASSWORD}, format="json"
    )
    again = client.post(
        TOKEN_URL, {"email": "dc@org-a.example", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert first.status_code == 200
    assert first.json()["token"] == again.json()["token"] == Token.objects.get(user=dc_a).key


def test_the_token_authenticates_api_requests(dc_a):
    token = (
        APIClient()
        .post(TOKEN_URL, {"email": dc_a.email, "password": DEFAULT_PASSWORD}, format="json")
        .json()["token"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["email"] == "dc@org-a.example"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("dc@org-a.example", "wrong-password"),
        ("nobody@org-a.example", DEFAULT_PASSWORD),
    ],
)
def test_bad_credentials_are_400_with_one_message(dc_a, email, password):
    # The same words for an unknown email and a wrong password: no account oracle.
    response = APIClient().post(TOKEN_URL, {"email": email, "password": password}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Unable to sign in: the email address or the password is wrong."]
    }
    assert not Token.objects.exists()


def test_missing_fields_are_field_errors(db):
    response = APIClient().post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


def test_inactive_user_gets_no_token(dc_a):
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])

    response = APIClient().post(
        TOKEN_URL, {"email": dc_a.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert "deactivated" in response.json()["non_field_errors"][0]
    assert not Token.objects.exists()


def test_an_inactive_users_old_token_stops_working(dc_a):
    client = token_client(dc_a)
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])

    assert client.get("/api/v1/me/").status_code == 401


def test_token_can_be_revoked(dc_a):
    client = token_client(dc_a)

    revoked = client.delete(TOKEN_URL)
    after = client.get("/api/v1/me/")

    assert revoked.status_code == 204
    assert after.status_code == 401
    assert APIClient().delete(TOKEN_URL).status_code == 401


def test_token_requests_are_rate_limited(dc_a, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth-token": "3/minute"})
    client = APIClient()
    data = {"email": dc_a.email, "password": "wrong"}

    codes = [client.post(TOKEN_URL, data, format="json").status_code for _ in range(4)]

    assert codes == [400, 400, 400, 429]


def test_token_endpoint_needs_no_csrf_token(dc_a):
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(
        TOKEN_URL, {"email": dc_a.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


# --- me ------------------------------------------------------------------------------------


def test_me_for_a_customer(dc_a, org_b):
    # DOMAIN T-4
    with scopes_disabled():
        from accounts.models import Membership

        Membership.objects.create(user=dc_a, organization=org_b, access_level=AccessLevel.BASIC)
    dc_a.phone = "+1 555 0100"
    dc_a.time_zone = "Europe/Berlin"
    dc_a.save()

    body = client_for(dc_a).get("/api/v1/me/").json()

    assert body == {
        "email": "dc@org-a.example",
        "display_name": dc_a.display_name,
        "phone": "+1 555 0100",
        "time_zone": "Europe/Berlin",
        "is_staff": False,
        "roles": [],
        "organizations": [
            {"slug": "org-a", "name": "Org A", "access_level": "designated_contact"},
            {"slug": "org-b", "name": "Org B", "access_level": "basic"},
        ],
    }


def test_me_for_care_staff(analyst, org_a):
    # DOMAIN T-5: staff are members of no organization.
    body = token_client(analyst).get("/api/v1/me/").json()

    assert body["is_staff"] is True
    assert body["roles"] == ["care_analyst"]
    assert body["organizations"] == []


def test_me_needs_authentication(db):
    response = APIClient().get("/api/v1/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


# --- organizations -------------------------------------------------------------------------


def test_organizations_lists_the_users_own_with_deployments(org_a, org_b, dc_a):
    # DOMAIN T-2, T-6
    with scopes_disabled():
        DeploymentFactory(organization=org_a, code="A-OLD", name="A Old", is_active=False)
        production = org_a.deployments.get(code="A-PRD")

    response = token_client(dc_a).get("/api/v1/organizations/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "slug": "org-a",
            "name": "Org A",
            "kind": "customer",
            "support_level": "business_care",
            "access_level": "designated_contact",
            "deployments": [{"id": production.pk, "name": "A Production", "code": "A-PRD"}],
        }
    ]


@pytest.mark.parametrize("who", ["ro", "basic"])
def test_organizations_show_each_users_access_level(org_a, ro_a, basic_a, who):
    user = ro_a if who == "ro" else basic_a

    results = client_for(user).get("/api/v1/organizations/").json()["results"]

    assert [(o["slug"], o["access_level"]) for o in results] == [
        ("org-a", "read_only" if who == "ro" else "basic")
    ]


def test_reseller_contact_sees_the_end_user_organization(reseller_dc, end_user_org):
    # DOMAIN T-8
    results = token_client(reseller_dc).get("/api/v1/organizations/").json()["results"]

    assert sorted((o["slug"], o["access_level"]) for o in results) == [
        ("end-user", "designated_contact"),
        ("partner", "designated_contact"),
    ]
    end_user = next(o for o in results if o["slug"] == "end-user")
    assert [d["code"] for d in end_user["deployments"]] == ["EU-PRD"]


def test_care_sees_every_organization(org_a, org_b, analyst):
    # DOMAIN T-5
    results = client_for(analyst).get("/api/v1/organizations/").json()["results"]

    assert [(o["slug"], o["access_level"]) for o in results] == [
        ("org-a", None),
        ("org-b", None),
    ]
    assert all(o["deployments"] for o in results)


def _organizations_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/organizations/", {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def _add_organizations(count: int, user) -> None:
    with scopes_disabled():
        for _ in range(count):
            organization = OrganizationFactory()
            DeploymentFactory(organization=organization)
            DeploymentFactory(organization=organization)
            if not user.is_staff:
                from accounts.models import Membership

                Membership.objects.create(
                    user=user, organization=organization, access_level=AccessLevel.READ_ONLY
                )


@pytest.mark.parametrize("staff", [False, True])
def test_organizations_run_the_same_queries_at_5_and_50_rows(analyst, staff):
    user = analyst if staff else UserFactory(email="many@orgs.example")
    _add_organizations(5, user)
    at_5 = _organizations_queries(client_for(user))
    _add_organizations(45, user)
    client = client_for(user)
    at_50 = _organizations_queries(client)

    assert at_50 == at_5
    assert client.get("/api/v1/organizations/", {"page_size": 100}).json()["count"] == 50


def test_another_users_membership_changes_nothing_for_me(org_a, org_b, dc_a):
    # DOMAIN T-6: organizations come from the caller's own memberships only.
    member_of(org_b, AccessLevel.DESIGNATED_CONTACT, "someone@org-b.example")

    results = client_for(dc_a).get("/api/v1/organizations/").json()["results"]

    assert [o["slug"] for o in results] == ["org-a"]
