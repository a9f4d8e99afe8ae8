"""The reminder and final emails (F-2 … F-4, N-1, N-2, B-5)."""

from __future__ import annotations

import pytest

from cases.emails import subject_for
from cases.links import case_url
from cases.references import reference_token, thread_id
from core.outbox.models import OutboxEmail
from followups.sweep import followup_sweep
from tests.cases import NOW, acting_as, make_case
from tests.followups.helpers import (
    CLOSE,
    R1,
    R2,
    REQUEST,
    ask,
    followup_emails,
    timers,
)


@pytest.fixture
def waiting(org_a, dc_a, analyst):
    from cases import services

    case = make_case(org_a, dc_a, "investigation")
    with acting_as(analyst):
        services.case_post_update(
            case=case,
            actor=analyst,
            body="Internal: customer is on an old firmware.",
            internal=True,
            channel="admin",
            now=NOW,
        )
    ask(case, analyst, now=NOW)
    return case


def test_the_reminder_says_what_was_asked_and_links_the_case(waiting, dc_a):
    # DOMAIN F-2, N-1, N-2
    followup_sweep(now=R1)

    [email] = followup_emails(waiting)
    timer = timers(waiting)[0]
    assert email.idempotency_key == f"followup-{waiting.pk}-{timer.pk}-1"
    assert email.to == [dc_a.email]
    token = reference_token(waiting)
    # DOMAIN N-1: a reminder asks the customer to act
    assert email.subject.startswith(f"[Action needed] [Case {waiting.display_number}] Reminder: ")
    assert email.subject.endswith(f"[{token}]")
    assert email.headers["References"] == thread_id(waiting)
    assert email.headers["Auto-Submitted"] == "auto-generated"
    for body in (email.body_text, email.body_html):
        assert case_url(waiting.number) in body
        assert REQUEST in body
        assert "asked you for information" in body
        assert "Monday 16 March 2026, 10:00 UTC" in body  # when it closes, in the org's zone
        assert token in body
        assert "old firmware" not in body  # internal notes never leave the system


def test_the_second_reminder_is_its_own_email(waiting):
    # DOMAIN F-3
    followup_sweep(now=R1)
    followup_sweep(now=R2)

    first, second = followup_emails(waiting)
    assert second.subject.startswith(
        f"[Action needed] [Case {waiting.display_number}] Second reminder: "
    )
    assert "still waiting" in second.body_text
    assert first.message_id != second.message_id


def test_a_proposed_solution_reminder_asks_for_confirmation(org_a, dc_a, analyst):
    # DOMAIN F-2
    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW, propose=True)

    followup_sweep(now=R1)

    [email] = followup_emails(case)
    assert "confirm it works" in email.body_text


def test_the_final_email_says_the_case_is_closed_and_how_to_reopen(waiting):
    # DOMAIN F-4, C-12
    for moment in (R1, R2, CLOSE):
        followup_sweep(now=moment)

    final = followup_emails(waiting)[-1]
    assert final.subject.startswith(f"[Case {waiting.display_number}] Closed, no response: ")
    assert "No customer response" in final.body_text
    assert "sent you 2 reminders" in final.body_text
    assert "Wednesday 15 April 2026, 10:00 UTC" in final.body_text  # 30 days to reopen
    assert case_url(waiting.number) in final.body_html


def test_after_an_outage_the_final_email_does_not_claim_reminders(waiting):
    # DOMAIN F-6 as the issue settles it
    followup_sweep(now=CLOSE)

    [final] = followup_emails(waiting)
    assert "reminder" not in final.body_text.lower().split("closed", 1)[0]
    assert "without a response" in final.body_text


def test_dates_read_in_the_contact_s_own_time_zone(waiting, dc_a):
    # DOMAIN B-5
    dc_a.time_zone = "Asia/Tokyo"
    dc_a.save(update_fields=["time_zone"])

    followup_sweep(now=R1)

    [email] = followup_emails(waiting)
    assert "Monday 16 March 2026, 19:00 JST" in email.body_text


def test_a_long_subject_never_loses_the_reference_token(org_a, dc_a, analyst):
    # DOMAIN N-2
    case = make_case(org_a, dc_a, "investigation", subject="x" * 200)

    subject = subject_for(case, "Second reminder", action=True)

    assert len(subject) == 255
    assert subject.startswith(f"[Action needed] [Case {case.display_number}] Second reminder: ")
    assert subject.endswith(f"[{reference_token(case)}]")
    assert "…" in subject


def test_the_reminders_ask_for_action_and_the_final_email_only_tells(waiting):
    # DOMAIN N-1, F-2 … F-4: all three go to designated contacts (checked again when sent);
    # only the reminders ask the customer to act
    for moment in (R1, R2, CLOSE):
        followup_sweep(now=moment)

    first, second, final = followup_emails(waiting)
    for email in (first, second, final):
        assert email.audience == OutboxEmail.Audience.CASE_DESIGNATED_CONTACTS
    assert first.subject.startswith("[Action needed] ")
    assert second.subject.startswith("[Action needed] ")
    assert not final.subject.startswith("[Action needed]")


def test_a_read_only_contact_is_not_reminded(org_a, ro_a, dc_a, analyst):
    # DOMAIN N-1, T-4: the reminder asks for what only a designated contact can do
    case = make_case(org_a, ro_a, "investigation")
    ask(case, analyst, now=NOW)

    followup_sweep(now=R1)

    assert followup_emails(case) == []  # nobody else asked for every case's email


def test_the_reminder_links_follow_site_url(waiting, settings):
    # Issue 13: links use SITE_URL
    settings.SITE_URL = "http://127.0.0.1:8123"

    followup_sweep(now=R1)

    [email] = followup_emails(waiting)
    link = f"http://127.0.0.1:8123/cases/{waiting.display_number}/"
    assert link in email.body_text and f'href="{link}"' in email.body_html
