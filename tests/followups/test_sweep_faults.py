"""Faults: the scheduler down for weeks, the broker down (F-6, N-5)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from cases.models import CaseEvent
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from tests.cases import NOW, make_case, reload
from tests.followups.helpers import active_timer, ask, followup_emails, followup_events, steps


def run_sweeps(now, only=None) -> str:
    out = StringIO()
    options = {"only": only} if only else {}
    call_command("run_sweeps", now=now.isoformat(), stdout=out, **options)
    return out.getvalue()


def test_three_weeks_down_then_one_run_closes_each_case_once(
    org_a, dc_a, globex, globex_dc, analyst
):
    # DOMAIN F-4, F-6: one close and one final email per case, no burst of reminders
    cases = [make_case(org_a, dc_a, "investigation") for _ in range(3)]
    cases += [make_case(globex, globex_dc, "investigation") for _ in range(2)]
    for case in cases:
        ask(case, analyst, now=NOW)
    with scopes_disabled():
        emails_before = OutboxEmail.unscoped.count()

    run_sweeps(NOW + timedelta(weeks=3), only="followups")

    for case in cases:
        assert [step for _, step in steps(case)] == [3]
        [email] = followup_emails(case)
        assert email.idempotency_key.endswith("-3")
        assert [e.after["skipped"] for e in followup_events(case)] == [[1, 2]]
        assert (reload(case).sub_status, reload(case).closure_reason) == (
            "resolved",
            "no_customer_response",
        )
    with scopes_disabled():
        assert OutboxEmail.unscoped.count() - emails_before == len(cases)
        closes = CaseEvent.unscoped.filter(kind="transition", after__sub_status="resolved")
        assert closes.count() == len(cases)

    assert "followups: 0 " in run_sweeps(NOW + timedelta(weeks=3, minutes=2), only="followups")
    with scopes_disabled():
        assert OutboxEmail.unscoped.count() - emails_before == len(cases)


@pytest.fixture
def broker_down():
    with mock.patch(
        "config.celery.app.send_task", side_effect=OSError("connection refused")
    ) as apply_async:
        yield apply_async


def test_broker_down_during_a_request_loses_nothing(
    org_a, dc_a, analyst, broker_down, mailoutbox, django_capture_on_commit_callbacks
):
    # DOMAIN N-5, F-1, F-2: the request succeeds; the emails go out when the outbox sweep runs
    case = make_case(org_a, dc_a, "investigation")
    client = APIClient()
    client.force_login(analyst)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/cases/{case.display_number}/request-info/",
            {"body": "Which queue?"},
            format="json",
        )

    assert response.status_code == 200, response.json()
    assert broker_down.called  # the doorbell failed, quietly
    timer = active_timer(case)
    assert timer is not None
    with django_capture_on_commit_callbacks(execute=True):
        run_sweeps(timer.reminder1_due_at, only="followups")
    [reminder] = followup_emails(case)
    assert reminder.state == "pending" and mailoutbox == []

    run_sweeps(timer.reminder1_due_at + timedelta(minutes=1), only="outbox")

    sent_subjects = [m.subject for m in mailoutbox]
    assert reminder.subject in sent_subjects
    assert len(sent_subjects) == 2  # the request's status email and the reminder, once each
    with scopes_disabled():
        assert set(OutboxEmail.unscoped.values_list("state", flat=True)) == {"sent"}
    run_sweeps(timer.reminder1_due_at + timedelta(minutes=2), only="outbox")
    assert len(mailoutbox) == 2
