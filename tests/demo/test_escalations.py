"""Demo escalations: one in each state, on eligible open demo cases, written through the
services (E-1, E-3, E-7 … E-9), and added only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from cases import policy
from cases.models import Case, CaseEvent, CaseUpdate
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from demo.accounts import seed_people_and_organizations
from demo.escalations import STORIES, seed_demo_escalations
from demo.writer import seed_demo_spread
from escalations.models import Escalation, EscalationMessage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo_world(db):
    seed_people_and_organizations(password="demo-password-123", now=NOW)
    seed_demo_spread(now=NOW, stdout=StringIO())


def everything() -> dict:
    with scopes_disabled():
        return {
            "escalations": list(Escalation.unscoped.order_by("pk").values()),
            "messages": list(EscalationMessage.unscoped.order_by("pk").values()),
            "events": CaseEvent.unscoped.count(),
            "emails": OutboxEmail.unscoped.count(),
            "cases": list(Case.unscoped.order_by("pk").values("pk", "escalated_at")),
        }


def test_demo_has_one_escalation_in_each_state_on_eligible_cases(demo_world):
    # DOMAIN E-1, E-3, E-7, E-8
    made = seed_demo_escalations(now=NOW)

    assert made == len(STORIES) == 4
    with scopes_disabled():
        escalations = list(
            Escalation.unscoped.select_related("case__organization", "requester", "owner")
        )
        assert sorted(e.state for e in escalations) == [
            "accepted",
            "rejected",
            "requested",
            "resolved",
        ]
        assert len({e.case_id for e in escalations}) == 4
        for escalation in escalations:
            case = escalation.case
            assert not case.is_closed and case.priority != "low"
            assert case.organization.slug in {"acme", "globex", "initech"}
            assert policy.is_designated_contact(escalation.requester, case)
            assert case.opened_at < escalation.requested_at < NOW
            assert case.escalated_at == escalation.requested_at
            assert escalation.details
            if escalation.state != "requested":
                assert escalation.owner.email == "manager@care.example"
                assert escalation.requested_at < escalation.decided_at < NOW
        # the documented customer login sees escalations
        assert {e.case.organization.slug for e in escalations} >= {"acme"}


def test_demo_escalations_tell_their_story(demo_world):
    # DOMAIN E-8, E-9, C-16
    seed_demo_escalations(now=NOW)

    with scopes_disabled():
        by_state = {e.state: e for e in Escalation.unscoped.all()}
        accepted = by_state["accepted"]
        feed = list(EscalationMessage.unscoped.filter(escalation=accepted))
        assert [m.by_care for m in feed] == [True, False, True]  # both sides write
        assert all(accepted.decided_at <= m.created_at < NOW for m in feed)
        assert accepted.last_message_at == feed[-1].created_at
        assert (accepted.importance, accepted.urgency, accepted.priority_score) == (
            "high",
            "high",
            9,
        )
        assert "Morgan Manager" in feed[0].body
        assert by_state["rejected"].explanation
        assert by_state["resolved"].summary
        assert by_state["resolved"].decided_at < by_state["resolved"].resolved_at < NOW
        assert not EscalationMessage.unscoped.filter(escalation=by_state["requested"]).exists()
        # the messages stay out of the case feed
        bodies = set(CaseUpdate.unscoped.values_list("body", flat=True))
        assert not bodies & {m.body for m in EscalationMessage.unscoped.all()}
        # every step is in the case history, in order
        for escalation in by_state.values():
            events = CaseEvent.unscoped.filter(
                case_id=escalation.case_id, kind="escalation"
            ).order_by("created_at", "id")
            states = [e.after["state"] for e in events]
            expected = {
                "requested": ["requested"],
                "accepted": ["requested", "accepted"],
                "rejected": ["requested", "rejected"],
                "resolved": ["requested", "accepted", "resolved"],
            }[escalation.state]
            assert states == expected


def test_demo_escalations_are_added_once(demo_world):
    # given the demo escalations
    seed_demo_escalations(now=NOW)
    before = everything()

    # when they are seeded again, even later
    again = seed_demo_escalations(now=NOW + timedelta(days=1))

    # then nothing changes
    assert again == 0
    assert everything() == before


def test_no_demo_escalations_without_the_demo_world(db):
    assert seed_demo_escalations(now=NOW) == 0
    with scopes_disabled():
        assert not Escalation.unscoped.exists()


def test_no_demo_escalations_without_eligible_cases(demo_world):
    # DOMAIN E-3: LOW cases are not escalated, closed ones neither (E-1)
    with scopes_disabled():
        Case.unscoped.exclude(sub_status__in=["resolved", "cancelled", "redirected"]).update(
            priority="low"
        )

    assert seed_demo_escalations(now=NOW) == 0
    with scopes_disabled():
        assert not Escalation.unscoped.exists()


def test_seed_demo_command_adds_the_escalations_once(settings):
    settings.DEMO_PASSWORD = "demo-pass-test"
    out = StringIO()

    call_command("seed_demo", stdout=out, verbosity=0)
    call_command("seed_demo", stdout=out, verbosity=0)

    assert out.getvalue().count("4 demo escalations added.") == 1
    with scopes_disabled():
        assert Escalation.unscoped.count() == 4
        assert Escalation.unscoped.filter(state__in=["requested", "accepted"]).count() == 2
