"""Helpers shared by the case tests: the scope an actor's request runs in, a case built in
any state, and a snapshot of everything a refused call must leave unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from accounts.selectors import visible_organization_ids
from cases.models import CLOSED_SUB_STATUSES, Attachment, Case, CaseEvent, CaseUpdate
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled, tenant_scope
from tests.factories import CaseFactory

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def migrated_data_restored(django_db_blocker):
    """Put back what migrations seed (roles, cloud services) once a module's transactional
    tests are done: each of them ends with a flush that empties every table, and a later
    transactional test (the browser tests) may rely on that data without asking for it.

    Module scope, so this runs after the flush of the module's last such test. A test module
    that uses ``postgres_only`` imports this fixture."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        for conn in connections.all(initialized_only=True):
            contents = getattr(conn, "_test_serialized_contents", None)
            if contents:
                conn.creation.deserialize_db_from_string(contents)


def postgres_only(test):
    """Marks a test that needs PostgreSQL and real commits from several connections."""
    skip = pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serializes writers",
    )
    # Real commits from several connections: a transactional database, which starts from
    # the migrated contents (roles, services) even after another test's flush.
    real_commits = pytest.mark.django_db(transaction=True, serialized_rollback=True)
    restored = pytest.mark.usefixtures("migrated_data_restored")
    return pytest.mark.postgres(skip(restored(real_commits(test))))


@contextmanager
def acting_as(user) -> Iterator[None]:
    """The scope a request of this user runs in (see TenantScopeMiddleware)."""
    if user.is_staff:
        with scopes_disabled():
            yield
    else:
        with tenant_scope(visible_organization_ids(user)):
            yield


def reload(case: Case) -> Case:
    with scopes_disabled():
        return Case.unscoped.get(pk=case.pk)


def snapshot(case: Case) -> dict:
    """Everything a refused call must leave as it was."""
    with scopes_disabled():
        return {
            "case": Case.unscoped.filter(pk=case.pk).values().get(),
            "events": list(CaseEvent.unscoped.filter(case_id=case.pk).values_list("pk")),
            "updates": list(CaseUpdate.unscoped.filter(case_id=case.pk).values_list("pk")),
            "attachments": list(Attachment.unscoped.filter(case_id=case.pk).values_list("pk")),
            "emails": OutboxEmail.unscoped.count(),
            "cases": Case.unscoped.count(),
        }


def make_case(organization, contact, sub_status="new", **fields) -> Case:
    closed = sub_status in CLOSED_SUB_STATUSES
    return CaseFactory(
        organization=organization,
        contact=contact,
        sub_status=sub_status,
        opened_at=NOW - timedelta(days=3),
        modified_at=NOW - timedelta(days=1),
        closed_at=NOW - timedelta(days=1) if closed else None,
        **fields,
    )
