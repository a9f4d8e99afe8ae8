"""Follow-up sweeps against real row locks (PostgreSQL): several sweeps at once, and a
customer response racing the sweep (F-5, F-6)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.db import transaction

from cases.models import Case, CaseEvent
from core.tenancy import scopes_disabled
from followups import sweep
from followups.sweep import followup_sweep
from tests.cases import NOW, make_case, migrated_data_restored, postgres_only  # noqa: F401
from tests.followups.helpers import (
    CLOSE,
    R1,
    active_timer,
    ask,
    followup_emails,
    followup_events,
    respond,
    slowed,
    steps,
)
from tests.helpers.concurrency import race


@pytest.fixture
def quiet_broker():
    from unittest import mock

    with mock.patch("config.celery.app.send_task") as apply_async:
        yield apply_async


@pytest.fixture
def slow_steps(monkeypatch):
    """Each step holds its transaction a moment longer, so two sweeps (or a sweep and the
    customer) are busy at the same time."""
    monkeypatch.setattr(sweep, "followup_step", slowed(sweep.followup_step, seconds=0.005))


def _waiting_cases(org, contact, analyst, count: int) -> list[Case]:
    cases = [make_case(org, contact, "investigation") for _ in range(count)]
    for case in cases:
        ask(case, analyst, now=NOW)
    return cases


@postgres_only
def test_two_sweeps_at_once_perform_each_step_once(quiet_broker, slow_steps, org_a, dc_a, analyst):
    # DOMAIN F-6
    cases = _waiting_cases(org_a, dc_a, analyst, 24)

    results = race(lambda: followup_sweep(now=R1, batch=4), lambda: followup_sweep(now=R1, batch=4))

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(cases)
    assert all(results), "both sweeps did part of the work"
    for case in cases:
        assert [step for _, step in steps(case)] == [1]
        assert len(followup_emails(case)) == 1
        assert len(followup_events(case)) == 1


@postgres_only
def test_a_customer_response_racing_the_sweep_gets_no_reminder_after_it(
    quiet_broker, slow_steps, org_a, dc_a, analyst
):
    # DOMAIN F-5, F-6: whoever locks the case first, a reminder never follows the response
    cases = _waiting_cases(org_a, dc_a, analyst, 16)

    def respond_to_all() -> int:
        for case in cases:
            respond(case, dc_a, now=R1)
        return len(cases)

    results = race(lambda: followup_sweep(now=R1, batch=4), respond_to_all)

    assert not any(isinstance(r, Exception) for r in results), results
    with scopes_disabled():
        for case in cases:
            response = CaseEvent.unscoped.get(case_id=case.pk, kind="update")
            reminders = followup_events(case)
            assert all(event.pk < response.pk for event in reminders), case.pk
            assert active_timer(case) is None
    reminded = sum(bool(followup_events(case)) for case in cases)
    assert reminded == results[0]

    assert followup_sweep(now=CLOSE) == 0
    assert all(len(followup_emails(case)) <= 1 for case in cases)


@postgres_only
def test_the_sweep_passes_over_a_case_being_changed(quiet_broker, org_a, dc_a, analyst):
    # DOMAIN F-5: a case locked by a customer's request is left to the next run, which
    # then finds the timer stopped
    [case] = _waiting_cases(org_a, dc_a, analyst, 1)
    locked, swept = threading.Event(), threading.Event()

    def customer_request() -> None:
        with transaction.atomic():
            with scopes_disabled():
                Case.unscoped.select_for_update().get(pk=case.pk)
            locked.set()
            assert swept.wait(timeout=20)
            respond(case, dc_a, now=R1)

    def sweep_while_locked() -> int:
        assert locked.wait(timeout=20)
        try:
            return followup_sweep(now=R1)
        finally:
            swept.set()

    results = race(customer_request, sweep_while_locked)

    assert results == [None, 0]
    assert steps(case) == [] and active_timer(case) is None
    assert followup_sweep(now=R1 + timedelta(minutes=2)) == 0
    assert followup_emails(case) == []


@postgres_only
def test_a_case_locked_for_nothing_is_done_by_the_next_run(
    quiet_broker, org_a, dc_a, analyst, caplog
):
    # DOMAIN F-6: passed over is not lost, and being busy is not an error
    [case] = _waiting_cases(org_a, dc_a, analyst, 1)
    locked, swept = threading.Event(), threading.Event()

    def hold_the_case() -> None:
        with transaction.atomic(), scopes_disabled():
            Case.unscoped.select_for_update().get(pk=case.pk)
            locked.set()
            assert swept.wait(timeout=20)

    def sweep_while_locked() -> int:
        assert locked.wait(timeout=20)
        try:
            return followup_sweep(now=R1)
        finally:
            swept.set()

    with caplog.at_level(logging.INFO, logger="followups.sweep"):
        assert race(hold_the_case, sweep_while_locked) == [None, 0]

    assert [r for r in caplog.records if r.name == "followups.sweep"] == []
    assert followup_sweep(now=R1 + timedelta(minutes=2)) == 1
    assert len(followup_emails(case)) == 1
