"""Shared fixtures: two customer organizations (so every test can check the other tenant),
a reseller with an end user, and care staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches

from accounts import roles
from accounts.models import AccessLevel, Organization
from core.tenancy import scopes_disabled
from tests.factories import (
    DeploymentFactory,
    OrganizationFactory,
    ResellerLinkFactory,
    UserFactory,
    member_of,
)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """The per-process memos (the "local" cache) start empty in every test: a memo of one
    test's rows must not answer the next test."""
    caches["local"].clear()


@pytest.fixture(autouse=True)
def _test_hosts(settings):
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]


@pytest.fixture
def no_scope():
    """Run the test body with tenant scoping disabled, as staff and sweeps do."""
    with scopes_disabled():
        yield


@pytest.fixture
def org_a(db) -> Organization:
    with scopes_disabled():
        org = OrganizationFactory(slug="org-a", name="Org A")
        DeploymentFactory(organization=org, code="A-PRD", name="A Production")
    return org


@pytest.fixture
def org_b(db) -> Organization:
    with scopes_disabled():
        org = OrganizationFactory(slug="org-b", name="Org B")
        DeploymentFactory(organization=org, code="B-PRD", name="B Production")
    return org


@pytest.fixture
def dc_a(org_a):
    return member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc@org-a.example")


@pytest.fixture
def ro_a(org_a):
    return member_of(org_a, AccessLevel.READ_ONLY, "ro@org-a.example")


@pytest.fixture
def basic_a(org_a):
    return member_of(org_a, AccessLevel.BASIC, "basic@org-a.example")


@pytest.fixture
def dc_b(org_b):
    return member_of(org_b, AccessLevel.DESIGNATED_CONTACT, "dc@org-b.example")


@pytest.fixture
def reseller(db) -> Organization:
    with scopes_disabled():
        return OrganizationFactory(slug="partner", name="Partner", kind=Organization.Kind.RESELLER)


@pytest.fixture
def end_user_org(reseller) -> Organization:
    with scopes_disabled():
        org = OrganizationFactory(slug="end-user", name="End User Inc")
        DeploymentFactory(organization=org, code="EU-PRD", name="End User Production")
        ResellerLinkFactory(reseller=reseller, end_user=org)
    return org


@pytest.fixture
def reseller_dc(reseller, end_user_org):
    return member_of(reseller, AccessLevel.DESIGNATED_CONTACT, "dc@partner.example")


def _staff(email: str, role: str | None):
    user = UserFactory(email=email, is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def analyst(db):
    return _staff("analyst@care.example", roles.CARE_ANALYST)


@pytest.fixture
def manager(db):
    return _staff("manager@care.example", roles.CARE_MANAGER)


@pytest.fixture
def product_manager(db):
    return _staff("pm@care.example", roles.PRODUCT_MANAGER)


OWN_APPS = ("accounts", "cases", "followups", "escalations", "inbound", "core", "web", "demo")


def restore_migrated_rows() -> None:
    """Run our migrations' data steps again (they are idempotent): after a flush the
    tables are empty, and a flush re-creates content types and permissions but not the
    rows our migrations seed."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    ContentType.objects.clear_cache()
    graph = MigrationLoader(connection).graph
    plan: list = []
    for leaf in graph.leaf_nodes():
        plan.extend(key for key in graph.forwards_plan(leaf) if key not in plan)
    with connection.schema_editor() as schema_editor:
        for key in plan:
            if key[0] not in OWN_APPS:
                continue
            for operation in graph.nodes[key].operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, schema_editor)


@pytest.fixture(autouse=True)
def _migrated_data_present(request, django_db_blocker):
    """Transactional tests (browser tests, real-commit concurrency tests) end with a flush
    that empties every table, the rows migrations seed included (roles, cloud services).
    Put them back at the start of each such test, so no test depends on running first."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        with django_db_blocker.unblock():
            if not Group.objects.filter(name__in=roles.ALL_ROLES).exists():
                restore_migrated_rows()
    yield
