"""The transactional email outbox (N-5): written in the transaction, sent once after commit,
retried with backoff, given up after MAX_ATTEMPTS, swept when the broker lost the doorbell;
no header value can carry a line break."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, connections, transaction

from config.celery import app
from core.outbox import tasks
from core.outbox.models import OutboxEmail
from core.outbox.services import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    SEND_EMAIL_TASK,
    message_id_for,
    outbox_enqueue,
    outbox_send,
    outbox_sweep,
)
from core.tenancy import scopes_disabled
from tests.cases import migrated_data_restored, postgres_only  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("smtp.example: connection refused")


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


@pytest.fixture
def quiet_broker():
    """The broker: the doorbells rung, by task name, on the project's Celery app."""
    with mock.patch("config.celery.app.send_task") as send_task:
        yield send_task


def enqueue(org, *, key="k-1", subject="Hello", headers=None, to=None, now=NOW):
    with scopes_disabled():
        return outbox_enqueue(
            organization_id=org.pk,
            key=key,
            to=to if to is not None else ["Someone@Example.com"],
            subject=subject,
            text="Plain body.",
            html="<p>HTML body.</p>",
            headers=headers or {"References": "<thread@example>"},
            now=now,
        )


def fresh(email: OutboxEmail) -> OutboxEmail:
    with scopes_disabled():
        return OutboxEmail.unscoped.get(pk=email.pk)


def test_enqueue_records_a_pending_row(org_a, quiet_broker):
    # DOMAIN N-5
    email = enqueue(org_a)

    email = fresh(email)
    assert email.state == OutboxEmail.State.PENDING
    assert (email.to, email.attempts, email.next_attempt_at) == (["someone@example.com"], 0, NOW)
    assert email.message_id == message_id_for("k-1")
    assert email.message_id.startswith("<") and email.message_id.endswith(">")


def test_same_key_is_one_email(org_a, quiet_broker):
    # DOMAIN N-5
    first = enqueue(org_a)

    assert enqueue(org_a, subject="Again") is None
    with scopes_disabled():
        assert OutboxEmail.unscoped.get().pk == first.pk


def test_a_repeated_decision_leaves_the_transaction_usable(org_a, quiet_broker):
    # DOMAIN N-5: the unique key refuses the second row inside the caller's transaction,
    # which goes on (PostgreSQL would refuse every later statement without a savepoint)
    with transaction.atomic():
        first = enqueue(org_a)
        assert enqueue(org_a) is None
        second = enqueue(org_a, key="k-2")

    with scopes_disabled():
        assert set(OutboxEmail.unscoped.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_another_constraint_is_not_taken_for_a_repeat(org_a, quiet_broker):
    # A broken row is an error, not "already decided": only the key's own conflict is.
    with pytest.raises(IntegrityError), transaction.atomic():
        enqueue(org_a, key="k-1")
        with scopes_disabled():
            OutboxEmail.unscoped.filter(idempotency_key="k-1").update(idempotency_key="moved")
        enqueue(org_a, key="k-1")  # same Message-ID as the moved row, a new key


def test_message_id_depends_on_the_key_only(settings):
    # DOMAIN N-2, N-5: a resend after a crash is the same message to every mail client
    assert message_id_for("case-1-event-2") == message_id_for("case-1-event-2")
    assert message_id_for("case-1-event-2") != message_id_for("case-1-event-3")
    assert message_id_for("x").endswith("@support-portal.example>")
    assert message_id_for("x", "case-00001000.ab\r\n<c>") == message_id_for(
        "x", "case-00001000.abc"
    )
    assert message_id_for("x", "case-00001000.abc").startswith("<case-00001000.abc.")


def test_nobody_to_send_to_records_nothing(org_a, quiet_broker):
    # DOMAIN N-5
    assert enqueue(org_a, to=["", "  "]) is None
    with scopes_disabled():
        assert not OutboxEmail.unscoped.exists()


def test_doorbell_rings_after_commit_only(org_a, quiet_broker, django_capture_on_commit_callbacks):
    # DOMAIN N-5
    with django_capture_on_commit_callbacks(execute=True):
        email = enqueue(org_a)
        quiet_broker.assert_not_called()

    quiet_broker.assert_called_once_with(name=SEND_EMAIL_TASK, args=[email.pk], retry=False)


def test_the_doorbell_names_the_task_that_sends():
    # DOMAIN N-5: rung by name, so the name must be the registered task's
    app.loader.import_default_modules()
    assert SEND_EMAIL_TASK in app.tasks
    assert tasks.send_outbox_email.name == SEND_EMAIL_TASK


def test_rolled_back_enqueue_leaves_no_row_and_no_doorbell(
    org_a, quiet_broker, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue(org_a)
        raise RuntimeError("rolled back")

    assert callbacks == []
    quiet_broker.assert_not_called()
    with scopes_disabled():
        assert not OutboxEmail.unscoped.exists()


def test_send_once(org_a, quiet_broker):
    # DOMAIN N-5
    email = enqueue(org_a)

    assert outbox_send(email_id=email.pk, now=NOW) is True
    assert outbox_send(email_id=email.pk, now=NOW) is False

    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"] == email.message_id
    assert sent.extra_headers["References"] == "<thread@example>"
    assert sent.alternatives == [("<p>HTML body.</p>", "text/html")]
    email = fresh(email)
    assert (email.state, email.attempts, email.sent_at) == (OutboxEmail.State.SENT, 1, NOW)


def test_unknown_email_is_a_no_op(db):
    # DOMAIN N-5
    assert outbox_send(email_id=424242, now=NOW) is False


def test_the_task_sends(org_a, quiet_broker):
    # DOMAIN N-5: the task is thin, it loads by id and calls the service
    email = enqueue(org_a)

    assert tasks.send_outbox_email(email.pk) is True

    assert len(mail.outbox) == 1


def test_smtp_failure_is_retried_with_backoff(org_a, quiet_broker, settings):
    # DOMAIN N-5
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    email = enqueue(org_a)

    assert outbox_send(email_id=email.pk, now=NOW) is False
    email = fresh(email)
    assert (email.state, email.attempts) == (OutboxEmail.State.PENDING, 1)
    assert email.next_attempt_at == NOW + BACKOFF_BASE
    assert "connection refused" in email.last_error

    later = NOW + timedelta(minutes=5)
    assert outbox_send(email_id=email.pk, now=later) is False
    assert fresh(email).next_attempt_at == later + 2 * BACKOFF_BASE

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_sweep(now=later + timedelta(minutes=2)) == 1
    email = fresh(email)
    assert (email.state, email.attempts, email.last_error) == (OutboxEmail.State.SENT, 3, "")
    (sent,) = mail.outbox
    assert sent.extra_headers["Message-ID"] == email.message_id


def test_sweep_waits_for_the_backoff(org_a, quiet_broker, settings):
    # DOMAIN N-5
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    email = enqueue(org_a)
    outbox_send(email_id=email.pk, now=NOW)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert outbox_sweep(now=NOW + BACKOFF_BASE - timedelta(seconds=1)) == 0
    assert mail.outbox == []
    assert outbox_sweep(now=NOW + BACKOFF_BASE) == 1


def test_gives_up_after_max_attempts(org_a, quiet_broker, settings):
    # DOMAIN N-5
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    email = enqueue(org_a)
    now = NOW
    delays = []

    for _ in range(MAX_ATTEMPTS):
        assert outbox_sweep(now=now) == 0
        current = fresh(email)
        if current.state == OutboxEmail.State.PENDING:
            delays.append(current.next_attempt_at - now)
            now = current.next_attempt_at

    email = fresh(email)
    assert (email.state, email.attempts) == (OutboxEmail.State.FAILED, MAX_ATTEMPTS)
    assert delays == sorted(delays) and max(delays) <= BACKOFF_CAP
    assert delays[0] == BACKOFF_BASE
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox_sweep(now=now + timedelta(days=30)) == 0
    assert outbox_send(email_id=email.pk, now=now) is False
    assert fresh(email).attempts == MAX_ATTEMPTS
    assert mail.outbox == []


def test_sweep_sends_what_the_broker_lost(org_a, quiet_broker):
    # DOMAIN N-5
    lost = [enqueue(org_a, key=f"k-{i}") for i in range(3)]
    future = enqueue(org_a, key="later", now=NOW + timedelta(hours=1))

    assert outbox_sweep(now=NOW) == 3
    assert outbox_sweep(now=NOW) == 0

    assert {fresh(e).state for e in lost} == {OutboxEmail.State.SENT}
    assert fresh(future).state == OutboxEmail.State.PENDING
    assert len(mail.outbox) == 3


def test_sweep_task_uses_the_clock(org_a, quiet_broker):
    # DOMAIN N-5
    enqueue(org_a, now=datetime(2020, 1, 1, tzinfo=UTC))

    assert tasks.sweep_outbox() == 1


def test_broker_down_is_logged_and_swallowed(org_a, django_capture_on_commit_callbacks, caplog):
    # DOMAIN N-5
    with (
        mock.patch("config.celery.app.send_task", side_effect=OSError("no broker")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        email = enqueue(org_a)

    assert fresh(email).state == OutboxEmail.State.PENDING
    assert "waits for the sweep" in caplog.text
    assert outbox_sweep(now=NOW) == 1


@pytest.mark.parametrize(
    ("subject", "headers"),
    [
        ("Hello\r\nBcc: victim@example.com", {}),
        ("Hello\nBcc: victim@example.com", {}),
        ("Hello\rBcc: victim@example.com", {}),
        ("Hello", {"References": "<a@b>\r\nBcc: victim@example.com"}),
        ("Hello", {"X-Case\r\nBcc": "victim@example.com"}),
    ],
)
def test_no_line_break_reaches_a_header(org_a, quiet_broker, subject, headers):
    # DOMAIN N-2: header injection is impossible by construction
    email = enqueue(org_a, subject=subject, headers=headers)

    assert outbox_send(email_id=email.pk, now=NOW) is True

    (sent,) = mail.outbox
    raw = sent.message().as_string()
    head = raw.split("\n\n", 1)[0]
    assert len([line for line in head.splitlines() if line.startswith("Subject:")]) == 1
    assert not any(line.lower().startswith("bcc:") for line in head.splitlines())
    assert sent.recipients() == ["someone@example.com"]


def test_malformed_addresses_are_dropped(org_a, quiet_broker):
    # DOMAIN N-2: a line break in an address could add a recipient
    email = enqueue(
        org_a,
        to=[
            "someone@example.com\r\nBcc: victim@example.com",
            "two@example.com, victim@example.com",
            "not an address",
            "Good@Example.com",
        ],
    )

    assert fresh(email).to == ["good@example.com"]
    assert enqueue(org_a, key="k-2", to=["a@example.com\nBcc: victim@example.com"]) is None


@postgres_only
def test_two_workers_send_an_email_once(org_a, quiet_broker):
    # DOMAIN N-5
    email = enqueue(org_a)
    barrier = threading.Barrier(4)
    results: list[object] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(outbox_send(email_id=email.pk, now=NOW))
        except Exception as exc:  # the outcome under test
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results, key=str) == [False, False, False, True]
    assert len(mail.outbox) == 1
    assert fresh(email).attempts == 1


@postgres_only
def test_the_same_decision_in_two_transactions_at_once_is_one_email(org_a, quiet_broker):
    # DOMAIN N-5: the second INSERT waits for the first transaction, then finds the key used
    barrier = threading.Barrier(2)
    results: list[object] = []

    def decide() -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                results.append(enqueue(org_a, key="same-decision"))
        except Exception as exc:  # the outcome under test
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(type(r).__name__ for r in results) == ["NoneType", "OutboxEmail"]
    with scopes_disabled():
        assert OutboxEmail.unscoped.filter(idempotency_key="same-decision").count() == 1


# --- N-1: a case email's recipients are checked again when it is sent -----------------------

CHECKER = f"{__name__}.still_entitled"
ENTITLED: set[str] = set()  # what the test checker answers: the addresses still entitled
CHECKS: list[dict] = []


def still_entitled(*, organization_id, case_id, audience, addresses):
    """A checker as the setting names one (the project's lives in accounts)."""
    CHECKS.append({"organization_id": organization_id, "audience": audience, "to": addresses})
    return [a.upper() for a in addresses if a in ENTITLED]  # the case of an address is no matter


def broken_check(**kwargs):
    raise ConnectionError("database went away")


@pytest.fixture
def checker(settings):
    settings.OUTBOX_RECIPIENT_CHECK = CHECKER
    ENTITLED.clear()
    CHECKS.clear()
    return ENTITLED


def enqueue_for_readers(org, *, key="case-k", to=("a@org.example", "b@org.example")):
    with scopes_disabled():
        return outbox_enqueue(
            organization_id=org.pk,
            key=key,
            to=list(to),
            subject="[Case 00001000] Hello [ref:abc]",
            text="Plain body.",
            audience=OutboxEmail.Audience.CASE_READERS,
            now=NOW,
        )


def test_the_check_drops_who_may_no_longer_see_the_case(org_a, quiet_broker, checker):
    # DOMAIN N-1, N-5
    email = enqueue_for_readers(org_a)
    checker.add("b@org.example")

    assert outbox_send(email_id=email.pk, now=NOW) is True

    (sent,) = mail.outbox
    assert sent.to == ["b@org.example"]
    assert [
        {
            "organization_id": org_a.pk,
            "audience": OutboxEmail.Audience.CASE_READERS,
            "to": ["a@org.example", "b@org.example"],
        }
    ] == CHECKS
    email = fresh(email)
    assert (email.state, email.to, email.dropped) == (
        OutboxEmail.State.SENT,
        ["a@org.example", "b@org.example"],  # as decided
        ["a@org.example"],
    )


def test_an_email_left_with_nobody_is_withheld_for_good(org_a, quiet_broker, checker):
    # DOMAIN N-1, N-5: a final state, never retried
    email = enqueue_for_readers(org_a)

    assert outbox_send(email_id=email.pk, now=NOW) is False

    assert mail.outbox == []
    email = fresh(email)
    assert email.state == OutboxEmail.State.WITHHELD
    assert email.reason == "Nobody it was addressed to may see the case any more."
    assert email.get_state_display().startswith("Withheld")
    assert email.dropped == email.to
    checker.update(email.to)  # even if access came back, the decision stands
    assert outbox_sweep(now=NOW + timedelta(days=1)) == 0
    assert outbox_send(email_id=email.pk, now=NOW + timedelta(days=1)) is False
    assert mail.outbox == [] and fresh(email).attempts == 1


def test_each_attempt_checks_again(org_a, quiet_broker, checker, settings):
    # DOMAIN N-1: an SMTP retry hours later sends to whoever may see the case then
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    email = enqueue_for_readers(org_a)
    checker.update({"a@org.example", "b@org.example"})
    assert outbox_send(email_id=email.pk, now=NOW) is False
    assert fresh(email).dropped == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    checker.discard("a@org.example")
    assert outbox_sweep(now=NOW + timedelta(hours=1)) == 1

    (sent,) = mail.outbox
    assert sent.to == ["b@org.example"]
    assert fresh(email).dropped == ["a@org.example"]


def test_a_failing_check_is_retried_like_a_failing_server(org_a, quiet_broker, settings):
    # DOMAIN N-5: nothing is sent unchecked, nothing is lost
    settings.OUTBOX_RECIPIENT_CHECK = f"{__name__}.broken_check"
    email = enqueue_for_readers(org_a)

    assert outbox_send(email_id=email.pk, now=NOW) is False

    email = fresh(email)
    assert (email.state, email.attempts) == (OutboxEmail.State.PENDING, 1)
    assert email.next_attempt_at == NOW + BACKOFF_BASE
    assert "database went away" in email.last_error
    assert mail.outbox == []


def test_without_the_setting_case_emails_wait(org_a, quiet_broker, settings):
    # DOMAIN N-1: an unconfigured checker never means "send to everyone"
    del settings.OUTBOX_RECIPIENT_CHECK
    email = enqueue_for_readers(org_a)

    assert outbox_send(email_id=email.pk, now=NOW) is False

    email = fresh(email)
    assert email.state == OutboxEmail.State.PENDING
    assert "OUTBOX_RECIPIENT_CHECK" in email.last_error
    assert mail.outbox == []


def test_an_email_for_no_audience_is_not_checked(org_a, quiet_broker, settings):
    # Care's own emails and answers to strangers: sent as addressed
    settings.OUTBOX_RECIPIENT_CHECK = f"{__name__}.broken_check"
    email = enqueue(org_a)

    assert fresh(email).audience == OutboxEmail.Audience.NONE
    assert outbox_send(email_id=email.pk, now=NOW) is True
    assert fresh(email).dropped == []


def test_an_audience_needs_a_known_name_and_an_organization(db):
    kwargs = {"key": "k", "to": ["a@example.com"], "subject": "s", "text": "t", "now": NOW}
    with pytest.raises(ValueError):
        outbox_enqueue(organization_id=None, audience=OutboxEmail.Audience.CASE_READERS, **kwargs)
    with pytest.raises(ValueError):
        outbox_enqueue(organization_id=None, audience="everyone", **kwargs)


# --- N-3: replies reach the inbound path -------------------------------------------------------


def test_every_email_is_answered_to_the_inbound_address(org_a, quiet_broker, settings, checker):
    # DOMAIN N-3: Reply-To is INBOUND_ADDRESS in every setup
    settings.INBOUND_ADDRESS = "replies@inbound.example"
    checker.add("a@org.example")
    emails = [enqueue(org_a), enqueue_for_readers(org_a)]

    for email in emails:
        assert outbox_send(email_id=email.pk, now=NOW) is True

    assert [m.reply_to for m in mail.outbox] == [["replies@inbound.example"]] * 2
    for message in mail.outbox:
        head = message.message().as_string().split("\n\n", 1)[0]
        assert "Reply-To: replies@inbound.example" in head.splitlines()
