"""Planned demo cases follow the real state machine and keep every invariant the services
keep (C-7 … C-9)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from django_fsm import can_proceed

from cases import policy
from cases.models import CLOSED_SUB_STATUSES, STATUS_OF, Case, CaseEvent, CaseType, SubStatus
from demo.planner import PATHS, check_plan, path_needs_restorable, plan_case

NOW = datetime(2024, 9, 1, 12, 0, tzinfo=UTC)
SERVICES = [("routing", "Routing"), ("ivr", "IVR"), ("telephony", "Telephony")]


def replay(path, case_type) -> str:
    """Fire the path's transitions on the real state machine; fail on any refused move."""
    case = Case(sub_status=SubStatus.NEW, type=case_type)
    for step in path:
        name, _, arg = step.partition(":")
        method = getattr(case, name)
        assert can_proceed(method), f"{name} refused from {case.sub_status}"
        if name == "resolve":
            method(now=NOW, reason=arg)
        elif name in (
            "restore_service_pending_solution",
            "restore_service_pending_rca",
            "deliver_rca",
            "cancel",
            "redirect",
        ):
            method(now=NOW)
        else:
            method()
    return case.sub_status


@pytest.mark.parametrize(("target", "path"), [(t, p) for t, paths in PATHS.items() for p in paths])
def test_every_generated_path_is_allowed_by_the_state_machine(target, path):
    # DOMAIN C-8
    case_type = CaseType.SUPPORT if path_needs_restorable(path) else CaseType.SERVICE_REQUEST
    assert replay(path, case_type) == target


def test_every_sub_status_has_a_path():
    assert set(PATHS) == set(STATUS_OF)


def test_customer_updates_while_investigating_do_not_move_the_case():
    # DOMAIN C-8 (the generator's extra feed entries happen in Investigation)
    case = Case(sub_status=SubStatus.INVESTIGATION, type=CaseType.SUPPORT)
    assert not policy.customer_update_responds(case)


def test_planned_cases_keep_the_invariants():
    # DOMAIN C-7 DOMAIN C-9
    rng = random.Random(7)
    seen = set()
    for _ in range(1500):
        opened_at = NOW - timedelta(days=rng.uniform(0, 90), minutes=1)
        plan = plan_case(rng, opened_at=opened_at, now=NOW, services=SERVICES)
        f = plan.fields
        seen.add(f["sub_status"])
        assert f["status"] == STATUS_OF[f["sub_status"]]
        assert (f["closed_at"] is not None) == (f["sub_status"] in CLOSED_SUB_STATUSES)
        assert all(opened_at <= u.at <= NOW for u in plan.updates)
        assert all(opened_at <= e.at <= NOW for e in plan.events)
        assert plan.events[0].kind == CaseEvent.Kind.OPENED
        if f["type"] == CaseType.ADMIN:
            assert plan.service_slug is None
        else:
            assert plan.service_slug in dict(SERVICES)
        if f["type"] != CaseType.SUPPORT and f["type"] != CaseType.INCIDENT:
            assert f["implementation_stage"] == ""
        assert "\n" not in f["subject"] and len(f["subject"]) <= 200
    assert seen == set(STATUS_OF)


def test_a_broken_plan_is_refused():
    rng = random.Random(1)
    plan = plan_case(
        rng, opened_at=NOW - timedelta(days=3), now=NOW, services=SERVICES, target="resolved"
    )
    plan.fields["closed_at"] = None
    with pytest.raises(ValueError, match="closure"):
        check_plan(plan)
