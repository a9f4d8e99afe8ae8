"""Tenant scoping fails closed (T-1, T-6, T-8)."""

import pytest
from django.urls import reverse

from accounts.models import AccessLevel, Deployment, Membership
from core.tenancy import ScopeError, scopes_disabled, tenant_scope
from tests.factories import member_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        lambda: list(Deployment.objects.all()),
        lambda: Deployment.objects.count(),
        lambda: Deployment.objects.exists(),
        lambda: Deployment.objects.filter(code="A-PRD").first(),
        lambda: Deployment.objects.values_list("pk", flat=True),
        lambda: Membership.objects.get(pk=1),
    ],
    ids=["list", "count", "exists", "filter-first", "values_list", "get"],
)
def test_query_outside_any_scope_raises(org_a, query):
    # DOMAIN T-6: a forgotten scope is an error, never a leak.
    with pytest.raises(ScopeError, match="No tenant scope is active"):
        query()


def test_scope_limits_rows_to_its_organizations(org_a, org_b):
    # DOMAIN T-6
    with tenant_scope([org_a.pk]):
        assert list(Deployment.objects.values_list("code", flat=True)) == ["A-PRD"]
        b_deployment_id = Deployment.unscoped.get(code="B-PRD").pk
        with pytest.raises(Deployment.DoesNotExist):
            Deployment.objects.get(pk=b_deployment_id)


def test_empty_scope_sees_nothing(org_a):
    with tenant_scope([]):
        assert Deployment.objects.count() == 0


def test_scopes_disabled_sees_every_tenant(org_a, org_b):
    # DOMAIN T-5: staff and sweeps disable the scope explicitly.
    with scopes_disabled():
        assert Deployment.objects.count() == 2


def test_related_manager_is_scoped_too(org_a, org_b):
    with tenant_scope([org_a.pk]):
        assert org_b.deployments.count() == 0
        assert org_a.deployments.count() == 1


def test_user_of_a_gets_404_for_b_organization(client, dc_a, org_b):
    # DOMAIN T-6: another tenant's object answers 404, the same as a missing one.
    client.force_login(dc_a)
    other = client.get(reverse("organization", args=[org_b.slug]))
    missing = client.get(reverse("organization", args=["no-such-org"]))
    assert other.status_code == missing.status_code == 404
    assert client.get(reverse("support-access", args=[org_b.slug])).status_code == 404
    assert client.get(reverse("organization", args=["org-a"])).status_code == 200


def test_request_scope_is_the_users_organizations(client, dc_a, dc_b, org_a, org_b):
    # DOMAIN T-6: the access page lists only the organization's own members.
    client.force_login(dc_a)
    page = client.get(reverse("support-access", args=[org_a.slug])).content.decode()
    assert "dc@org-a.example" in page
    assert "dc@org-b.example" not in page


def test_reseller_sees_its_end_users_and_nothing_else(client, reseller_dc, end_user_org, org_a):
    # DOMAIN T-8: a reseller's designated contact manages its end users' cases.
    client.force_login(reseller_dc)
    assert client.get(reverse("organization", args=[end_user_org.slug])).status_code == 200
    assert client.get(reverse("organization", args=["partner"])).status_code == 200
    assert client.get(reverse("organization", args=[org_a.slug])).status_code == 404


def test_end_user_does_not_see_its_reseller(client, reseller_dc, end_user_org):
    # DOMAIN T-8: the link gives the partner access to the end user, not the reverse.
    eu_contact = member_of(end_user_org, AccessLevel.DESIGNATED_CONTACT, "dc@end-user.example")
    client.force_login(eu_contact)
    assert client.get(reverse("organization", args=["partner"])).status_code == 404
    assert client.get(reverse("organization", args=[end_user_org.slug])).status_code == 200


def test_anonymous_request_has_an_empty_scope(client, org_a):
    response = client.get(reverse("organization", args=[org_a.slug]))
    assert response.status_code == 302  # to the sign-in page, nothing disclosed
    assert reverse("login") in response["Location"]


def test_staff_request_runs_without_tenant_scope(client, analyst, org_a, org_b):
    # DOMAIN T-5: staff see every organization, its deployments included.
    client.force_login(analyst)
    response = client.get(reverse("admin:accounts_organization_change", args=[org_b.pk]))
    assert response.status_code == 200
    assert "B-PRD" in response.content.decode()
