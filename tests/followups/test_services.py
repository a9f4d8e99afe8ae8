"""Follow-up timers: start (F-1), stop and restart (F-5), each step once (F-6), history
(F-7), the re-check under the case lock and the system close (F-4)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import transaction

from cases import selectors, services
from cases.models import Case, CaseEvent, Channel, ClosureReason
from core.errors import Conflict
from core.outbox.models import OutboxEmail
from core.tenancy import ScopeError, scopes_disabled, tenant_scope
from followups import emails
from followups.models import FollowUpStep, FollowUpTimer
from followups.sweep import (
    Outcome,
    SweepRun,
    due_timer_for_update,
    followup_step,
    followup_sweep,
)
from tests.cases import NOW, acting_as, make_case, reload
from tests.followups.helpers import (
    CLOSE,
    R1,
    R2,
    active_timer,
    ask,
    followup_emails,
    followup_events,
    respond,
    steps,
    timers,
)


@pytest.fixture
def waiting(org_a, dc_a, analyst):
    """A case care asked for information at NOW."""
    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW)
    return case


# --- F-1: start ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("propose", "reason"), [(False, "info_required"), (True, "solution_proposed")]
)
def test_asking_the_customer_starts_a_timer(org_a, dc_a, analyst, propose, reason):
    # DOMAIN F-1, F-2, F-3, F-4
    case = make_case(org_a, dc_a, "investigation")

    ask(case, analyst, now=NOW, propose=propose)

    [timer] = timers(case)
    assert (timer.reason, timer.started_at, timer.steps_done) == (reason, NOW, 0)
    assert (timer.reminder1_due_at, timer.reminder2_due_at, timer.close_due_at) == (R1, R2, CLOSE)
    assert timer.next_due_at == R1 and timer.stopped_at is None
    assert timer.organization_id == org_a.pk


def test_delivered_rca_proposes_a_solution_and_starts_a_timer(org_a, dc_a, analyst):
    # DOMAIN F-1: an RCA moves the incident to Solution Proposed
    case = make_case(org_a, dc_a, "pending_rca", type="incident")
    with acting_as(analyst):
        services.case_deliver_rca(
            case=case, actor=analyst, body="Root cause: a full disk.", channel="admin", now=NOW
        )

    assert active_timer(case).reason == "solution_proposed"


def test_other_changes_start_no_timer(org_a, dc_a, analyst):
    # DOMAIN F-1: only a request to the customer starts one
    case = make_case(org_a, dc_a, "new")
    with acting_as(analyst):
        services.case_take(case=case, actor=analyst, channel="admin", now=NOW)
        services.case_post_update(
            case=case, actor=analyst, body="Looking.", channel="admin", now=NOW
        )
        services.case_change_priority(
            case=case, actor=analyst, priority="high", channel="admin", now=NOW
        )
        services.case_restore_service(case=case, actor=analyst, channel="admin", now=NOW)

    assert timers(case) == []


# --- F-5: stop and restart ----------------------------------------------------------------


@pytest.mark.parametrize("channel", [Channel.PORTAL, Channel.API, Channel.EMAIL])
def test_a_customer_response_by_any_channel_stops_the_timer(waiting, dc_a, channel):
    # DOMAIN F-5, N-3
    respond(waiting, dc_a, now=NOW + timedelta(hours=1), channel=channel)

    [timer] = timers(waiting)
    assert timer.stopped_at == NOW + timedelta(hours=1)
    assert (timer.stop_reason, timer.next_due_at) == ("customer_responded", None)


def test_a_stopped_timer_never_reminds(waiting, dc_a):
    # DOMAIN F-5
    respond(waiting, dc_a, now=NOW + timedelta(hours=1))

    assert followup_sweep(now=CLOSE + timedelta(days=30)) == 0

    assert steps(waiting) == [] and followup_emails(waiting) == []
    assert reload(waiting).sub_status == "customer_responded"


@pytest.mark.parametrize(
    ("action", "who"),
    [
        ("confirm", "dc_a"),
        ("close", "dc_a"),
        ("cancel", "dc_a"),
        ("resolve", "analyst"),
        ("cancel", "analyst"),
        ("redirect", "analyst"),
    ],
)
def test_any_transition_out_of_the_awaiting_state_stops_the_timer(
    request, org_a, dc_a, analyst, action, who
):
    # DOMAIN F-5
    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW, propose=True)
    actor = request.getfixturevalue(who)
    call = {
        "confirm": services.case_confirm_solution,
        "close": services.case_close,
        "cancel": services.case_cancel,
        "resolve": services.case_resolve,
        "redirect": services.case_redirect,
    }[action]
    later = NOW + timedelta(hours=2)

    with acting_as(actor):
        call(case=case, actor=actor, channel="admin" if actor.is_staff else "portal", now=later)

    [timer] = timers(case)
    assert (timer.stopped_at, timer.stop_reason) == (later, "case_moved_on")
    assert followup_sweep(now=CLOSE) == 0


def test_each_new_request_starts_a_fresh_timer(org_a, dc_a, analyst):
    # DOMAIN F-5: a timer can start and stop many times per case
    case = make_case(org_a, dc_a, "investigation")
    for day in range(3):
        asked = NOW + timedelta(days=day, hours=1)
        ask(case, analyst, now=asked)
        respond(case, dc_a, now=asked + timedelta(hours=1))
    ask(case, analyst, now=NOW + timedelta(days=3))

    all_timers = timers(case)
    assert len(all_timers) == 4
    assert [t.stop_reason for t in all_timers] == ["customer_responded"] * 3 + [""]
    latest = active_timer(case)
    assert latest == all_timers[-1]
    assert latest.started_at == NOW + timedelta(days=3)
    assert latest.reminder1_due_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # Thu + 2


def test_reopening_an_auto_closed_case_starts_nothing_until_care_asks_again(waiting, dc_a, analyst):
    # DOMAIN F-5, C-12
    followup_sweep(now=CLOSE)
    with acting_as(dc_a):
        services.case_reopen(
            case=waiting, actor=dc_a, reason="Still broken.", channel="portal", now=CLOSE
        )
    assert reload(waiting).sub_status == "customer_responded"
    assert active_timer(waiting) is None

    ask(waiting, analyst, now=CLOSE + timedelta(hours=1))

    first, second = timers(waiting)
    assert (first.steps_done, first.stop_reason) == (3, "auto_closed")
    assert (second.steps_done, second.started_at) == (0, CLOSE + timedelta(hours=1))


# --- F-2 … F-4, F-6: the steps --------------------------------------------------------------


def test_each_step_at_its_due_time(waiting):
    # DOMAIN F-2, F-3, F-4
    assert followup_sweep(now=R1 - timedelta(seconds=1)) == 0
    assert followup_sweep(now=R1) == 1
    assert active_timer(waiting).next_due_at == R2
    assert followup_sweep(now=R2) == 1
    assert active_timer(waiting).next_due_at == CLOSE
    assert followup_sweep(now=CLOSE) == 1

    assert [s for _, s in steps(waiting)] == [1, 2, 3]
    [timer] = timers(waiting)
    assert (timer.steps_done, timer.next_due_at, timer.stop_reason) == (3, None, "auto_closed")


def test_a_step_happens_once_however_often_the_sweep_runs(waiting):
    # DOMAIN F-6
    results = [followup_sweep(now=R1 + timedelta(minutes=m)) for m in range(0, 10, 2)]

    assert results == [1, 0, 0, 0, 0]
    assert steps(waiting) == [(timers(waiting)[0].pk, 1)]
    assert len(followup_emails(waiting)) == 1
    assert len(followup_events(waiting)) == 1


def test_the_database_refuses_a_second_record_of_a_step(waiting):
    # DOMAIN F-6: the unique key is the last line of defence
    from django.db import IntegrityError, transaction

    followup_sweep(now=R1)
    timer = timers(waiting)[0]

    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        FollowUpStep.unscoped.create(
            organization_id=timer.organization_id, timer=timer, step=1, due_at=R1, done_at=R1
        )


def test_one_running_timer_per_case_in_the_database(waiting):
    # DOMAIN F-5
    from django.db import IntegrityError, transaction

    timer = timers(waiting)[0]
    with scopes_disabled(), pytest.raises(IntegrityError), transaction.atomic():
        FollowUpTimer.unscoped.create(
            organization_id=timer.organization_id,
            case_id=timer.case_id,
            reason=timer.reason,
            started_at=NOW,
            reminder1_due_at=R1,
            reminder2_due_at=R2,
            close_due_at=CLOSE,
            next_due_at=R1,
            created_at=NOW,
        )


def test_after_an_outage_only_the_highest_due_step_happens(waiting):
    # DOMAIN F-6 as the issue settles it: one reminder, not a burst
    assert followup_sweep(now=R2 + timedelta(days=1)) == 1

    assert [s for _, s in steps(waiting)] == [2]
    assert len(followup_emails(waiting)) == 1
    [event] = followup_events(waiting)
    assert (event.after["step"], event.after["skipped"]) == (2, [1])
    assert active_timer(waiting).next_due_at == CLOSE  # the close keeps its date


# --- F-7: history -------------------------------------------------------------------------


def test_every_step_is_in_the_case_history(waiting, dc_a):
    # DOMAIN F-7, C-16
    for moment in (R1, R2, CLOSE):
        followup_sweep(now=moment)

    events = followup_events(waiting)
    assert [(e.after["step"], e.created_at) for e in events] == [(1, R1), (2, R2), (3, CLOSE)]
    assert all(e.actor_id is None and e.channel == "system" for e in events)
    assert not any(e.internal for e in events)
    with acting_as(dc_a):
        shown = list(selectors.case_history(user=dc_a, case=waiting))
    assert {e.pk for e in events} <= {e.pk for e in shown}
    closing = [e for e in shown if e.kind == "transition" and e.after["sub_status"] == "resolved"]
    assert [(e.actor_id, e.channel, e.created_at) for e in closing] == [(None, "system", CLOSE)]


# --- F-4: the close -------------------------------------------------------------------------


def test_the_close_resolves_for_no_response_with_one_email(waiting):
    # DOMAIN F-4, N-1: the final email is the only email of the close
    followup_sweep(now=R1)
    followup_sweep(now=R2)
    with scopes_disabled():
        before = OutboxEmail.unscoped.filter(case_id=waiting.pk).count()

    followup_sweep(now=CLOSE)

    case = reload(waiting)
    assert (case.sub_status, case.status) == ("resolved", "closed")
    assert (case.closure_reason, case.closed_at) == (ClosureReason.NO_CUSTOMER_RESPONSE, CLOSE)
    with scopes_disabled():
        new = list(OutboxEmail.unscoped.filter(case_id=waiting.pk).order_by("id")[before:])
    assert [e.idempotency_key for e in new] == [f"followup-{case.pk}-{timers(case)[0].pk}-3"]


def test_the_system_close_refuses_a_case_not_waiting(org_a, dc_a):
    # DOMAIN F-4
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled(), pytest.raises(Conflict):
        services.case_auto_close(case=case, now=NOW)

    assert reload(case).sub_status == "investigation"


# --- the re-check under the lock, faults, tenants ------------------------------------------


@pytest.mark.parametrize(("moved_on", "outcome"), [(False, "performed"), (True, "stopped")])
def test_one_step_says_what_became_of_its_timer(waiting, moved_on, outcome):
    # DOMAIN F-5, F-6: a step is performed, or the timer is over because the case moved on
    with scopes_disabled():
        if moved_on:
            Case.unscoped.filter(pk=waiting.pk).update(sub_status="investigation", status="open")
        with transaction.atomic():
            timer = due_timer_for_update(pk=active_timer(waiting).pk, now=R1).get()

            result = followup_step(timer=timer, run=SweepRun(now=R1))

    assert result is Outcome(outcome)
    assert len(steps(waiting)) == (0 if moved_on else 1)


def test_a_case_that_moved_on_without_the_hook_gets_nothing(waiting):
    # DOMAIN F-5: the sweep re-checks the case itself, not only the timer
    with scopes_disabled():
        Case.unscoped.filter(pk=waiting.pk).update(sub_status="investigation", status="open")

    assert followup_sweep(now=R1) == 0

    assert steps(waiting) == [] and followup_emails(waiting) == []
    [timer] = timers(waiting)
    assert (timer.stop_reason, timer.next_due_at) == ("case_moved_on", None)


def test_one_failing_case_does_not_stop_the_others(org_a, dc_a, analyst, caplog):
    # DOMAIN F-6: the failed step leaves nothing behind, stays due and is reported
    first, second = (make_case(org_a, dc_a, "investigation") for _ in range(2))
    ask(first, analyst, now=NOW)
    ask(second, analyst, now=NOW)
    real = emails.followup_reminder

    def fail_for_first(*, case, **kwargs):
        if case.pk == first.pk:
            raise RuntimeError("template missing")
        return real(case=case, **kwargs)

    with (
        mock.patch.object(emails, "followup_reminder", side_effect=fail_for_first),
        caplog.at_level(logging.ERROR, logger="followups.sweep"),
    ):
        assert followup_sweep(now=R1) == 1

    failures = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert failures == [
        f"Follow-up timer {active_timer(first).pk} failed; it stays due.",
        f"1 follow-up timer(s) failed as of {R1.isoformat()} and stay due; the errors are "
        "logged above.",
    ]
    assert steps(first) == [] and followup_events(first) == [] and followup_emails(first) == []
    assert len(steps(second)) == 1
    assert active_timer(first).next_due_at == R1
    assert followup_sweep(now=R1 + timedelta(minutes=2)) == 1
    assert len(followup_emails(first)) == 1


def test_an_inactive_contact_gets_no_email_but_the_step_is_recorded(waiting, dc_a):
    # DOMAIN F-6, F-7
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])

    assert followup_sweep(now=R1) == 1

    assert len(steps(waiting)) == 1 and followup_emails(waiting) == []


def test_the_sweep_covers_every_organization(waiting, org_b, dc_b, analyst):
    # DOMAIN T-1: a cross-tenant sweep, each row keeping its own organization
    other = make_case(org_b, dc_b, "investigation")
    ask(other, analyst, now=NOW)

    assert followup_sweep(now=R1) == 2

    with scopes_disabled():
        orgs = dict(FollowUpStep.unscoped.values_list("timer__case_id", "organization_id"))
    assert orgs == {waiting.pk: waiting.organization_id, other.pk: other.organization_id}


def test_timers_are_tenant_scoped(waiting, org_b):
    # DOMAIN T-1, T-6: fails closed outside a scope, hidden from another tenant
    with pytest.raises(ScopeError):
        list(FollowUpTimer.objects.all())
    with tenant_scope([org_b.pk]):
        assert not FollowUpTimer.objects.exists()
        assert not FollowUpStep.objects.exists()
    with tenant_scope([waiting.organization_id]):
        assert FollowUpTimer.objects.count() == 1


def test_small_batches_still_cover_every_due_timer(org_a, dc_a, analyst):
    # DOMAIN F-6: rounds of two, five timers
    cases = [make_case(org_a, dc_a, "investigation") for _ in range(5)]
    for case in cases:
        ask(case, analyst, now=NOW)

    assert followup_sweep(now=R1, batch=2) == 5

    assert all(len(steps(case)) == 1 for case in cases)
    with scopes_disabled():
        assert CaseEvent.unscoped.filter(kind="follow_up").count() == 5
