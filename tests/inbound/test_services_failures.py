"""Bounces (N-3: visible to care on the case, never to the customer), at most one automatic
answer an hour per sender (RFC 3834), and a failure while handling: rolled back, kept,
tried again by ``inbound_handle_waiting``, and given up visibly after the last attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import selectors, services
from cases.history_display import event_summary
from cases.models import CaseEvent, CaseUpdate
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from inbound import handling
from inbound import services as inbound_services
from inbound.models import InboundMessage
from inbound.services import MAX_ATTEMPTS, inbound_handle_waiting
from tests.cases import NOW, acting_as, make_case, migrated_data_restored, postgres_only, reload
from tests.helpers.concurrency import race
from tests.inbound.messages import load
from tests.inbound.test_services import answers, email_reply, media, receive, updates

# Fixtures used by name: the test's own attachment folder; the seed put back after the
# PostgreSQL tests' real commits.
__all__ = ["media", "migrated_data_restored"]

Outcome = InboundMessage.Outcome


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


# --- bounces ---------------------------------------------------------------------------------


@pytest.fixture
def care_email(case, analyst) -> OutboxEmail:
    """The email the case's contact gets for care's public update."""
    with acting_as(analyst):
        services.case_post_update(
            case=case, actor=analyst, body="Please try again.", channel="admin", now=NOW
        )
    with scopes_disabled():
        return OutboxEmail.unscoped.get(case_id=case.pk)


def test_a_bounce_of_a_case_email_is_recorded_and_shown_to_care_only(
    case, care_email, dc_a, analyst, client
):
    # DOMAIN N-3, C-9, C-16: care learns the customer did not get the email
    raw = load(
        "bounce_dsn", ORIGINAL_MESSAGE_ID=care_email.message_id, FAILED_RECIPIENT="dc@org-a.example"
    )

    message = receive(raw, now=NOW + timedelta(minutes=1))

    assert (message.outcome, message.bounced_email_id, message.case_id) == (
        Outcome.BOUNCE,
        care_email.pk,
        case.pk,
    )
    assert "dc@org-a.example" in message.reason and "5.1.1" in message.reason
    assert answers() == []  # a bounce is never answered
    with scopes_disabled():
        [event] = CaseEvent.unscoped.filter(case_id=case.pk, kind="email_bounced")
        assert event.internal and event.actor_id is None and event.channel == "email"
        assert event_summary(event) == "Email not delivered to dc@org-a.example (5.1.1)"
        assert event not in selectors.case_history(user=dc_a, case=case)
        assert event in selectors.case_history(user=analyst, case=case)
    client.force_login(dc_a)
    portal = client.get(f"/cases/{case.display_number}/").content.decode()
    assert "not delivered" not in portal
    client.force_login(analyst)
    care = client.get(f"/admin/cases/case/{case.pk}/change/").content.decode()
    assert "Email not delivered" in care and "dc@org-a.example" in care


def test_a_delay_warning_is_recorded_but_tells_care_nothing_on_the_case(case, care_email):
    # DOMAIN N-3: "delayed" means the email may still arrive: no "not delivered" event
    raw = load(
        "bounce_dsn", ORIGINAL_MESSAGE_ID=care_email.message_id, FAILED_RECIPIENT="dc@org-a.example"
    ).replace(b"Action: failed", b"Action: delayed")

    message = receive(raw, now=NOW + timedelta(minutes=1))

    assert (message.outcome, message.bounced_email_id) == (Outcome.BOUNCE, care_email.pk)
    assert "is delayed" in message.reason
    assert answers() == []
    with scopes_disabled():
        assert not CaseEvent.unscoped.filter(case_id=case.pk, kind="email_bounced").exists()


def test_a_bounce_of_an_email_we_do_not_know_is_recorded_without_a_case(db):
    # DOMAIN N-3
    message = receive(load("bounce_dsn", ORIGINAL_MESSAGE_ID="<unknown@elsewhere.example>"))

    assert message.outcome == Outcome.BOUNCE and message.bounced_email_id is None
    assert message.case_id is None and "no record" in message.reason
    assert answers() == []


def test_nul_characters_in_ids_and_bounce_fields_never_make_a_message_unstorable(case, care_email):
    # DOMAIN N-3: PostgreSQL refuses NUL in text; the message must still be stored and read
    reply = email_reply(case, message_id="<nul@client.example>").replace(
        b"<nul@client.example>", b"<n\x00ul@client.example>"
    )
    bounce = load(
        "bounce_dsn", ORIGINAL_MESSAGE_ID=care_email.message_id, FAILED_RECIPIENT="dc@org-a.example"
    ).replace(b"Diagnostic-Code: smtp;", b"Diagnostic-Code: smtp; \x00")

    posted = receive(reply)
    bounced = receive(bounce, now=NOW + timedelta(minutes=1))

    assert (posted.outcome, posted.message_id) == (Outcome.POSTED, "")  # deduplicated by bytes
    assert posted.dedup_key.startswith("sha256:") and posted.update_id is not None
    assert bounced.outcome == Outcome.BOUNCE and "\x00" not in bounced.reason
    with scopes_disabled():
        [event] = CaseEvent.unscoped.filter(case_id=case.pk, kind="email_bounced")
        assert "\x00" not in event.after["diagnostic"]


# --- one automatic answer an hour ----------------------------------------------------------


def test_a_sender_gets_at_most_one_automatic_answer_an_hour(db):
    # DOMAIN N-4 (RFC 3834)
    first = receive(email_reply(None, subject="One"), now=NOW)
    second = receive(email_reply(None, subject="Two"), now=NOW + timedelta(minutes=59))
    third = receive(email_reply(None, subject="Three"), now=NOW + timedelta(minutes=61))

    assert [m.outcome for m in (first, second, third)] == [Outcome.NO_REFERENCE] * 3
    assert (first.answered_at, second.answered_at) == (NOW, None)
    assert third.answered_at == NOW + timedelta(minutes=61)
    assert [a.subject for a in answers()] == ["Re: One", "Re: Three"]


def test_the_hourly_limit_counts_every_kind_of_answer(case):
    # DOMAIN N-3, N-4: a refusal and a "no reference" answer share the limit
    receive(email_reply(case, sender="eve@elsewhere.example"))
    receive(email_reply(None, sender="eve@elsewhere.example"), now=NOW + timedelta(minutes=10))

    assert len(answers()) == 1
    assert InboundMessage.objects.filter(answered_at__isnull=False).count() == 1


def test_other_senders_are_not_limited_by_someone_elses_answer(db):
    # DOMAIN N-4
    receive(email_reply(None, sender="a@one.example"))
    receive(email_reply(None, sender="b@two.example"))

    assert sorted(a.to[0] for a in answers()) == ["a@one.example", "b@two.example"]


# --- failures while handling ----------------------------------------------------------------


class Flaky:
    """``case_post_update`` that fails the first ``failures`` calls (an outage), after doing
    its work, so the test also proves the work is rolled back."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.real = handling.case_post_update

    def __call__(self, **kwargs):
        self.calls += 1
        update = self.real(**kwargs)
        if self.calls <= self.failures:
            raise RuntimeError("the database went away")
        return update


def test_a_failure_while_handling_rolls_back_and_is_retried_once_due(case, dc_a, monkeypatch):
    # DOMAIN N-3: nothing received is lost, nothing is posted twice
    monkeypatch.setattr(handling, "case_post_update", Flaky(failures=1))

    message = receive(email_reply(case))

    assert (message.outcome, message.attempts) == (Outcome.RECEIVED, 1)
    assert message.last_error == "RuntimeError: the database went away"
    assert updates(case) == [] and answers() == []  # the update was rolled back
    assert inbound_handle_waiting(now=NOW + timedelta(minutes=4)) == 0  # not yet due
    assert inbound_handle_waiting(now=NOW + timedelta(minutes=5)) == 1
    message.refresh_from_db()
    assert message.outcome == Outcome.POSTED
    [update] = updates(case)
    assert message.update_id == update.pk and update.created_at == NOW + timedelta(minutes=5)
    assert inbound_handle_waiting(now=NOW + timedelta(days=1)) == 0


def test_a_message_left_unhandled_by_a_crash_is_picked_up_by_the_sweep(case, monkeypatch):
    # DOMAIN N-3: stored, then the process died before handling it
    monkeypatch.setattr(inbound_services, "_attempt", lambda *args, **kwargs: None)
    message = receive(email_reply(case))
    monkeypatch.undo()
    assert (message.outcome, message.attempts) == (Outcome.RECEIVED, 0)

    assert inbound_handle_waiting(now=NOW + timedelta(minutes=1)) == 0  # its delivery's turn
    assert inbound_handle_waiting(now=NOW + timedelta(minutes=2)) == 1

    assert InboundMessage.objects.get(pk=message.pk).outcome == Outcome.POSTED
    assert len(updates(case)) == 1


def test_handling_gives_up_after_the_last_attempt_and_tells_the_sender(case, monkeypatch):
    # DOMAIN N-3: refused as "could not be handled", visible to care; the sender told once
    monkeypatch.setattr(handling, "case_post_update", Flaky(failures=100))
    message = receive(email_reply(case))

    for day in range(1, MAX_ATTEMPTS + 2):
        inbound_handle_waiting(now=NOW + timedelta(days=day))

    message.refresh_from_db()
    assert (message.outcome, message.attempts) == (Outcome.REFUSED, MAX_ATTEMPTS)
    assert message.reason.startswith(f"Could not be handled after {MAX_ATTEMPTS} attempts")
    assert message.handled_at == NOW + timedelta(days=MAX_ATTEMPTS - 1)
    assert updates(case) == [] and reload(case).sub_status == "investigation"
    [answer] = answers()
    assert "could not be processed" in answer.body_text and answer.case_id is None


def test_a_message_handled_elsewhere_is_not_handled_again(case):
    # DOMAIN N-3: the outcome is checked again under the lock
    message = receive(email_reply(case))

    assert inbound_services._attempt(message.pk, None, NOW + timedelta(hours=1)) is None
    with scopes_disabled():
        assert CaseUpdate.unscoped.filter(case_id=case.pk).count() == 1


# --- at the same moment (PostgreSQL: row locks) -------------------------------------------


@postgres_only
def test_deliveries_of_one_message_at_the_same_moment_post_once(org_a, dc_a):
    # DOMAIN N-3: the unique key decides which delivery stores it; one handles it
    case = make_case(org_a, dc_a, "investigation")
    raw = email_reply(case, message_id="<race@client.example>")

    results = race(*[lambda: receive(raw)] * 4)

    assert not any(isinstance(r, Exception) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert len(updates(case)) == 1 and InboundMessage.objects.get().outcome == Outcome.POSTED


@postgres_only
def test_sweeps_at_the_same_moment_handle_a_waiting_message_once(org_a, dc_a, monkeypatch):
    # DOMAIN N-3: a message being handled is skipped (SKIP LOCKED), then found handled
    case = make_case(org_a, dc_a, "investigation")
    monkeypatch.setattr(inbound_services, "_attempt", lambda *args, **kwargs: None)
    receive(email_reply(case))
    monkeypatch.undo()
    later = NOW + timedelta(minutes=3)

    results = race(*[lambda: inbound_handle_waiting(now=later)] * 3)

    assert sorted(results) == [0, 0, 1], results
    assert len(updates(case)) == 1
