"""The case history writer (C-16): one place writes every event, filed under the case's
organization, append-only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cases.models import CaseEvent, Channel
from cases.services.history import case_event_record, case_events_record_bulk
from core.tenancy import scopes_disabled
from tests.cases import NOW, make_case

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def test_an_event_records_who_when_how_and_what_changed(org_a, dc_a, analyst):
    # DOMAIN C-16
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")

        event = case_event_record(
            case=case,
            actor=analyst,
            kind=CaseEvent.Kind.PRIORITY,
            channel=Channel.ADMIN,
            now=NOW,
            before={"priority": "low"},
            after={"priority": "high"},
        )

        stored = CaseEvent.unscoped.get(pk=event.pk)
    assert (stored.case_id, stored.organization_id, stored.actor_id) == (
        case.pk,
        org_a.pk,
        analyst.pk,
    )
    assert (stored.kind, stored.channel, stored.created_at, stored.internal) == (
        "priority",
        "admin",
        NOW,
        False,
    )
    assert (stored.before, stored.after) == ({"priority": "low"}, {"priority": "high"})


def test_a_system_event_has_no_actor_and_empty_sides(org_a, dc_a):
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")

        event = case_event_record(
            case=case,
            actor=None,
            kind=CaseEvent.Kind.SLA,
            channel=Channel.SYSTEM,
            now=NOW,
            internal=True,
        )

        stored = CaseEvent.unscoped.get(pk=event.pk)
    assert (stored.actor_id, stored.before, stored.after, stored.internal) == (None, {}, {}, True)


def test_the_writer_works_outside_a_tenant_scope_as_the_sweeps_do(org_a, dc_a):
    # Sweeps run with scoping disabled; requests inside their user's scope. The writer takes
    # the tenant from the case in both.
    with scopes_disabled():
        case = make_case(org_a, dc_a, "investigation")
    event = case_event_record(
        case=case, actor=None, kind=CaseEvent.Kind.SLA, channel=Channel.SYSTEM, now=NOW
    )
    assert event.organization_id == org_a.pk


def test_bulk_inserts_new_events(org_a, org_b, dc_a, dc_b):
    with scopes_disabled():
        cases = [make_case(org_a, dc_a), make_case(org_b, dc_b)]
        events = [
            CaseEvent(
                organization_id=case.organization_id,
                case_id=case.pk,
                kind=CaseEvent.Kind.OPENED,
                channel=Channel.PORTAL,
                created_at=NOW,
            )
            for case in cases
        ]

        case_events_record_bulk(events=events, batch_size=1)

        stored = sorted(CaseEvent.unscoped.values_list("case_id", "organization_id"))
    assert stored == sorted((c.pk, c.organization_id) for c in cases)


def test_bulk_refuses_a_stored_event_and_one_without_its_tenant(org_a, dc_a):
    # DOMAIN C-16: the history is append-only; every event belongs to an organization (T-1)
    with scopes_disabled():
        case = make_case(org_a, dc_a)
        stored = case_event_record(
            case=case, actor=None, kind=CaseEvent.Kind.OPENED, channel=Channel.PORTAL, now=NOW
        )
        orphan = CaseEvent(
            case_id=case.pk, kind=CaseEvent.Kind.OPENED, channel=Channel.PORTAL, created_at=NOW
        )

        with pytest.raises(ValueError, match="append-only"):
            case_events_record_bulk(events=[stored])
        with pytest.raises(ValueError, match="organization"):
            case_events_record_bulk(events=[orphan])

        assert CaseEvent.unscoped.count() == 1


# Ways to insert a row with the ORM; the history writer is the only module that may use them
# on CaseEvent.
_EVENT_INSERT = re.compile(
    r"CaseEvent\.(?:objects|unscoped|_base_manager)\.(?:create|bulk_create|get_or_create|"
    r"update_or_create)\b|CaseEvent\([^)]*\)\.save\("
)


def test_no_other_module_inserts_case_events():
    # One writer per fact: the services, the sweeps, escalations and the demo data all record
    # history through cases.services.history.
    writer = ROOT / "cases" / "services" / "history.py"
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"tests", "bench"} or "migrations" in parts or parts[0].startswith("."):
            continue
        if path != writer and _EVENT_INSERT.search(path.read_text(encoding="utf-8")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
