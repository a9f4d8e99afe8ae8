"""The PostgreSQL connection keeps the plans of statements it repeats (prepared statements),
and values still travel apart from the SQL."""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import Organization
from tests.factories import OrganizationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements"),
]


def _prepared_statements() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def test_a_statement_run_again_and_again_is_prepared(no_scope):
    orgs = [OrganizationFactory(slug=f"prep-{i}") for i in range(7)]
    before = _prepared_statements()
    found = [
        Organization.objects.filter(slug=org.slug).values_list("pk", flat=True).get()
        for org in orgs
    ]
    assert found == [org.pk for org in orgs]
    assert _prepared_statements() > before


def test_values_are_bound_not_spliced_into_the_statement(no_scope):
    tricky = "o'brien; DROP TABLE accounts_organization; --"
    org = OrganizationFactory(slug="tricky", name=tricky)
    for _ in range(7):  # past the preparation threshold
        assert Organization.objects.get(name=tricky).pk == org.pk
