"""The database as configured: the PostgreSQL connection keeps the plans of statements it
repeats (prepared statements) while values still travel apart from the SQL; the full-text
indexes the migrations build are the ones Case.Meta declares, and SQLite leaves them out."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Organization
from cases.models import Case
from core.indexes import PostgresOnlyGinIndex
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's own (prepared statements, GIN indexes); DATABASE_URL is not PostgreSQL",
)


def _prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


@postgres
def test_a_statement_run_again_and_again_is_prepared(no_scope):
    orgs = [OrganizationFactory(slug=f"prep-{i}") for i in range(7)]
    before = _prepared_statements()
    found = [
        Organization.objects.filter(slug=org.slug).values_list("pk", flat=True).get()
        for org in orgs
    ]
    assert found == [org.pk for org in orgs]
    assert _prepared_statements() > before


@postgres
def test_values_are_bound_not_spliced_into_the_statement(no_scope):
    tricky = "o'brien; DROP TABLE accounts_organization; --"
    org = OrganizationFactory(slug="tricky", name=tricky)
    for _ in range(7):  # past the preparation threshold
        assert Organization.objects.get(name=tricky).pk == org.pk


# --- the full-text indexes, declared in Case.Meta ----------------------------------------

FULL_TEXT_INDEXES = ("case_org_search_gin", "case_tenant_search_gin")


def _declared(name: str) -> PostgresOnlyGinIndex:
    (index,) = [index for index in Case._meta.indexes if index.name == name]
    assert isinstance(index, PostgresOnlyGinIndex)
    return index


def _indexdef(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [name])
        return cursor.fetchone()[0]


@postgres
@pytest.mark.parametrize("name", FULL_TEXT_INDEXES)
def test_the_database_has_the_full_text_indexes_the_model_declares(name):
    # The migrations build them with their own statements (concurrently); the model state
    # must describe the same index, so Django's own statement builds an equal one.
    probe = _declared(name).clone()
    probe.name = f"probe_{name}"
    with connection.schema_editor() as editor:
        editor.add_index(Case, probe)

    assert _indexdef(probe.name).replace(probe.name, name) == _indexdef(name)
    assert "gin_pending_list_limit='128'" in _indexdef(name)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="on PostgreSQL they exist")
@pytest.mark.parametrize("name", FULL_TEXT_INDEXES)
def test_other_databases_leave_the_full_text_indexes_out(name):
    # SQLite re-creates a model's declared indexes whenever it rebuilds the table: these
    # must come out as no-ops there, or every later migration of Case would fail.
    editor = connection.schema_editor(collect_sql=True)
    index = _declared(name)
    assert str(index.create_sql(Case, editor)).startswith(f"-- {name}: ")
    assert str(index.remove_sql(Case, editor)).startswith(f"-- {name}: ")
