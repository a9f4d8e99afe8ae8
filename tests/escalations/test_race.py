"""Two escalation requests for the same case at the same moment (PostgreSQL): the case lock
lets one through and the other finds it in progress (E-2)."""

from __future__ import annotations

from unittest import mock

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import AccessLevel
from core.tenancy import scopes_disabled
from escalations.models import Escalation
from tests.cases import make_case, migrated_data_restored, postgres_only  # noqa: F401
from tests.factories import member_of
from tests.helpers.concurrency import race


@pytest.fixture
def quiet_broker():
    # The emails are recorded in the outbox on commit; no broker is needed to test the race.
    with mock.patch("config.celery.app.send_task") as apply_async:
        yield apply_async


def _post(token: str, path: str, payload: dict) -> object:
    """POST with a client of its own (the race gives each call its own connection)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.post(path, payload, format="json")


@postgres_only
def test_two_requests_at_once_give_one_escalation_and_one_409(quiet_broker, org_a, dc_a):
    # DOMAIN E-2, whatever the timing
    other_dc = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation", priority="high")
    path = f"/api/v1/cases/{case.display_number}/escalations/"
    tokens = [Token.objects.create(user=user).key for user in (dc_a, other_dc)]
    payload = {"reason": "slow_progress", "details": "Nothing has moved for a week."}

    results = race(*[lambda token=token: _post(token, path, payload) for token in tokens])

    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.status_code for r in results) == [201, 409], [r.json() for r in results]
    conflict = next(r for r in results if r.status_code == 409)
    assert "already has an escalation in progress" in conflict.json()["detail"]
    with scopes_disabled():
        assert Escalation.unscoped.filter(case_id=case.pk).count() == 1
        assert Escalation.unscoped.count() == 1
