"""Who may escalate a case, and for which reason (E-1 … E-6): the decision the case page
shows before anyone types, and the refusal the service gives when asked anyway. A refused
request writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from accounts.models import CalendarClosure
from accounts.selectors import business_calendar_for
from cases import services as case_services
from cases.models import Channel
from core.errors import Conflict, InvalidInput
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from escalations import rules, services
from escalations.models import Escalation
from escalations.services import EscalationRefused
from tests.cases import NOW, acting_as, make_case, reload, snapshot
from tests.factories import BusinessCalendarFactory

pytestmark = pytest.mark.django_db

DETAILS = "The outage hits our billing line every morning and nobody has called us back."
REASONS = [
    "dissatisfied_with_handling",
    "slow_progress",
    "no_update",
    "rca_overdue",
    "deadline_at_risk",
]


# --- helpers -----------------------------------------------------------------------------


def escalate(case, actor, *, reason="slow_progress", details=DETAILS, now=NOW) -> Escalation:
    with acting_as(actor):
        return services.escalation_request(
            case=case, actor=actor, reason=reason, details=details, channel=Channel.PORTAL, now=now
        )


def eligibility(user, case, now=NOW) -> rules.Eligibility:
    with scopes_disabled():
        return rules.eligibility(user, reload(case), now)


def reason_refusal(case, reason, now=NOW) -> rules.Refusal | None:
    with scopes_disabled():
        return rules.reason_refusal(reload(case), reason, now)


def state(case) -> dict:
    """Everything a refused request must leave as it was."""
    with scopes_disabled():
        return {
            **snapshot(case),
            "escalations": list(Escalation.unscoped.values_list("pk", "state")),
            "emails": list(OutboxEmail.unscoped.values_list("pk", flat=True)),
        }


def refused(case, actor, error, *, rule: str | None = None, **kwargs) -> Exception:
    """Ask for an escalation, expect the error, and check nothing was written."""
    before = state(case)
    with pytest.raises(error) as caught:
        escalate(case, actor, **kwargs)
    assert state(case) == before
    if rule is not None:
        assert caught.value.rule == rule
    return caught.value


def care_update(case, actor, *, at, internal=False):
    with scopes_disabled():
        case_services.case_post_update(
            case=case,
            actor=actor,
            body="We are checking the media servers." if not internal else "Checked the logs.",
            internal=internal,
            channel=Channel.ADMIN,
            now=at,
        )


# --- E-1 a closed case is reopened first ----------------------------------------------------


def test_e1_closed_case_is_refused_with_a_reopen_offer_inside_the_window(org_a, dc_a):
    # DOMAIN E-1 (a closed case can be reopened within 30 days, C-12)
    case = make_case(org_a, dc_a, "resolved")  # closed a day before NOW

    checked = eligibility(dc_a, case)
    error = refused(case, dc_a, EscalationRefused, rule="E-1")

    assert not checked.allowed
    assert (checked.refusal.rule, checked.refusal.offer) == ("E-1", "reopen")
    assert "reopen it first" in checked.refusal.message
    assert error.offer == "reopen"
    assert error.errors == {"reason": [checked.refusal.message]}


def test_e1_closed_case_offers_reopen_until_the_last_moment_of_the_window(org_a, dc_a):
    # DOMAIN E-1 (C-12: 30 days after closure)
    case = make_case(org_a, dc_a, "cancelled")
    deadline = reload(case).closed_at + timedelta(days=30)

    assert eligibility(dc_a, case, deadline).refusal.offer == "reopen"
    assert eligibility(dc_a, case, deadline + timedelta(seconds=1)).refusal.offer == ""


def test_e1_closed_case_past_the_reopen_window_offers_nothing(org_a, dc_a):
    # DOMAIN E-1
    case = make_case(org_a, dc_a, "resolved")
    later = NOW + timedelta(days=31)

    checked = eligibility(dc_a, case, later)
    error = refused(case, dc_a, EscalationRefused, rule="E-1", now=later)

    assert (checked.refusal.rule, checked.refusal.offer) == ("E-1", "")
    assert "open a new case" in checked.refusal.message
    assert error.offer == ""


def test_e1_reopened_case_can_be_escalated(org_a, dc_a):
    # DOMAIN E-1, C-12
    case = make_case(org_a, dc_a, "resolved")
    with acting_as(dc_a):
        case_services.case_reopen(
            case=case, actor=dc_a, reason="It broke again.", channel=Channel.PORTAL, now=NOW
        )

    assert eligibility(dc_a, case, NOW + timedelta(minutes=5)).allowed
    escalation = escalate(case, dc_a, now=NOW + timedelta(minutes=5))

    assert escalation.state == "requested"


# --- E-2 one active escalation per case -----------------------------------------------------


def test_e2_second_request_while_one_is_requested_is_a_conflict(org_a, dc_a):
    # DOMAIN E-2
    case = make_case(org_a, dc_a, "investigation")
    first = escalate(case, dc_a)

    checked = eligibility(dc_a, case, NOW + timedelta(hours=1))
    refused(case, dc_a, Conflict, reason="no_update", now=NOW + timedelta(hours=1))

    assert (checked.refusal.rule, checked.refusal.offer) == ("E-2", "view_escalation")
    assert checked.active == first
    with scopes_disabled():
        assert Escalation.unscoped.filter(case_id=case.pk).count() == 1


def test_e2_second_request_while_one_is_accepted_is_a_conflict(org_a, dc_a, manager):
    # DOMAIN E-2
    case = make_case(org_a, dc_a, "investigation")
    first = escalate(case, dc_a)
    with scopes_disabled():
        services.escalation_accept(escalation=first, actor=manager, now=NOW + timedelta(hours=1))

    checked = eligibility(dc_a, case, NOW + timedelta(hours=2))
    refused(case, dc_a, Conflict, now=NOW + timedelta(hours=2))

    assert checked.refusal.rule == "E-2"
    assert checked.active == first
    assert "Accepted" in checked.refusal.message


def test_e2_a_case_may_have_many_escalations_over_time(org_a, dc_a, manager):
    # DOMAIN E-2: after a rejection or a resolution, a new escalation is allowed
    case = make_case(org_a, dc_a, "investigation")
    first = escalate(case, dc_a, now=NOW)
    with scopes_disabled():
        services.escalation_reject(
            escalation=first,
            actor=manager,
            explanation="The engineers are already on it; the fix ships tonight.",
            now=NOW + timedelta(hours=1),
        )

    second = escalate(case, dc_a, reason="deadline_at_risk", now=NOW + timedelta(hours=2))
    with scopes_disabled():
        services.escalation_accept(escalation=second, actor=manager, now=NOW + timedelta(hours=3))
        services.escalation_resolve(
            escalation=second,
            actor=manager,
            summary="A senior engineer took the case; the fix is live.",
            now=NOW + timedelta(hours=4),
        )
    third = escalate(case, dc_a, reason="dissatisfied_with_handling", now=NOW + timedelta(days=1))

    with scopes_disabled():
        states = dict(Escalation.unscoped.filter(case_id=case.pk).values_list("pk", "state"))
    assert states == {first.pk: "rejected", second.pk: "resolved", third.pk: "requested"}


def test_e2_the_database_refuses_a_second_active_escalation(org_a, dc_a, manager):
    # DOMAIN E-2: whatever the race, the constraint holds
    case = make_case(org_a, dc_a, "investigation")
    first = escalate(case, dc_a)

    with scopes_disabled():
        for active_state in ("requested", "accepted"):
            Escalation.unscoped.filter(pk=first.pk).update(state=active_state)
            with pytest.raises(IntegrityError), transaction.atomic():
                Escalation.unscoped.create(
                    organization=org_a,
                    case=case,
                    requester=dc_a,
                    reason="slow_progress",
                    details=DETAILS,
                    requested_at=NOW,
                )
        # an ended one does not count
        Escalation.unscoped.filter(pk=first.pk).update(state="resolved", summary="Done.")
        Escalation.unscoped.create(
            organization=org_a,
            case=case,
            requester=dc_a,
            reason="slow_progress",
            details=DETAILS,
            requested_at=NOW,
        )
        assert Escalation.unscoped.filter(case_id=case.pk).count() == 2


# --- E-3 LOW is not escalated --------------------------------------------------------------


def test_e3_low_priority_case_is_refused_with_the_medium_advice(org_a, dc_a):
    # DOMAIN E-3
    case = make_case(org_a, dc_a, "investigation", priority="low")

    checked = eligibility(dc_a, case)
    error = refused(case, dc_a, EscalationRefused, rule="E-3")

    assert (checked.refusal.rule, checked.refusal.offer) == ("E-3", "priority_request")
    assert "MEDIUM" in checked.refusal.message
    assert "priority request" in checked.refusal.message
    assert error.message == checked.refusal.message
    assert error.offer == "priority_request"


@pytest.mark.parametrize("priority", ["medium", "high", "critical"])
def test_e3_medium_and_higher_priorities_can_be_escalated(org_a, dc_a, priority):
    # DOMAIN E-3
    case = make_case(org_a, dc_a, "investigation", priority=priority)

    assert eligibility(dc_a, case).allowed
    assert escalate(case, dc_a).state == "requested"


# --- E-4 urgency or impact changes are priority requests -----------------------------------


@pytest.mark.parametrize("reason", ["urgency_change", "impact_change", "priority_change"])
def test_e4_priority_change_reasons_are_refused_with_the_priority_advice(org_a, dc_a, reason):
    # DOMAIN E-4, C-6
    case = make_case(org_a, dc_a, "investigation", priority="high")

    error = refused(case, dc_a, EscalationRefused, rule="E-4", reason=reason)

    assert error.message == rules.PRIORITY_CHANGE_ADVICE
    assert error.errors == {"reason": [rules.PRIORITY_CHANGE_ADVICE]}
    assert error.offer == "priority_request"
    assert reason_refusal(case, reason) == rules.Refusal(
        "E-4", rules.PRIORITY_CHANGE_ADVICE, "priority_request"
    )


def test_e4_the_advice_says_how_to_ask_for_a_priority_change():
    # DOMAIN E-4, C-6
    advice = rules.PRIORITY_CHANGE_ADVICE
    assert "not a reason to escalate" in advice
    assert "priority request" in advice
    assert "call Customer Care" in advice


@pytest.mark.parametrize("reason", ["because", "other", "escalate now"])
def test_e4_unknown_reason_is_refused(org_a, dc_a, reason):
    # DOMAIN E-4, E-7 (the reason comes from the list)
    case = make_case(org_a, dc_a, "investigation")

    error = refused(case, dc_a, InvalidInput, reason=reason)

    assert set(error.errors) == {"reason"}
    assert "Choose a reason from the list" in error.message


def test_e4_the_reason_list_is_the_escalation_reasons(org_a, dc_a):
    # DOMAIN E-4: no priority or urgency reason is offered
    case = make_case(org_a, dc_a, "investigation", priority="high")

    checked = eligibility(dc_a, case)

    assert sorted(checked.reasons) == sorted(REASONS)
    assert not set(checked.reasons) & rules.PRIORITY_CHANGE_WORDS


# --- E-5 RCA overdue ----------------------------------------------------------------------

# A Wednesday, 11:00 in Berlin. Five business days later is the next Wednesday; five calendar
# days later is the Monday, with a weekend in between.
RESTORED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
FIVE_BUSINESS_DAYS_LATER = datetime(2026, 3, 11, 10, 0, tzinfo=UTC)


@pytest.fixture
def berlin_calendar(org_a):
    with scopes_disabled():
        return BusinessCalendarFactory(organization=org_a, time_zone="Europe/Berlin")


def restored_pending_rca(org, contact, analyst, *, at=RESTORED):
    case = make_case(org, contact, "investigation", type="support", priority="high")
    with scopes_disabled():
        case_services.case_restore_service(
            case=case, actor=analyst, pending="rca", channel=Channel.ADMIN, now=at
        )
    case = reload(case)
    assert (case.sub_status, case.restored_at, case.rca_delivered_at) == ("pending_rca", at, None)
    return case


def test_e5_rca_overdue_is_refused_when_the_service_was_not_restored(org_a, dc_a):
    # DOMAIN E-5
    case = make_case(org_a, dc_a, "investigation", priority="high")

    error = refused(
        case,
        dc_a,
        EscalationRefused,
        rule="E-5",
        reason="rca_overdue",
        now=NOW + timedelta(days=30),
    )

    assert "no restoration" in error.message
    assert eligibility(dc_a, case).reasons["rca_overdue"].rule == "E-5"


def test_e5_rca_overdue_counts_business_days_not_calendar_days(
    org_a, dc_a, analyst, berlin_calendar
):
    # DOMAIN E-5, B-2
    case = restored_pending_rca(org_a, dc_a, analyst)
    calendar = business_calendar_for(org_a)

    assert calendar.tz == "Europe/Berlin"
    with scopes_disabled():
        assert rules.rca_overdue_since(reload(case)) == FIVE_BUSINESS_DAYS_LATER
    # five calendar days (the Monday) are only three business days
    five_calendar_days = RESTORED + timedelta(days=5)
    assert reason_refusal(case, "rca_overdue", five_calendar_days).rule == "E-5"
    refused(case, dc_a, EscalationRefused, rule="E-5", reason="rca_overdue", now=five_calendar_days)


def test_e5_rca_overdue_is_refused_four_business_days_after_restoration(
    org_a, dc_a, analyst, berlin_calendar
):
    # DOMAIN E-5
    case = restored_pending_rca(org_a, dc_a, analyst)
    four_business_days = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # the Tuesday

    error = refused(
        case, dc_a, EscalationRefused, rule="E-5", reason="rca_overdue", now=four_business_days
    )

    assert "5 business days" in error.message
    assert "2026-03-11 10:00" in error.message
    # the other reasons stay open meanwhile
    open_reasons = eligibility(dc_a, case, four_business_days).open_reasons
    assert "rca_overdue" not in open_reasons
    assert "slow_progress" in open_reasons


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(days=2)], ids=str)
def test_e5_rca_overdue_is_allowed_from_five_business_days_after_restoration(
    org_a, dc_a, analyst, berlin_calendar, after
):
    # DOMAIN E-5
    case = restored_pending_rca(org_a, dc_a, analyst)
    now = FIVE_BUSINESS_DAYS_LATER + after

    assert reason_refusal(case, "rca_overdue", now) is None
    assert "rca_overdue" in eligibility(dc_a, case, now).open_reasons
    escalation = escalate(case, dc_a, reason="rca_overdue", now=now)

    assert (escalation.reason, escalation.state) == ("rca_overdue", "requested")


def test_e5_a_closed_day_of_the_calendar_moves_the_rca_due_date(
    org_a, dc_a, analyst, berlin_calendar
):
    # DOMAIN E-5, B-1 (care's extra closed days count as non-business days)
    with scopes_disabled():
        CalendarClosure.objects.create(
            organization=org_a,
            calendar=berlin_calendar,
            day=date(2026, 3, 6),
            reason="Company event",
        )
    case = restored_pending_rca(org_a, dc_a, analyst)
    one_business_day_more = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)

    assert reason_refusal(case, "rca_overdue", FIVE_BUSINESS_DAYS_LATER).rule == "E-5"
    assert reason_refusal(case, "rca_overdue", one_business_day_more) is None


def test_e5_rca_overdue_is_refused_once_the_rca_was_delivered(
    org_a, dc_a, analyst, berlin_calendar
):
    # DOMAIN E-5
    case = restored_pending_rca(org_a, dc_a, analyst)
    with scopes_disabled():
        case_services.case_deliver_rca(
            case=case,
            actor=analyst,
            body="Root cause: an expired certificate on one media server.",
            channel=Channel.ADMIN,
            now=FIVE_BUSINESS_DAYS_LATER - timedelta(hours=1),
        )
    later = FIVE_BUSINESS_DAYS_LATER + timedelta(days=1)

    error = refused(case, dc_a, EscalationRefused, rule="E-5", reason="rca_overdue", now=later)

    assert "already delivered" in error.message
    with scopes_disabled():
        assert rules.rca_overdue_since(reload(case)) is None


# --- E-6 no update --------------------------------------------------------------------------


def test_e6_no_update_is_refused_for_a_medium_case(org_a, dc_a):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, "investigation", priority="medium")

    error = refused(case, dc_a, EscalationRefused, rule="E-6", reason="no_update")

    assert "HIGH and CRITICAL" in error.message
    assert eligibility(dc_a, case).reasons["no_update"].rule == "E-6"


def test_e6_no_update_is_refused_for_a_high_case_with_a_care_update_23_hours_ago(
    org_a, dc_a, analyst
):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, "investigation", priority="high")
    care_update(case, analyst, at=NOW - timedelta(hours=23))

    error = refused(case, dc_a, EscalationRefused, rule="E-6", reason="no_update")

    assert "24 hours" in error.message
    assert "no_update" not in eligibility(dc_a, case).open_reasons


@pytest.mark.parametrize("hours", [24, 25, 72])
def test_e6_no_update_is_allowed_24_hours_after_the_last_care_update(org_a, dc_a, analyst, hours):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, "investigation", priority="high")
    care_update(case, analyst, at=NOW - timedelta(hours=hours))

    assert "no_update" in eligibility(dc_a, case).open_reasons
    assert escalate(case, dc_a, reason="no_update").reason == "no_update"


def test_e6_no_update_is_allowed_for_a_critical_case_care_never_answered(org_a, dc_a):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, "new", priority="critical")

    assert escalate(case, dc_a, reason="no_update").reason == "no_update"


def test_e6_an_internal_note_is_not_an_update(org_a, dc_a, analyst):
    # DOMAIN E-6, C-9 (internal notes are not shown to the customer)
    case = make_case(org_a, dc_a, "investigation", priority="high")
    care_update(case, analyst, at=NOW - timedelta(hours=30))
    care_update(case, analyst, at=NOW - timedelta(hours=1), internal=True)

    assert reason_refusal(case, "no_update", NOW) is None
    assert escalate(case, dc_a, reason="no_update").reason == "no_update"


def test_e6_a_customer_update_is_not_a_care_update(org_a, dc_a, analyst):
    # DOMAIN E-6
    case = make_case(org_a, dc_a, "investigation", priority="high")
    care_update(case, analyst, at=NOW - timedelta(hours=30))
    with acting_as(dc_a):
        case_services.case_post_update(
            case=case,
            actor=dc_a,
            body="Still broken, any news?",
            channel=Channel.PORTAL,
            now=NOW - timedelta(hours=1),
        )

    assert reason_refusal(case, "no_update", NOW) is None
    assert escalate(case, dc_a, reason="no_update").reason == "no_update"
