"""Generated demo cases keep every invariant the services keep (C-1, C-7 … C-9, C-14)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max
from django_fsm import can_proceed

from accounts.models import AccessLevel, Membership
from cases import policy
from cases.models import (
    CLOSED_SUB_STATUSES,
    STATUS_OF,
    Case,
    CaseEvent,
    CaseType,
    CaseUpdate,
    SubStatus,
)
from cases.numbering import next_case_number
from cases.search import search_cases
from core.tenancy import scopes_disabled
from demo.accounts import seed_people_and_organizations
from demo.cases import (
    PATHS,
    SPREAD_CASES,
    check_plan,
    path_needs_restorable,
    plan_case,
    seed_cases,
    seed_demo_spread,
)

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


@pytest.fixture
def demo(db):
    seed_people_and_organizations(password="demo-password-123", now=NOW)


@pytest.mark.django_db
def test_seed_cases_writes_consistent_cases_with_feeds_and_history(demo):
    # DOMAIN C-1 DOMAIN C-7 DOMAIN C-9 DOMAIN C-16
    # when 120 cases are generated
    made = seed_cases(count=120, now=NOW, stdout=StringIO(), seed=3)
    # then they exist with every sub-status, on the demo organizations' designated contacts
    assert made == 120
    with scopes_disabled():
        cases = list(Case.objects.select_related("organization"))
        assert len(cases) == 120
        assert {c.sub_status for c in cases} == set(STATUS_OF)
        contacts = set(
            Membership.objects.filter(access_level=AccessLevel.DESIGNATED_CONTACT).values_list(
                "organization_id", "user_id"
            )
        )
        assert {c.organization.slug for c in cases} <= {"acme", "globex", "initech"}
        for case in cases:
            assert (case.organization_id, case.contact_id) in contacts
            assert case.status == STATUS_OF[case.sub_status]
            assert case.deployment.organization_id == case.organization_id
            assert NOW - timedelta(days=91) <= case.opened_at <= NOW
            if case.is_closed:
                assert case.closed_at is not None and case.closure_reason
            else:
                assert case.closed_at is None and not case.closure_reason
            last_public = CaseUpdate.objects.filter(case=case, is_internal=False).aggregate(
                last=Max("created_at")
            )["last"]
            assert case.modified_at == (last_public or case.opened_at)
            assert CaseEvent.objects.filter(case=case, kind="opened").count() == 1
            assert (
                not CaseUpdate.objects.filter(case=case)
                .exclude(organization_id=case.organization_id)
                .exists()
            )
        # and the feeds hold public updates from both sides and some internal notes
        updates = CaseUpdate.objects.all()
        assert updates.filter(is_internal=False, by_care=True).exists()
        assert updates.filter(is_internal=False, by_care=False).exists()
        assert updates.filter(is_internal=True, by_care=True).exists()
        # and numbers are unique and the counter continues after them (C-1)
        numbers = [c.number for c in cases]
        assert len(set(numbers)) == 120
    assert next_case_number() > max(numbers)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_generated_cases_are_found_by_words_of_their_public_updates(demo):
    # DOMAIN C-14
    seed_cases(count=60, now=NOW, seed=5)
    with scopes_disabled():
        assert not Case.objects.filter(search_vector__isnull=True).exists()
        update = CaseUpdate.objects.filter(is_internal=False, by_care=True).first()
        word = max(update.body.split(), key=len).strip(".,:;!?'()")
        assert update.case in search_cases(Case.objects.all(), word)


@pytest.mark.django_db
def test_spread_is_added_once(demo):
    # given the demo organizations without cases
    # when the spread is seeded twice
    first = seed_demo_spread(now=NOW, stdout=StringIO())
    second = seed_demo_spread(now=NOW, stdout=StringIO())
    # then the first run adds every sub-status and the second adds nothing
    assert first == SPREAD_CASES
    assert second == 0
    with scopes_disabled():
        assert Case.objects.count() == SPREAD_CASES
        assert {c.sub_status for c in Case.objects.all()} == set(STATUS_OF)


@pytest.mark.django_db
def test_seed_demo_command_generates_cases():
    out = StringIO()
    call_command("seed_demo", "--cases", "30", stdout=out, verbosity=0)
    with scopes_disabled():
        assert Case.objects.count() >= 30
    assert "30 cases generated" in out.getvalue()


@pytest.mark.django_db
def test_reserved_numbers_are_never_handed_out_again(org_a, dc_a):
    # DOMAIN C-1
    from cases.models import CaseNumberCounter
    from demo.cases import reserve_case_numbers
    from tests.factories import CaseFactory

    # given a case, and (on databases without sequences) a lost counter row
    with scopes_disabled():
        existing = CaseFactory(organization=org_a, contact=dc_a).number
    CaseNumberCounter.objects.all().delete()
    # when a block is reserved
    block = reserve_case_numbers(5)
    # then it is five new numbers above every number in use, and the next case follows
    assert len(set(block)) == 5 and min(block) > existing
    assert next_case_number() > max(block)
