"""The compiled-SELECT cache (core/db/compiler.py): a statement is reused only for a query
of the same shape, with the new query's values, and gives exactly Django's results."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from accounts.models import Deployment, Organization, User
from cases.models import Case, CaseUpdate
from core.db import compiler as sql_cache
from tests.factories import CaseFactory, DeploymentFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache(request):
    """The cache, emptied after the test's other fixtures wrote their rows."""
    for name in request.fixturenames:
        if name != "cache":
            request.getfixturevalue(name)
    sql_cache.clear()
    yield sql_cache
    sql_cache.clear()


@pytest.fixture
def orgs(no_scope):
    return [OrganizationFactory(slug=f"cache-{i}", name=f"Cache {i}") for i in range(3)]


def test_the_backend_in_use_reuses_compiled_selects():
    assert connection.ops.compiler("SQLCompiler").__mro__[1] is sql_cache.CachedSelectMixin


def test_same_shape_other_values_hits_and_returns_the_new_rows(cache, orgs):
    first = Organization.objects.filter(slug="cache-0").first()
    assert cache.stats["misses"] == 1
    second = Organization.objects.filter(slug="cache-1").first()
    third = [Organization.objects.filter(slug="cache-2").first()]
    assert (first.slug, second.slug, third[0].slug) == ("cache-0", "cache-1", "cache-2")
    assert cache.stats["hits"] == 2


def test_the_reused_statement_is_the_one_django_sends(cache, orgs, monkeypatch):
    Organization.objects.filter(slug="cache-0").first()
    with CaptureQueriesContext(connection) as reused:
        Organization.objects.filter(slug="cache-1").first()
    assert cache.stats["hits"] == 1
    monkeypatch.setattr(sql_cache, "shape_key", lambda query, connection: None)
    with CaptureQueriesContext(connection) as compiled:
        Organization.objects.filter(slug="cache-1").first()
    assert cache.stats["hits"] == 1
    assert reused.captured_queries[0]["sql"] == compiled.captured_queries[0]["sql"]
    assert "cache-1" in reused.captured_queries[0]["sql"]


def test_other_columns_joins_order_and_slices_are_other_entries(cache, orgs):
    Organization.objects.filter(slug="cache-0").first()
    slugs = list(Organization.objects.filter(slug="cache-0").values_list("slug", flat=True))
    names = list(Organization.objects.filter(slug="cache-0").values("name"))
    deferred = Organization.objects.filter(slug="cache-0").defer("name").first()
    only = Organization.objects.filter(slug="cache-0").only("slug").first()
    everything = list(Organization.objects.filter(slug__startswith="cache-").order_by("-slug"))
    two = list(Organization.objects.filter(slug__startswith="cache-").order_by("slug")[1:3])
    assert slugs == ["cache-0"]
    assert names == [{"name": "Cache 0"}]
    assert deferred.get_deferred_fields() == {"name"}
    assert "name" in only.get_deferred_fields()
    assert [o.slug for o in everything] == ["cache-2", "cache-1", "cache-0"]
    assert [o.slug for o in two] == ["cache-1", "cache-2"]
    assert cache.stats["hits"] == 0


def test_select_related_rows_are_built_with_their_related_objects(cache, no_scope, org_a, dc_a):
    cases = [CaseFactory(organization=org_a, contact=dc_a) for _ in range(2)]
    for case in cases:
        with CaptureQueriesContext(connection) as captured:
            got = (
                Case.objects.select_related("organization", "deployment", "contact", "owner")
                .defer("search_vector")
                .get(number=case.number)
            )
            assert got.pk == case.pk
            assert got.organization.slug == "org-a"
            assert got.contact.email == dc_a.email
            assert got.deployment.organization_id == org_a.pk
            assert got.owner is None
        assert len(captured.captured_queries) == 1
    assert cache.stats["hits"] >= 1


def test_in_lists_of_other_lengths_are_other_shapes(cache, orgs):
    ids = [o.pk for o in orgs]
    assert {o.slug for o in Organization.objects.filter(pk__in=ids[:1])} == {"cache-0"}
    assert {o.slug for o in Organization.objects.filter(pk__in=ids[1:2])} == {"cache-1"}
    assert {o.slug for o in Organization.objects.filter(pk__in=ids[1:])} == {"cache-1", "cache-2"}
    assert list(Organization.objects.filter(pk__in=[])) == []


def test_queries_it_cannot_describe_are_compiled_as_usual(cache, no_scope, org_a, dc_a):
    case = CaseFactory(organization=org_a, contact=dc_a)
    annotated = Organization.objects.annotate(n=Count("deployment")).get(pk=org_a.pk)
    has_updates = Case.objects.filter(
        Exists(CaseUpdate.objects.filter(case=OuterRef("pk")))
    ).exists()
    assert annotated.n == Deployment.objects.filter(organization=org_a).count()
    assert has_updates is CaseUpdate.objects.filter(case=case).exists()
    assert cache.stats["skipped"] >= 2


def test_row_locks_keep_their_clause(cache, orgs):
    for slug in ("cache-0", "cache-1"):
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            locked = Organization.objects.select_for_update().get(slug=slug)
        assert locked.slug == slug
        if connection.features.has_select_for_update:
            assert "FOR UPDATE" in captured.captured_queries[0]["sql"]
    assert cache.stats["hits"] == 1


def test_users_of_other_pks_come_back_whole(cache, dc_a, ro_a):
    assert User.objects.get(pk=dc_a.pk).email == dc_a.email
    assert User.objects.get(pk=ro_a.pk).email == ro_a.email
    assert cache.stats["hits"] >= 1


def test_verification_catches_a_statement_that_differs(cache, orgs, settings):
    settings.SQL_CACHE_VERIFY = True
    Organization.objects.filter(slug="cache-0").first()
    # Spoil the stored statement: the next hit must not send it silently.
    ((key, entry),) = sql_cache._entries.items()
    sql_cache._entries[key] = (entry[0].replace("ASC", "DESC"), *entry[1:])
    with pytest.raises(sql_cache.SQLCacheMismatch):
        Organization.objects.filter(slug="cache-1").first()


def test_the_cache_is_bounded(cache, orgs, monkeypatch):
    monkeypatch.setattr(sql_cache, "MAX_ENTRIES", 3)
    for n in range(1, 8):
        list(Organization.objects.filter(slug__startswith="cache-").order_by("slug")[:n])
        assert len(sql_cache._entries) <= 3


def test_a_deployment_page_of_another_organization_is_that_organization(cache, orgs):
    for org in orgs:
        DeploymentFactory(organization=org, code=f"{org.slug}-PRD", name=f"{org.name} PRD")
    for org in orgs:
        rows = list(Deployment.objects.filter(organization=org).select_related("organization"))
        assert [d.organization.slug for d in rows] == [org.slug]
    assert cache.stats["hits"] == 2


def test_plain_annotations_are_part_of_the_shape(cache, orgs):
    from django.db.models import F, Value

    for org in orgs:
        row = (
            Organization.objects.filter(pk=org.pk)
            .annotate(label=F("name"), zone=F("businesscalendar__time_zone"))
            .get()
        )
        assert (row.label, row.zone) == (org.name, None)
    assert cache.stats["hits"] == 2
    # A constant in the select list is a parameter outside the WHERE clause: never reused.
    tagged = [
        Organization.objects.filter(pk=org.pk).annotate(tag=Value(org.slug)).get().tag
        for org in orgs
    ]
    assert tagged == [org.slug for org in orgs]
    assert cache.stats["hits"] == 2
