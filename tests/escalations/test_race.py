"""Two escalation requests for the same case at the same moment (PostgreSQL): the case lock
lets one through and the other finds it in progress (E-2)."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import AccessLevel
from core.tenancy import scopes_disabled
from escalations.models import Escalation
from tests.cases import make_case, migrated_data_restored, postgres_only  # noqa: F401
from tests.factories import member_of


@pytest.fixture
def quiet_broker():
    # The emails are recorded in the outbox on commit; no broker is needed to test the race.
    with mock.patch("core.outbox.tasks.send_outbox_email.apply_async") as apply_async:
        yield apply_async


def _post_together(requests: list[tuple[str, str, dict]]) -> list[object]:
    """POST each (token, path, payload) at the same moment, each from its own thread with
    its own client and database connection."""
    barrier = threading.Barrier(len(requests))
    results: list[object] = [None] * len(requests)

    def run(index: int, token: str, path: str, payload: dict) -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            barrier.wait(timeout=10)
            results[index] = client.post(path, payload, format="json")
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung on a lock"
    return results


@postgres_only
def test_two_requests_at_once_give_one_escalation_and_one_409(quiet_broker, org_a, dc_a):
    # DOMAIN E-2, whatever the timing
    other_dc = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation", priority="high")
    path = f"/api/v1/cases/{case.display_number}/escalations/"
    tokens = [Token.objects.create(user=user).key for user in (dc_a, other_dc)]
    payload = {"reason": "slow_progress", "details": "Nothing has moved for a week."}

    results = _post_together([(token, path, payload) for token in tokens])

    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(r.status_code for r in results) == [201, 409], [r.json() for r in results]
    conflict = next(r for r in results if r.status_code == 409)
    assert "already has an escalation in progress" in conflict.json()["detail"]
    with scopes_disabled():
        assert Escalation.unscoped.filter(case_id=case.pk).count() == 1
        assert Escalation.unscoped.count() == 1
