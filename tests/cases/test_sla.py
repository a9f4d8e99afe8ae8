"""Service levels (S-1 … S-8) on the organization's business calendar (B-1 … B-4): due times
on opening, the first response, pause and resume per rule, recomputation when priority,
type, support level or calendar change, and the sweep that notifies at-risk and breached
cases exactly once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts import roles
from accounts.models import CalendarClosure, Organization, SupportLevel
from accounts.selectors import business_calendar_for
from cases import services
from cases.models import Case, CaseEvent, Channel, SlaState
from cases.sla import (
    sla_recompute_for_organization,
    sla_rows,
    sla_sweep,
    targets_for,
)
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from tests.cases import (  # noqa: F401  (migrated_data_restored is a fixture)
    acting_as,
    migrated_data_restored,
    postgres_only,
    reload,
)
from tests.factories import BusinessCalendarFactory, CaseFactory, UserFactory, open_case
from tests.helpers.concurrency import race

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def local(*args: int) -> datetime:
    """A wall time in Berlin. The weeks used here (March 2026) have no Bavarian holiday."""
    return datetime(*args, tzinfo=BERLIN)


MONDAY_10 = local(2026, 3, 2, 10)


@pytest.fixture
def berlin(org_a):
    """Org A works Monday to Friday, 09:00–17:00 in Berlin."""
    with scopes_disabled():
        return BusinessCalendarFactory(organization=org_a)


def set_level(organization: Organization, level: str) -> None:
    Organization.objects.filter(pk=organization.pk).update(support_level=level)
    organization.refresh_from_db()


def care(action: str, case: Case, actor, at: datetime, **kwargs) -> Case:
    with acting_as(actor):
        getattr(services, action)(
            case=reload(case), actor=actor, channel=Channel.ADMIN, now=at, **kwargs
        )
    return reload(case)


def customer(action: str, case: Case, actor, at: datetime, **kwargs) -> Case:
    with acting_as(actor):
        getattr(services, action)(
            case=reload(case), actor=actor, channel=Channel.PORTAL, now=at, **kwargs
        )
    return reload(case)


def sla_emails() -> list[OutboxEmail]:
    with scopes_disabled():
        return list(OutboxEmail.unscoped.filter(idempotency_key__startswith="sla-").order_by("pk"))


def sla_events(case: Case) -> list[CaseEvent]:
    with scopes_disabled():
        return list(
            CaseEvent.unscoped.filter(case_id=case.pk, kind=CaseEvent.Kind.SLA).order_by("pk")
        )


# --- due times on opening (S-1 … S-3, S-7, B-2, B-3) ----------------------------------------


@pytest.mark.parametrize(
    ("priority", "response", "resolution"),
    [
        ("high", local(2026, 3, 2, 12), local(2026, 3, 4, 10)),
        ("medium", local(2026, 3, 2, 14), local(2026, 3, 9, 10)),
        ("low", local(2026, 3, 3, 10), local(2026, 3, 16, 10)),
    ],
)
def test_targets_on_opening_count_business_time(
    berlin, org_a, dc_a, priority, response, resolution
):
    # DOMAIN S-2, S-3, B-2, B-3, S-8: stored on the case when it is opened.
    case = reload(open_case(dc_a, org_a, now=MONDAY_10, priority=priority))

    assert case.response_due_at == response
    assert case.resolution_due_at == resolution
    assert case.response_met is None and case.resolution_met is None
    assert case.sla_paused_since is None
    assert case.sla_target == "response" and case.sla_next_due_at == response


def test_opening_on_a_weekend_counts_from_the_next_opening(berlin, org_a, dc_a):
    # DOMAIN B-2, B-3: Saturday counts from Monday 09:00.
    case = reload(open_case(dc_a, org_a, now=local(2026, 3, 7, 11), priority="high"))

    assert case.response_due_at == local(2026, 3, 9, 11)
    assert case.resolution_due_at == local(2026, 3, 11, 9)


def test_critical_counts_calendar_time(berlin, org_a, dc_a, analyst):
    # DOMAIN S-2, S-3: CRITICAL is 1 hour and 24 hours of calendar time, nights included.
    case = open_case(dc_a, org_a, now=local(2026, 3, 6, 16), priority="high")

    case = care(
        "case_change_priority", case, analyst, local(2026, 3, 6, 16, 10), priority="critical"
    )

    assert case.response_due_at == local(2026, 3, 6, 17)
    assert case.resolution_due_at == local(2026, 3, 7, 16)


def test_without_a_calendar_the_defaults_apply_in_utc(org_a, dc_a):
    # DOMAIN B-1: no calendar configured: Monday–Friday 09:00–17:00 UTC.
    utc = ZoneInfo("UTC")
    case = reload(open_case(dc_a, org_a, now=datetime(2026, 3, 2, 16, tzinfo=utc)))

    assert case.response_due_at == datetime(2026, 3, 3, 12, tzinfo=utc)


# --- support levels (S-5) -------------------------------------------------------------------


def test_care_level_has_no_response_target_shown_or_measured(berlin, org_a, dc_a, analyst):
    # DOMAIN S-5
    set_level(org_a, SupportLevel.CARE)
    case = reload(open_case(dc_a, org_a, now=MONDAY_10, priority="high"))

    assert case.response_due_at is None
    assert case.resolution_due_at == local(2026, 3, 4, 10)
    case = care("case_take", case, analyst, local(2026, 3, 3, 10))
    assert case.response_met is None
    assert [row.key for row in sla_rows(case)] == ["resolution"]


@pytest.mark.parametrize("level", [SupportLevel.BUSINESS_CARE_PLUS, SupportLevel.PREMIUM])
@pytest.mark.parametrize(
    ("priority", "response"),
    [
        ("high", local(2026, 3, 2, 11)),
        ("medium", local(2026, 3, 2, 12)),
        ("low", local(2026, 3, 3, 10)),  # LOW keeps its business day
    ],
)
def test_plus_and_premium_answer_in_half_the_time(berlin, org_a, dc_a, level, priority, response):
    # DOMAIN S-5: 50% shorter response targets for CRITICAL, HIGH and MEDIUM.
    set_level(org_a, level)

    case = reload(open_case(dc_a, org_a, now=MONDAY_10, priority=priority))

    assert case.response_due_at == response
    plain = targets_for(case_type="support", priority=priority, support_level="BUSINESS_CARE")
    assert case.resolution_due_at == plain.resolution.due(business_calendar_for(org_a), MONDAY_10)


def test_premium_critical_response_is_30_minutes(berlin, org_a, dc_a, analyst):
    # DOMAIN S-5
    set_level(org_a, SupportLevel.PREMIUM)
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    case = care(
        "case_change_priority", case, analyst, local(2026, 3, 2, 10, 5), priority="critical"
    )

    assert case.response_due_at == local(2026, 3, 2, 10, 30)


# --- first response (S-2) ---------------------------------------------------------------------


def test_taking_the_case_in_time_meets_the_response_target(berlin, org_a, dc_a, analyst):
    # DOMAIN S-2: the take transition is a first response.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    case = care("case_take", case, analyst, local(2026, 3, 2, 11, 59))

    assert case.response_met is True
    assert case.sla_target == "resolution"
    assert case.sla_next_due_at == local(2026, 3, 4, 10)


def test_first_public_update_after_the_due_time_misses_it(berlin, org_a, dc_a, analyst):
    # DOMAIN S-2: an internal note is not a response; the first public care update is.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    case = care(
        "case_post_update", case, analyst, local(2026, 3, 2, 11), body="Looking", internal=True
    )
    assert case.response_met is None
    case = care("case_post_update", case, analyst, local(2026, 3, 2, 12, 1), body="On it")

    assert case.response_met is False
    assert case.first_response_at == local(2026, 3, 2, 12, 1)


def test_closed_before_any_response_is_missed_only_when_overdue(berlin, org_a, dc_a):
    # DOMAIN S-2: closed in time without a response: nothing to measure.
    early = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    late = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    early = customer("case_close", early, dc_a, local(2026, 3, 2, 10, 30))
    late = customer("case_close", late, dc_a, local(2026, 3, 2, 13))

    assert early.response_met is None
    assert late.response_met is False
    assert early.sla_check_at is None and late.sla_check_at is None


# --- pause and resume (S-3) -------------------------------------------------------------------


def test_pause_and_resume_in_business_time(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3, B-3: MEDIUM (5 business days = 40 business hours) opened Monday 10:00.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")

    # Tuesday 10:00 care asks for information: 8 business hours used (Mon 7 h, Tue 1 h).
    case = care("case_request_info", case, analyst, local(2026, 3, 3, 10), body="Logs please")
    assert case.sla_paused_since == local(2026, 3, 3, 10)
    assert case.resolution_due_at is None
    assert case.resolution_consumed_seconds == 8 * HOUR
    assert case.sla_check_at is None

    # Thursday 14:00 the customer answers: 32 business hours remain from now.
    case = customer("case_post_update", case, dc_a, local(2026, 3, 5, 14), body="Attached")
    assert case.sla_paused_since is None
    # Thu 3 h, Fri 8 h, Mon 8 h, Tue 8 h, Wed 5 h.
    assert case.resolution_due_at == local(2026, 3, 11, 14)
    # Under 25% (10 business hours) left from Tuesday 12:00.
    assert case.sla_check_at == local(2026, 3, 10, 12)


def test_pause_and_resume_in_calendar_time(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3: CRITICAL counts calendar hours, before and after the pause.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care(
        "case_change_priority", case, analyst, local(2026, 3, 2, 10, 5), priority="critical"
    )
    assert case.resolution_due_at == local(2026, 3, 3, 10)

    case = care("case_request_info", case, analyst, local(2026, 3, 2, 16), body="Which trunk?")
    assert case.resolution_consumed_seconds == 6 * HOUR
    case = customer("case_post_update", case, dc_a, local(2026, 3, 3, 9), body="Trunk 7")

    # 18 hours remain, counted through the night.
    assert case.resolution_due_at == local(2026, 3, 4, 3)


def test_solution_proposed_ends_the_clock_and_a_rejection_resumes_it(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3: resolution ends at Solution Proposed; the clock does not run there.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")

    case = care("case_propose_solution", case, analyst, local(2026, 3, 3, 10), body="Try this")
    assert case.resolution_met is True
    assert case.sla_paused_since == local(2026, 3, 3, 10)
    assert case.resolution_due_at is None

    # Wednesday 10:00 the customer says it does not work: 32 business hours remain.
    case = customer("case_post_update", case, dc_a, local(2026, 3, 4, 10), body="Still broken")
    assert case.resolution_met is None
    assert case.resolution_due_at == local(2026, 3, 10, 10)

    case = customer("case_close", case, dc_a, local(2026, 3, 5, 10))
    assert case.resolution_met is True
    assert case.resolution_due_at is None and case.sla_check_at is None


def test_solution_proposed_after_the_due_time_misses_resolution(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    case = care("case_propose_solution", case, analyst, local(2026, 3, 4, 10, 1), body="Fixed")

    assert case.resolution_met is False


def test_awaiting_info_past_the_due_time_is_already_missed(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3: the clock ran out before it stopped; a later resume cannot undo that.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care("case_request_info", case, analyst, local(2026, 3, 4, 11), body="Logs?")
    assert case.resolution_met is False

    case = customer("case_post_update", case, dc_a, local(2026, 3, 5, 10), body="Logs")
    assert case.resolution_due_at == local(2026, 3, 5, 10)  # nothing left: due at once
    case = care("case_propose_solution", case, analyst, local(2026, 3, 5, 11), body="Fixed")
    assert case.resolution_met is False


def test_reopen_resumes_the_resolution_clock(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3, C-12: closed ends the clock; a reopen runs it again with what remained.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    case = care("case_resolve", case, analyst, local(2026, 3, 2, 12))
    assert case.resolution_met is True
    assert case.resolution_consumed_seconds == 2 * HOUR

    case = customer("case_reopen", case, dc_a, local(2026, 3, 4, 9), reason="It is back")

    assert case.resolution_met is None
    # 38 business hours from Wednesday 09:00: Wed, Thu, Fri, Mon 8 h each, Tue 6 h.
    assert case.resolution_due_at == local(2026, 3, 10, 15)


# --- recomputation (S-8) ----------------------------------------------------------------------


def test_priority_change_recomputes_running_targets(berlin, org_a, dc_a, analyst):
    # DOMAIN S-8, C-5
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")

    case = care("case_change_priority", case, analyst, local(2026, 3, 2, 11), priority="high")

    assert case.response_due_at == local(2026, 3, 2, 12)
    assert case.resolution_due_at == local(2026, 3, 4, 10)


def test_priority_change_counts_the_time_used_under_the_new_rule(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3, S-8: a change between business and calendar time measures the time used
    # again, pauses left out.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    case = care("case_take", case, analyst, local(2026, 3, 2, 10, 30))
    case = care("case_request_info", case, analyst, local(2026, 3, 2, 12), body="Logs?")
    case = customer("case_post_update", case, dc_a, local(2026, 3, 3, 12), body="Logs")

    # 2 h Monday + 1 h Tuesday of calendar time used: 21 hours left.
    case = care("case_change_priority", case, analyst, local(2026, 3, 3, 13), priority="critical")
    assert case.resolution_consumed_seconds == 3 * HOUR
    assert case.resolution_due_at == local(2026, 3, 4, 10)

    # Back to HIGH (16 business hours): 2 h Monday + 2 h Tuesday used.
    case = care("case_change_priority", case, analyst, local(2026, 3, 3, 14), priority="high")
    assert case.resolution_consumed_seconds == 4 * HOUR
    assert case.resolution_due_at == local(2026, 3, 5, 10)
    # The response was given: its target is not moved.
    assert case.response_due_at == local(2026, 3, 2, 14) and case.response_met is True


def test_priority_change_while_paused_keeps_the_clock_stopped(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3, S-8
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    case = care("case_request_info", case, analyst, local(2026, 3, 2, 12), body="Logs?")

    case = care("case_change_priority", case, analyst, local(2026, 3, 2, 15), priority="low")

    assert case.resolution_due_at is None
    assert case.sla_paused_since == local(2026, 3, 2, 12)
    assert case.resolution_consumed_seconds == 2 * HOUR
    case = customer("case_post_update", case, dc_a, local(2026, 3, 3, 9), body="Logs")
    # LOW: 80 business hours, 78 left from Tuesday 09:00.
    assert case.resolution_due_at == local(2026, 3, 16, 15)


def test_convert_to_incident_sets_restoration_and_rca_targets(berlin, org_a, dc_a, analyst):
    # DOMAIN S-4: restoration 15 minutes (calendar); RCA 5 business days after restoration.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care("case_take", case, analyst, local(2026, 3, 2, 10, 20))

    case = care("case_convert_to_incident", case, analyst, local(2026, 3, 2, 10, 30))
    assert case.restoration_due_at == local(2026, 3, 2, 10, 45)
    assert case.sla_target == "restoration"
    assert case.rca_due_at is None

    case = care("case_restore_service", case, analyst, local(2026, 3, 2, 10, 40), pending="rca")
    assert case.rca_due_at == local(2026, 3, 9, 10, 40)
    assert case.sla_target == "resolution"  # due Wednesday, before the RCA
    rows = {row.key: row for row in sla_rows(case)}
    assert rows["restoration"].met is True

    case = care("case_deliver_rca", case, analyst, local(2026, 3, 3, 10), body="Root cause")
    rows = {row.key: row for row in sla_rows(case)}
    assert rows["rca"].met is True
    assert case.resolution_met is True


def test_late_restoration_is_shown_as_missed(berlin, org_a, dc_a, analyst):
    # DOMAIN S-4
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care("case_take", case, analyst, local(2026, 3, 2, 10, 20))
    case = care("case_convert_to_incident", case, analyst, local(2026, 3, 2, 10, 30))

    case = care("case_restore_service", case, analyst, local(2026, 3, 2, 11))

    rows = {row.key: row for row in sla_rows(case)}
    assert rows["restoration"].met is False
    assert case.rca_due_at is None  # pending a permanent solution, not an RCA


def test_service_request_targets(berlin, org_a, dc_a):
    # DOMAIN S-7: acknowledged within 1 business day, accepted or rejected within 2.
    case = reload(
        open_case(
            dc_a,
            org_a,
            now=MONDAY_10,
            type="service_request",
            sub_type="password_reset",
            implementation_stage="",
        )
    )

    assert case.response_due_at == local(2026, 3, 3, 10)
    assert case.resolution_due_at == local(2026, 3, 4, 10)
    assert [row.label for row in sla_rows(case)] == ["Acknowledgement", "Accepted or rejected"]


def test_premium_service_request_keeps_its_business_day(berlin, org_a, dc_a):
    # DOMAIN S-5, S-7: the 50% applies to the response targets of S-2.
    set_level(org_a, SupportLevel.PREMIUM)
    case = reload(
        open_case(
            dc_a,
            org_a,
            now=MONDAY_10,
            type="service_request",
            sub_type="change_request",
            implementation_stage="",
        )
    )

    assert case.response_due_at == local(2026, 3, 3, 10)


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "admin", "sub_type": "question", "service_slug": None},
        {"type": "data_privacy", "sub_type": ""},
    ],
)
def test_admin_and_data_privacy_cases_have_no_targets(berlin, org_a, dc_a, fields):
    # DOMAIN S-1
    case = reload(open_case(dc_a, org_a, now=MONDAY_10, implementation_stage="", **fields))

    assert case.response_due_at is None and case.resolution_due_at is None
    assert case.sla_check_at is None and case.sla_next_due_at is None
    assert sla_rows(case) == []


def test_support_level_change_recomputes_open_cases(berlin, org_a, dc_a, analyst):
    # DOMAIN S-5, S-8
    open_one = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    closed = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    closed = customer("case_close", closed, dc_a, local(2026, 3, 2, 10, 10))
    closed_before = {f: getattr(closed, f) for f in ("response_due_at", "sla_state")}

    set_level(org_a, SupportLevel.PREMIUM)
    assert sla_recompute_for_organization(organization=org_a, now=local(2026, 3, 2, 10, 30)) == 1
    assert reload(open_one).response_due_at == local(2026, 3, 2, 12)

    set_level(org_a, SupportLevel.CARE)
    sla_recompute_for_organization(organization=org_a, now=local(2026, 3, 2, 10, 40))
    assert reload(open_one).response_due_at is None
    assert reload(open_one).resolution_due_at == local(2026, 3, 9, 10)
    assert {f: getattr(reload(closed), f) for f in closed_before} == closed_before


def test_calendar_change_moves_due_times(berlin, org_a, dc_a):
    # DOMAIN B-1, S-8: care closes Tuesday: every running business-time target moves.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="medium")
    with scopes_disabled():
        CalendarClosure.objects.create(
            organization=org_a, calendar=berlin, day=date(2026, 3, 3), reason="Office move"
        )

    sla_recompute_for_organization(organization=org_a, now=local(2026, 3, 2, 11))

    case = reload(case)
    assert case.resolution_due_at == local(2026, 3, 10, 10)
    assert case.response_due_at == local(2026, 3, 2, 14)


# --- the sweep (S-6) --------------------------------------------------------------------------


def test_at_risk_and_breach_are_notified_to_the_owner_exactly_once(berlin, org_a, dc_a, analyst):
    # DOMAIN S-6, N-5: HIGH response due at 12:00, under 25% left from 11:30.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care("case_assign", case, analyst, local(2026, 3, 2, 10, 5), owner=analyst)

    assert sla_sweep(now=local(2026, 3, 2, 11, 29)) == 0
    assert sla_sweep(now=local(2026, 3, 2, 11, 31)) == 1
    assert sla_sweep(now=local(2026, 3, 2, 11, 40)) == 0
    case = reload(case)
    assert case.sla_state == SlaState.AT_RISK
    assert case.at_risk_notified_at == local(2026, 3, 2, 11, 31)

    assert sla_sweep(now=local(2026, 3, 2, 12, 1)) == 1
    assert sla_sweep(now=local(2026, 3, 2, 12, 30)) == 0
    case = reload(case)
    assert case.sla_state == SlaState.BREACHED
    assert case.sla_check_at is None

    emails = sla_emails()
    assert [e.to for e in emails] == [[analyst.email], [analyst.email]]
    assert "at risk" in emails[0].subject and "breached" in emails[1].subject
    assert case.display_number in emails[0].subject
    events = sla_events(case)
    assert [e.after["sla_state"] for e in events] == ["at_risk", "breached"]
    assert all(e.internal and e.actor_id is None for e in events)
    assert events[0].after["target"] == "response"


def test_unowned_case_alerts_every_care_manager(berlin, org_a, dc_a, analyst, manager):
    # DOMAIN S-6: no owner: the managers (product groups have none of their own yet).
    other = UserFactory(email="manager2@care.example", is_staff=True)
    other.groups.add(Group.objects.get(name=roles.CARE_MANAGER))
    open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    sla_sweep(now=local(2026, 3, 2, 11, 45))

    (email,) = sla_emails()
    assert email.to == sorted([manager.email, other.email])
    assert "no owner" in email.body_text


def test_after_an_outage_a_breach_is_notified_once_without_the_at_risk(
    berlin, org_a, dc_a, manager
):
    # DOMAIN S-6: the sweep was down past both thresholds: one notification, the breach.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    assert sla_sweep(now=local(2026, 3, 2, 15)) == 1
    assert sla_sweep(now=local(2026, 3, 2, 15, 5)) == 0

    assert [e.after["sla_state"] for e in sla_events(case)] == ["breached"]
    assert len(sla_emails()) == 1


def test_the_response_then_the_resolution_are_watched_in_turn(berlin, org_a, dc_a, analyst):
    # DOMAIN S-2, S-3, S-6: a breached response answered late; then the resolution.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    sla_sweep(now=local(2026, 3, 2, 12, 5))
    assert reload(case).sla_state == SlaState.BREACHED

    case = care("case_take", case, analyst, local(2026, 3, 2, 13))
    assert case.sla_state == SlaState.OK and case.sla_target == "resolution"
    # HIGH resolution: 16 business hours to Wednesday 10:00; at risk from Tuesday 14:00.
    assert case.sla_check_at == local(2026, 3, 3, 14)

    assert sla_sweep(now=local(2026, 3, 3, 14, 1)) == 1
    assert [e.after["target"] for e in sla_events(case)] == ["response", "resolution"]


def test_a_recompute_that_keeps_the_state_does_not_notify_again(berlin, org_a, dc_a, analyst):
    # DOMAIN S-6: at risk on resolution, paused and resumed while still at risk: no repeat.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    case = care("case_take", case, analyst, local(2026, 3, 2, 10, 30))
    assert sla_sweep(now=local(2026, 3, 3, 15)) == 1

    case = care("case_request_info", case, analyst, local(2026, 3, 3, 15, 30), body="Logs?")
    case = customer("case_post_update", case, dc_a, local(2026, 3, 3, 16), body="Logs")
    assert case.sla_state == SlaState.AT_RISK
    assert sla_sweep(now=local(2026, 3, 3, 16, 30)) == 0

    assert len(sla_emails()) == 1


def test_paused_and_closed_cases_are_not_swept(berlin, org_a, dc_a, analyst):
    # DOMAIN S-3
    paused = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    paused = care("case_request_info", paused, analyst, local(2026, 3, 2, 10, 10), body="Logs?")
    closed = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    closed = customer("case_close", closed, dc_a, local(2026, 3, 2, 10, 10))

    assert sla_sweep(now=local(2026, 3, 20, 10)) == 0
    assert sla_emails() == []


def test_the_sweep_handles_more_cases_than_one_batch(berlin, org_a, dc_a, manager):
    cases = [open_case(dc_a, org_a, now=MONDAY_10, priority="high") for _ in range(5)]

    assert sla_sweep(now=local(2026, 3, 2, 13), batch_size=2) == 5

    assert {reload(c).sla_state for c in cases} == {SlaState.BREACHED}
    assert len(sla_emails()) == 5


def test_the_notification_never_reaches_the_customer(berlin, org_a, dc_a, manager):
    # DOMAIN C-9, N-1: care's alerts stay internal.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    sla_sweep(now=local(2026, 3, 2, 13))

    assert dc_a.email not in {a for e in sla_emails() for a in e.to}
    with acting_as(dc_a):
        from cases.selectors import case_history

        assert not case_history(user=dc_a, case=case).filter(kind=CaseEvent.Kind.SLA).exists()


# --- PostgreSQL: locks and the index ----------------------------------------------------------


@postgres_only
def test_two_sweeps_at_once_notify_once(berlin, org_a, dc_a, manager):
    # DOMAIN S-6: skip_locked: each case is handled by one sweep.
    for _ in range(30):
        open_case(dc_a, org_a, now=MONDAY_10, priority="high")

    results = race(*[lambda: sla_sweep(now=local(2026, 3, 2, 13), batch_size=5)] * 2)

    assert sum(results) == 30
    assert len(sla_emails()) == 30
    with scopes_disabled():
        assert CaseEvent.unscoped.filter(kind=CaseEvent.Kind.SLA).count() == 30


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN output is PostgreSQL's")
def test_the_sweep_reads_due_rows_through_the_partial_index(berlin, org_a, dc_a):
    from django.db.models import Q

    open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    with scopes_disabled():
        plan = (
            Case.unscoped.filter(sla_check_at__lte=local(2026, 3, 2, 13))
            .filter(~Q(status="closed"))
            .order_by("sla_check_at", "pk")
            .explain()
        )

    assert "case_sla_check_due" in plan


def test_sla_fields_are_never_computed_at_display_time(berlin, org_a, dc_a):
    # DOMAIN S-8: what the page and the API show is what is stored.
    case = open_case(dc_a, org_a, now=MONDAY_10, priority="high")
    with scopes_disabled():
        Case.unscoped.filter(pk=case.pk).update(response_due_at=local(2030, 1, 1, 9))

    (response, *_rest) = sla_rows(reload(case))

    assert response.due_at == local(2030, 1, 1, 9)
    assert response.due_at - local(2030, 1, 1, 9) == timedelta(0)


def test_recompute_measures_cases_written_without_due_times(berlin, org_a, dc_a):
    # DOMAIN S-8: seeded rows (no service ran) get their targets and decisions from what
    # they record.
    with scopes_disabled():
        answered = CaseFactory(
            organization=org_a,
            contact=dc_a,
            priority="high",
            opened_at=MONDAY_10,
            first_response_at=local(2026, 3, 2, 11),
            sub_status="solution_proposed",
        )
        unanswered = CaseFactory(
            organization=org_a, contact=dc_a, priority="high", opened_at=MONDAY_10
        )

    sla_recompute_for_organization(organization=org_a, now=local(2026, 3, 2, 15))

    answered, unanswered = reload(answered), reload(unanswered)
    assert (answered.response_due_at, answered.response_met) == (local(2026, 3, 2, 12), True)
    assert answered.resolution_met is True and answered.resolution_due_at is None
    assert unanswered.response_due_at == local(2026, 3, 2, 12)
    assert unanswered.response_met is None
    assert unanswered.sla_check_at == local(2026, 3, 2, 15)  # overdue: the sweep's next
