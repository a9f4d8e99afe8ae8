"""Care's changes to an organization's deployments (T-2), email domains (T-9) and reseller
partner links (T-8): each is saved with a history row, only by managers, and refused input
changes nothing."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import (
    Deployment,
    EmailDomain,
    Organization,
    OrganizationChange,
    ResellerLink,
)
from cases.models import Case
from core.errors import InvalidInput, NotAllowed
from core.tenancy import scopes_disabled
from tests.cases import make_case, migrated_data_restored, postgres_only  # noqa: F401  (a fixture)
from tests.factories import DeploymentFactory, OrganizationFactory
from tests.helpers.concurrency import race

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def history(organization: Organization) -> list[tuple[str, int | None, dict, dict]]:
    with scopes_disabled():
        return list(
            OrganizationChange.unscoped.filter(organization=organization)
            .order_by("created_at", "id")
            .values_list("kind", "actor", "before", "after")
        )


def state(*organizations: Organization) -> dict:
    """Everything a refused change must leave as it was."""
    with scopes_disabled():
        return {
            "deployments": list(Deployment.unscoped.order_by("pk").values()),
            "domains": list(EmailDomain.unscoped.order_by("pk").values()),
            "links": list(ResellerLink.objects.order_by("pk").values()),
            "history": [history(o) for o in organizations],
        }


def deployment_of(organization: Organization, code: str) -> Deployment:
    with scopes_disabled():
        return Deployment.unscoped.get(organization=organization, code=code)


# --- deployments (T-2) ----------------------------------------------------------------------


def test_a_deployment_is_added_changed_and_removed_with_a_history_row_each(org_a, manager):
    # DOMAIN T-2
    deployment = services.deployment_add(
        organization=org_a, code="A-UAT", name="A Test", actor=manager, now=NOW
    )
    change = services.deployment_update(
        deployment=deployment,
        actor=manager,
        changes={"name": "A Acceptance", "is_active": False, "code": "A-UAT"},
        now=NOW,
    )
    services.deployment_remove(deployment=deployment, actor=manager, now=NOW)

    assert change is not None and change.created_at == NOW
    with scopes_disabled():
        assert not Deployment.unscoped.filter(organization=org_a, code="A-UAT").exists()
    assert history(org_a) == [
        ("deployment", manager.pk, {},
         {"code": "A-UAT", "name": "A Test", "is_active": True}),
        ("deployment", manager.pk, {"code": "A-UAT", "name": "A Test", "is_active": True},
         {"code": "A-UAT", "name": "A Acceptance", "is_active": False}),
        ("deployment", manager.pk, {"code": "A-UAT", "name": "A Acceptance", "is_active": False},
         {}),
    ]  # fmt: skip


def test_a_deployment_saved_unchanged_writes_no_history(org_a, manager):
    deployment = deployment_of(org_a, "A-PRD")

    change = services.deployment_update(
        deployment=deployment, actor=manager, changes={"name": "A Production"}, now=NOW
    )

    assert change is None
    assert history(org_a) == []


def test_a_deployment_that_cases_name_is_not_removed_but_can_be_made_inactive(org_a, dc_a, manager):
    # DOMAIN T-2: each case names its deployment; removing it used to raise ProtectedError
    # (an HTTP 500 for any caller); now it is a clear refusal that changes nothing.
    make_case(org_a, dc_a)
    deployment = deployment_of(org_a, "A-PRD")
    before = state(org_a)

    with pytest.raises(InvalidInput) as refused:
        services.deployment_remove(deployment=deployment, actor=manager, now=NOW)

    assert refused.value.message == "Deployment A-PRD has cases: make it inactive instead."
    assert state(org_a) == before
    services.deployment_update(
        deployment=deployment, actor=manager, changes={"is_active": False}, now=NOW
    )
    assert deployment_of(org_a, "A-PRD").is_active is False


@postgres_only
def test_a_case_opened_while_its_deployment_is_removed_never_names_a_removed_deployment(
    org_a, dc_a, manager
):
    # DOMAIN T-2: each case names a deployment of its organization. A case not yet
    # committed is invisible to the removal's check; the database's foreign key, checked
    # when the case commits, then refuses the case.
    opened = threading.Event()
    deployment = deployment_of(org_a, "A-PRD")

    def open_a_case() -> None:
        with transaction.atomic():
            make_case(org_a, dc_a, deployment=deployment)
            opened.set()
            time.sleep(0.3)

    def remove() -> object:
        assert opened.wait(timeout=10)
        return services.deployment_remove(deployment=deployment, actor=manager, now=NOW)

    case_outcome, removal = race(open_a_case, remove)

    assert isinstance(removal, OrganizationChange), removal
    assert isinstance(case_outcome, IntegrityError), case_outcome
    with scopes_disabled():
        assert not Case.unscoped.filter(organization=org_a).exists()
        assert not Deployment.unscoped.filter(pk=deployment.pk).exists()


def test_bad_deployment_input_is_refused_and_changes_nothing(org_a, org_b, manager):
    # DOMAIN T-2: a code is unique within its organization
    DeploymentFactory(organization=org_b, code="B-UAT", name="B Test")
    before = state(org_a, org_b)

    with pytest.raises(InvalidInput) as duplicate:
        services.deployment_add(
            organization=org_a, code="A-PRD", name="Again", actor=manager, now=NOW
        )
    with pytest.raises(InvalidInput) as empty:
        services.deployment_add(organization=org_a, code="", name="", actor=manager, now=NOW)
    with pytest.raises(InvalidInput) as taken:
        services.deployment_update(
            deployment=deployment_of(org_b, "B-UAT"),
            actor=manager,
            changes={"code": "B-PRD", "name": "B Renamed"},
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="Not a detail of a deployment: organization"):
        services.deployment_update(
            deployment=deployment_of(org_b, "B-PRD"),
            actor=manager,
            changes={"organization": org_a},
            now=NOW,
        )

    for refused in (duplicate, taken):
        assert "Code already exists" in str(refused.value.errors)
    assert {"code", "name"} <= set(empty.value.errors)
    assert state(org_a, org_b) == before


def test_another_organization_may_use_the_same_deployment_code(org_a, org_b, manager):
    # DOMAIN T-2
    services.deployment_add(organization=org_b, code="A-PRD", name="B's A", actor=manager, now=NOW)

    assert deployment_of(org_b, "A-PRD").name == "B's A"
    assert [kind for kind, *_ in history(org_b)] == ["deployment"]
    assert history(org_a) == []


# --- email domains (T-9) --------------------------------------------------------------------


def test_an_email_domain_is_added_verified_and_removed_with_a_history_row_each(org_a, manager):
    # DOMAIN T-9
    domain = services.email_domain_add(
        organization=org_a, domain="org-a.example", actor=manager, now=NOW
    )
    services.email_domain_update(
        email_domain=domain, actor=manager, changes={"verified_at": VERIFIED}, now=NOW
    )
    services.email_domain_remove(email_domain=domain, actor=manager, now=NOW)

    with scopes_disabled():
        assert not EmailDomain.unscoped.exists()
    assert history(org_a) == [
        ("email_domain", manager.pk, {}, {"domain": "org-a.example", "verified_at": None}),
        ("email_domain", manager.pk, {"domain": "org-a.example", "verified_at": None},
         {"domain": "org-a.example", "verified_at": "2026-03-01T09:30:00+00:00"}),
        ("email_domain", manager.pk,
         {"domain": "org-a.example", "verified_at": "2026-03-01T09:30:00+00:00"}, {}),
    ]  # fmt: skip


def test_bad_email_domains_are_refused_and_change_nothing(org_a, org_b, manager):
    # DOMAIN T-9: a domain identifies one organization, and is a plain domain name
    services.email_domain_add(organization=org_b, domain="org-b.example", actor=manager, now=NOW)
    before = state(org_a, org_b)

    for bad in ("@Org A.example", "org-a", "user@org-a.example", "ORG-A.EXAMPLE", ""):
        with pytest.raises(InvalidInput) as refused:
            services.email_domain_add(organization=org_a, domain=bad, actor=manager, now=NOW)
        assert "domain" in refused.value.errors, bad
    with pytest.raises(InvalidInput) as taken:
        services.email_domain_add(
            organization=org_a, domain="org-b.example", actor=manager, now=NOW
        )
    with scopes_disabled():
        domain_b = EmailDomain.unscoped.get()
    with pytest.raises(InvalidInput):
        services.email_domain_update(
            email_domain=domain_b, actor=manager, changes={"domain": "not a domain"}, now=NOW
        )

    assert "already exists" in str(taken.value.errors["domain"])
    assert state(org_a, org_b) == before


# --- reseller partner links (T-8) -----------------------------------------------------------


def test_a_reseller_link_is_recorded_in_the_history_of_both_organizations(reseller, org_a, manager):
    # DOMAIN T-8
    link = services.reseller_link_add(reseller=reseller, end_user=org_a, actor=manager, now=NOW)
    assert set(reseller.end_users.values_list("pk", flat=True)) == {org_a.pk}

    services.reseller_link_remove(link=link, actor=manager, now=NOW)

    assert not ResellerLink.objects.filter(reseller=reseller, end_user=org_a).exists()
    linked = {"reseller": reseller.pk, "reseller_name": "Partner",
              "end_user": org_a.pk, "end_user_name": "Org A"}  # fmt: skip
    expected = [
        ("reseller_link", manager.pk, {}, linked),
        ("reseller_link", manager.pk, linked, {}),
    ]
    assert history(reseller) == expected
    assert history(org_a) == expected


def test_bad_reseller_links_are_refused_and_change_nothing(
    reseller, end_user_org, org_a, org_b, manager
):
    # DOMAIN T-8: a partner links customers, once each, never itself
    other_partner = OrganizationFactory(slug="partner-2", kind=Organization.Kind.RESELLER)
    before = state(reseller, end_user_org, org_a, org_b, other_partner)
    refusals = [
        (reseller, reseller, "cannot be its own end user"),
        (org_a, org_a, "cannot be its own end user"),
        (org_a, org_b, "Only a reseller partner can have end users."),
        (reseller, other_partner, "An end user must be a customer organization."),
        (reseller, end_user_org, "already exists"),
    ]

    for partner, end_user, message in refusals:
        with pytest.raises(InvalidInput) as refused:
            services.reseller_link_add(reseller=partner, end_user=end_user, actor=manager, now=NOW)
        assert message in str(refused.value.errors), (partner, end_user)

    assert state(reseller, end_user_org, org_a, org_b, other_partner) == before


# --- who may (T-5) --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["analyst", "product_manager", "dc_a"])
def test_only_managers_change_the_set_up_and_a_refusal_changes_nothing(
    request, reseller, end_user_org, org_a, dc_a, who
):
    # DOMAIN T-5: analysts and product managers read organizations; they do not change them
    actor = request.getfixturevalue(who)
    with scopes_disabled():
        domain = EmailDomain.unscoped.create(organization=org_a, domain="org-a.example")
    deployment = deployment_of(org_a, "A-PRD")
    link = ResellerLink.objects.get(reseller=reseller, end_user=end_user_org)
    before = state(reseller, end_user_org, org_a)
    calls = [
        lambda: services.deployment_add(
            organization=org_a, code="A-UAT", name="A Test", actor=actor, now=NOW
        ),
        lambda: services.deployment_update(
            deployment=deployment, actor=actor, changes={"name": "Renamed"}, now=NOW
        ),
        lambda: services.deployment_remove(deployment=deployment, actor=actor, now=NOW),
        lambda: services.email_domain_add(
            organization=org_a, domain="org-a.test", actor=actor, now=NOW
        ),
        lambda: services.email_domain_update(
            email_domain=domain, actor=actor, changes={"verified_at": VERIFIED}, now=NOW
        ),
        lambda: services.email_domain_remove(email_domain=domain, actor=actor, now=NOW),
        lambda: services.reseller_link_add(reseller=reseller, end_user=org_a, actor=actor, now=NOW),
        lambda: services.reseller_link_remove(link=link, actor=actor, now=NOW),
    ]

    for call in calls:
        with pytest.raises(NotAllowed):
            call()

    assert state(reseller, end_user_org, org_a) == before
