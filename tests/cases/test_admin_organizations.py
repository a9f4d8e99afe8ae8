"""The set-up rows of an organization's page in the care workspace (T-2, T-8, T-9): added,
changed and removed through the services, each with a row in the organization's history,
and a deployment that cases name is refused removal on the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Deployment, EmailDomain, Organization, OrganizationChange, ResellerLink
from core.tenancy import scopes_disabled
from tests.accounts.test_admin import form_data, org_url
from tests.cases import make_case
from tests.factories import DeploymentFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

HISTORY = reverse("admin:accounts_organizationchange_changelist")


def org_history(org: Organization) -> list[tuple[str, int, dict, dict]]:
    with scopes_disabled():
        return list(
            OrganizationChange.objects.filter(organization=org)
            .order_by("id")
            .values_list("kind", "actor", "before", "after")
        )


def deployments(org: Organization) -> dict[str, tuple[str, bool]]:
    with scopes_disabled():
        return {d.code: (d.name, d.is_active) for d in Deployment.objects.filter(organization=org)}


def row_of(data: dict, prefix: str, field: str, value) -> str:
    """The index of the inline row whose field holds value."""
    return next(
        k.split("-")[1]
        for k, v in data.items()
        if k.startswith(f"{prefix}-") and k.endswith(f"-{field}") and v == value
    )


def add_row(data: dict, prefix: str, **fields) -> None:
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data.update({f"{prefix}-{index}-{name}": value for name, value in fields.items()})


# --- deployments (T-2) ----------------------------------------------------------------------


def test_deployments_are_added_changed_and_removed_through_the_services(client, manager, org_a):
    # DOMAIN T-2
    DeploymentFactory(organization=org_a, code="A-OLD", name="A Old")
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    data[f"deployments-{row_of(data, 'deployments', 'code', 'A-PRD')}-name"] = "A Live"
    data[f"deployments-{row_of(data, 'deployments', 'code', 'A-OLD')}-DELETE"] = "on"
    add_row(data, "deployments", code="A-UAT", name="A Test", is_active="on")

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    assert deployments(org_a) == {"A-PRD": ("A Live", True), "A-UAT": ("A Test", True)}
    assert org_history(org_a) == [
        ("deployment", manager.pk, {"code": "A-OLD", "name": "A Old", "is_active": True}, {}),
        ("deployment", manager.pk, {"code": "A-PRD", "name": "A Production"},
         {"code": "A-PRD", "name": "A Live"}),
        ("deployment", manager.pk, {}, {"code": "A-UAT", "name": "A Test", "is_active": True}),
    ]  # fmt: skip


def test_removing_a_deployment_with_cases_is_an_error_on_the_page(client, manager, org_a, dc_a):
    # DOMAIN T-2: each case names its deployment. The page refuses the removal as a form
    # error (no ProtectedError, no HTTP 500, no list of every case) and saves nothing.
    make_case(org_a, dc_a)
    client.force_login(manager)
    client.raise_request_exception = False
    data = form_data(client.get(org_url(org_a)))
    data[f"deployments-{row_of(data, 'deployments', 'code', 'A-PRD')}-DELETE"] = "on"
    add_row(data, "deployments", code="A-UAT", name="A Test", is_active="on")
    data["name"] = "Org A renamed"

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Deployment A-PRD has cases: make it inactive instead." in page
    assert "would require deleting" not in page
    assert deployments(org_a) == {"A-PRD": ("A Production", True)}
    assert Organization.objects.get(pk=org_a.pk).name == "Org A"
    assert org_history(org_a) == []


def test_a_deployment_with_cases_is_made_inactive_instead(client, manager, org_a, dc_a):
    # DOMAIN T-2
    make_case(org_a, dc_a)
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    del data[f"deployments-{row_of(data, 'deployments', 'code', 'A-PRD')}-is_active"]

    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    assert deployments(org_a) == {"A-PRD": ("A Production", False)}
    assert org_history(org_a) == [
        ("deployment", manager.pk, {"code": "A-PRD", "is_active": True},
         {"code": "A-PRD", "is_active": False}),
    ]  # fmt: skip


def test_a_duplicate_deployment_code_is_an_error_on_the_page(client, manager, org_a):
    # DOMAIN T-2: a code is unique within the organization
    client.force_login(manager)
    client.raise_request_exception = False
    data = form_data(client.get(org_url(org_a)))
    add_row(data, "deployments", code="A-PRD", name="Again", is_active="on")

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    assert "Please correct the duplicate data for code." in response.content.decode()
    assert deployments(org_a) == {"A-PRD": ("A Production", True)}
    assert org_history(org_a) == []


# --- email domains (T-9) --------------------------------------------------------------------


def test_email_domains_are_added_verified_and_removed_through_the_services(client, manager, org_a):
    # DOMAIN T-9
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    add_row(data, "emaildomains", domain="org-a.example")
    add_row(data, "emaildomains", domain="old-a.example")
    assert client.post(org_url(org_a), data).status_code == 302

    data = form_data(client.get(org_url(org_a)))
    verified = row_of(data, "emaildomains", "domain", "org-a.example")
    data[f"emaildomains-{verified}-verified_at_0"] = "2026-03-01"
    data[f"emaildomains-{verified}-verified_at_1"] = "09:30:00"
    data[f"emaildomains-{row_of(data, 'emaildomains', 'domain', 'old-a.example')}-DELETE"] = "on"
    response = client.post(org_url(org_a), data)

    assert response.status_code == 302, response.context["errors"]
    with scopes_disabled():
        assert list(EmailDomain.objects.values_list("domain", flat=True)) == ["org-a.example"]
    assert org_history(org_a) == [
        ("email_domain", manager.pk, {}, {"domain": "org-a.example", "verified_at": None}),
        ("email_domain", manager.pk, {}, {"domain": "old-a.example", "verified_at": None}),
        ("email_domain", manager.pk, {"domain": "old-a.example", "verified_at": None}, {}),
        ("email_domain", manager.pk, {"domain": "org-a.example", "verified_at": None},
         {"domain": "org-a.example", "verified_at": "2026-03-01T09:30:00+00:00"}),
    ]  # fmt: skip


def test_a_bad_email_domain_is_an_error_on_the_page_and_records_nothing(client, manager, org_a):
    # DOMAIN T-9
    client.force_login(manager)
    data = form_data(client.get(org_url(org_a)))
    add_row(data, "emaildomains", domain="@Org A.example")

    response = client.post(org_url(org_a), data)

    assert response.status_code == 200
    assert "Enter a domain name such as example.com" in response.content.decode()
    assert org_history(org_a) == []


# --- reseller partner links (T-8) -----------------------------------------------------------


def test_a_link_added_on_the_partner_page_is_recorded_for_both(client, manager, reseller, org_a):
    # DOMAIN T-8
    client.force_login(manager)
    data = form_data(client.get(org_url(reseller)))
    add_row(data, "end_user_links", end_user=org_a.pk)

    response = client.post(org_url(reseller), data)

    assert response.status_code == 302, response.context["errors"]
    assert ResellerLink.objects.filter(reseller=reseller, end_user=org_a).exists()
    linked = {"reseller": reseller.pk, "reseller_name": "Partner",
              "end_user": org_a.pk, "end_user_name": "Org A"}  # fmt: skip
    assert org_history(reseller) == [("reseller_link", manager.pk, {}, linked)]
    assert org_history(org_a) == [("reseller_link", manager.pk, {}, linked)]


def test_a_link_removed_on_the_customer_page_is_recorded_for_both(
    client, manager, reseller, end_user_org
):
    # DOMAIN T-8
    client.force_login(manager)
    data = form_data(client.get(org_url(end_user_org)))
    data[f"reseller_links-{row_of(data, 'reseller_links', 'reseller', reseller.pk)}-DELETE"] = "on"

    response = client.post(org_url(end_user_org), data)

    assert response.status_code == 302, response.context["errors"]
    assert not end_user_org.resellers.exists()
    for org in (reseller, end_user_org):
        [(kind, actor, before, after)] = org_history(org)
        assert (kind, actor, before["end_user"], after) == (
            "reseller_link",
            manager.pk,
            end_user_org.pk,
            {},
        )


def test_a_link_pointed_at_another_customer_ends_one_link_and_starts_another(
    client, manager, reseller, end_user_org, org_a
):
    # DOMAIN T-8
    client.force_login(manager)
    data = form_data(client.get(org_url(reseller)))
    row = row_of(data, "end_user_links", "end_user", end_user_org.pk)
    data[f"end_user_links-{row}-end_user"] = org_a.pk

    response = client.post(org_url(reseller), data)

    assert response.status_code == 302, response.context["errors"]
    assert list(reseller.end_users.values_list("pk", flat=True)) == [org_a.pk]
    assert [(before.get("end_user"), after.get("end_user")) for *_, before, after
            in org_history(reseller)] == [(end_user_org.pk, None), (None, org_a.pk)]  # fmt: skip
    assert len(org_history(end_user_org)) == len(org_history(org_a)) == 1


def test_a_partner_cannot_be_linked_as_an_end_user(client, manager, reseller):
    # DOMAIN T-8
    other = OrganizationFactory(slug="partner-2", kind=Organization.Kind.RESELLER)
    client.force_login(manager)
    data = form_data(client.get(org_url(reseller)))
    add_row(data, "end_user_links", end_user=other.pk)

    response = client.post(org_url(reseller), data)

    assert response.status_code == 200
    assert "An end user must be a customer organization." in response.content.decode()
    assert org_history(reseller) == org_history(other) == []


# --- the history reads the new kinds --------------------------------------------------------


def test_the_organization_history_names_set_up_changes(client, manager, analyst, reseller, org_a):
    # DOMAIN T-2, T-8, T-9
    client.force_login(manager)
    data = form_data(client.get(org_url(reseller)))
    add_row(data, "deployments", code="P-PRD", name="Partner Production", is_active="on")
    add_row(data, "emaildomains", domain="partner.example")
    add_row(data, "end_user_links", end_user=org_a.pk)
    assert client.post(org_url(reseller), data).status_code == 302
    client.force_login(analyst)

    listing = client.get(HISTORY).content.decode()
    links_only = client.get(HISTORY, {"kind__exact": "reseller_link"}).content.decode()

    for label in ("Deployment changed", "Email domain changed", "Reseller partner link changed"):
        assert label in listing
    assert "Partner Production" in listing and "partner.example" in listing
    assert links_only.count("Reseller partner link changed") >= 2  # a row for each side
    assert "Partner Production" not in links_only
