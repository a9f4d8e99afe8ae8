"""What an escalation changes on its case (E-7): when the customer last asked."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction

from cases.models import Case, CaseEvent
from cases.services.escalation import case_mark_escalated
from core.errors import NotFound
from core.tenancy import scopes_disabled
from tests.cases import (  # noqa: F401  (migrated_data_restored is a fixture)
    NOW,
    acting_as,
    make_case,
    migrated_data_restored,
    postgres_only,
    reload,
    snapshot,
)
from tests.helpers.concurrency import race

pytestmark = pytest.mark.django_db


def test_marking_sets_only_the_escalation_time(org_a, dc_a):
    # DOMAIN E-7
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")
    before = snapshot(case)

    with acting_as(dc_a):
        marked = case_mark_escalated(case=case, now=NOW)

    after = snapshot(case)
    assert marked.escalated_at == NOW == reload(case).escalated_at
    changed = {k for k, v in after["case"].items() if before["case"][k] != v}
    assert changed == {"escalated_at"}  # not the last modification (C-9), not the status
    assert after["events"] == before["events"]  # the escalation request records the history


def test_a_later_request_moves_the_time(org_a, dc_a):
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation", escalated_at=NOW)

    with acting_as(dc_a):
        case_mark_escalated(case=case, now=NOW + timedelta(days=2))

    assert reload(case).escalated_at == NOW + timedelta(days=2)


def test_another_tenants_case_is_not_found_and_stays_as_it_was(org_a, org_b, dc_a, dc_b):
    # DOMAIN T-6
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")
    before = snapshot(case)

    with acting_as(dc_b), pytest.raises(NotFound):
        case_mark_escalated(case=case, now=NOW)

    assert snapshot(case) == before


@postgres_only
def test_marking_waits_for_the_case_lock(org_a, dc_a):
    # The mark locks the case row: it waits for a transaction that holds the case and
    # writes after it, never over it.
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")
    locked = threading.Event()
    released: list[float] = []

    def hold_the_case() -> None:
        with transaction.atomic(), scopes_disabled():
            Case.unscoped.select_for_update().get(pk=case.pk)
            locked.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    def mark() -> float:
        assert locked.wait(timeout=10)
        with scopes_disabled():
            case_mark_escalated(case=case, now=NOW)
        return time.monotonic()

    _, marked_at = race(hold_the_case, mark)

    assert isinstance(marked_at, float), marked_at
    assert marked_at >= released[0]
    assert reload(case).escalated_at == NOW
    with scopes_disabled():
        assert not CaseEvent.unscoped.filter(case_id=case.pk).exists()
