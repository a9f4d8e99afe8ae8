"""Case emails (N-1, N-2, N-5): one outbox row per decided email, written in the service's
transaction and sent after commit, with the reference token that ties replies to the case.
Internal notes never produce email."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_string
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction

from cases import emails, references, services
from cases.links import case_url
from cases.models import Case, CaseEvent, Channel
from core.outbox.models import OutboxEmail
from core.outbox.services import message_id_for, outbox_send
from core.tenancy import scopes_disabled
from tests.cases import NOW, acting_as, make_case, reload
from tests.factories import open_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://care.example"
    mail.outbox = []


@pytest.fixture
def worker():
    """The broker and a worker in one: the doorbell sends the row at once. Returns the
    mock, whose calls are the rung doorbells."""

    def deliver(args, **kwargs):
        outbox_send(email_id=args[0], now=NOW)

    with mock.patch("config.celery.app.send_task", side_effect=deliver) as ring:
        yield ring


def rows(case: Case | None = None) -> list[OutboxEmail]:
    with scopes_disabled():
        queryset = OutboxEmail.unscoped.order_by("created_at", "id")
        return list(queryset.filter(case_id=case.pk) if case else queryset)


def header_lines(message, name: str) -> list[str]:
    """Each occurrence of the header in the message as sent, unfolded, as "Name: value"."""
    parsed = message_from_string(message.message().as_string())
    values = parsed.get_all(name) or []
    return [f"{name}: {' '.join(str(v).split())}" for v in values]


def assert_case_email(row: OutboxEmail, case: Case) -> None:
    """N-2: reference token in the subject and the thread headers, a link to the case."""
    token = references.reference_token(case)
    subject = row.subject.removeprefix(emails.ACTION_PREFIX)
    assert subject.startswith(f"[Case {case.display_number}] ")
    assert f"[{token}]" in row.subject
    assert token[4:] in row.headers["References"]
    assert row.headers["In-Reply-To"] == row.headers["References"] == references.thread_id(case)
    assert row.message_id.startswith(f"<case-{case.display_number}.{token[4:]}.")
    assert case_url(case.number) in row.body_text
    assert case_url(case.number) in row.body_html
    assert row.to == [case.contact.email]


def test_opening_acknowledges_by_email(org_a, dc_a, worker, django_capture_on_commit_callbacks):
    # DOMAIN N-1, N-2, N-5
    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(dc_a, org_a, subject="Calls drop", now=NOW)

    (row,) = rows(case)
    assert_case_email(row, case)
    assert "We received your case" in row.body_text
    assert row.state == OutboxEmail.State.SENT
    (sent,) = mail.outbox
    assert sent.to == [dc_a.email]
    assert sent.extra_headers["Message-ID"] == row.message_id
    assert header_lines(sent, "Message-ID") == [f"Message-ID: {row.message_id}"]
    assert header_lines(sent, "References") == [f"References: {references.thread_id(case)}"]
    (html, mimetype) = sent.alternatives[0]
    assert mimetype == "text/html" and case_url(case.number) in html


def test_care_public_update_is_emailed(org_a, dc_a, analyst):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_post_update(
            case=case, actor=analyst, body="Please restart the agent.", now=NOW
        )

    (row,) = rows(case)
    assert_case_email(row, case)
    assert "Please restart the agent." in row.body_text
    assert "Customer Care posted an update" in row.body_text


def test_care_first_response_is_one_email(org_a, dc_a, analyst):
    # DOMAIN N-1: the update that takes a New case is one email, not two
    case = make_case(org_a, dc_a, "new")

    with scopes_disabled():
        services.case_post_update(case=case, actor=analyst, body="Looking at it.", now=NOW)

    assert len(rows(case)) == 1


def test_status_change_is_emailed_with_what_to_do(org_a, dc_a, analyst):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_request_info(
            case=case, actor=analyst, body="Send the HAR file.", channel=Channel.ADMIN, now=NOW
        )

    (row,) = rows(case)
    assert_case_email(row, case)
    assert "Info Required from Customer" in row.body_text
    assert "Send the HAR file." in row.body_text
    assert emails.NEXT_STEP["info_required"] in row.body_text


def test_internal_note_never_produces_email(
    org_a, dc_a, analyst, worker, django_capture_on_commit_callbacks
):
    # DOMAIN C-9, N-1
    case = make_case(org_a, dc_a, "investigation")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, scopes_disabled():
        services.case_post_update(
            case=case, actor=analyst, body="Contract expired.", internal=True, now=NOW
        )

    assert rows() == []
    assert callbacks == []
    assert mail.outbox == []


def test_internal_note_text_is_in_no_later_email(org_a, dc_a, analyst):
    # DOMAIN C-9, N-1
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_post_update(
            case=case, actor=analyst, body="SECRET-NOTE", internal=True, now=NOW
        )
        services.case_post_update(
            case=case, actor=analyst, body="Public answer.", now=NOW + timedelta(minutes=1)
        )
        services.case_resolve(
            case=case, actor=analyst, channel=Channel.ADMIN, now=NOW + timedelta(minutes=2)
        )

    assert len(rows(case)) == 2
    for row in rows(case):
        assert "SECRET-NOTE" not in row.body_text + row.body_html + row.subject


def test_customer_update_is_not_emailed_back_to_them(org_a, dc_a):
    # DOMAIN N-1: mail goes out for care's updates and status changes
    case = make_case(org_a, dc_a, "investigation")

    with acting_as(dc_a):
        services.case_post_update(case=case, actor=dc_a, body="More detail.", now=NOW)

    assert rows() == []


def test_rolled_back_change_sends_nothing(
    org_a, dc_a, analyst, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    case = make_case(org_a, dc_a, "investigation")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        scopes_disabled(),
        transaction.atomic(),
    ):
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)
        assert len(rows(case)) == 1  # decided inside the transaction ...
        raise RuntimeError("the request failed after the service")

    assert rows() == []  # ... and gone with it
    assert callbacks == []
    worker.assert_not_called()
    assert mail.outbox == []
    assert reload(case).sub_status == "investigation"


def test_email_is_sent_only_after_commit(
    org_a, dc_a, analyst, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    case = make_case(org_a, dc_a, "investigation")

    with django_capture_on_commit_callbacks(execute=False) as callbacks, scopes_disabled():
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)

    worker.assert_not_called()
    assert len(callbacks) == 1
    callbacks[0]()
    (row,) = rows(case)
    worker.assert_called_once()
    assert worker.call_args.kwargs["args"] == [row.pk]
    assert len(mail.outbox) == 1


def test_message_ids_are_deterministic_and_distinct(org_a, dc_a, analyst):
    # DOMAIN N-2, N-5
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        services.case_request_info(
            case=case, actor=analyst, body="Logs?", channel=Channel.ADMIN, now=NOW
        )
        services.case_post_update(case=case, actor=analyst, body="Reminder.", now=NOW)

    first, second = rows(case)
    assert first.message_id != second.message_id
    with scopes_disabled():
        event_ids = set(CaseEvent.unscoped.filter(case=case).values_list("pk", flat=True))
    for row in (first, second):
        hint = f"case-{case.display_number}.{references.reference_token(case)[4:]}"
        assert row.message_id == message_id_for(row.idempotency_key, hint)
        assert int(row.idempotency_key.rsplit("-", 1)[1]) in event_ids


def test_reference_token_is_per_case_and_keyed(org_a, dc_a, settings):
    # DOMAIN N-2: a token cannot be derived from the case number alone
    a = make_case(org_a, dc_a)
    b = make_case(org_a, dc_a)
    token = references.reference_token(a)

    assert token.startswith("ref:") and len(token) > 12
    assert token != references.reference_token(b)
    assert token == references.reference_token(reload(a))
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert references.reference_token(a) != token


def test_line_breaks_in_a_subject_never_reach_a_header(
    org_a, analyst, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-2: a subject written before it was cleaned, or by any other path
    from accounts.models import AccessLevel
    from tests.factories import member_of

    contact = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "contact@org-a.example")
    case = make_case(org_a, contact, "investigation", subject="Hi\r\nBcc: victim@example.com")

    with django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)

    (sent,) = mail.outbox
    (subject_line,) = header_lines(sent, "Subject")
    assert "Bcc" in subject_line  # kept as text, on the one Subject line
    assert header_lines(sent, "Bcc") == []
    assert sent.recipients() == ["contact@org-a.example"]
    parsed = message_from_string(sent.message().as_string())
    assert parsed.get_all("Bcc") is None


def test_html_body_escapes_what_people_wrote(org_a, dc_a, analyst):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, "investigation", subject="<b>bold</b>")

    with scopes_disabled():
        services.case_post_update(
            case=case, actor=analyst, body="<script>alert(1)</script>", now=NOW
        )

    (row,) = rows(case)
    assert "<script>" not in row.body_html and "&lt;script&gt;" in row.body_html
    assert "<b>bold</b>" not in row.body_html
    assert "<script>alert(1)</script>" in row.body_text  # plain text stays as written


def test_inactive_contact_gets_no_email(org_a, dc_a, analyst):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, "investigation")
    dc_a.is_active = False
    dc_a.save(update_fields=["is_active"])

    with scopes_disabled():
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)

    assert rows() == []


def test_priority_change_email_names_both_priorities(org_a, dc_a, manager):
    # DOMAIN C-5, N-1
    case = make_case(org_a, dc_a, "investigation", priority="medium")

    with scopes_disabled():
        services.case_change_priority(
            case=case, actor=manager, priority="critical", channel=Channel.ADMIN, now=NOW
        )

    (row,) = rows(case)
    assert "from Medium to Critical" in row.body_text


def test_broker_down_the_service_succeeds_and_the_sweep_sends(
    org_a, dc_a, analyst, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    from core.outbox.services import outbox_sweep

    case = make_case(org_a, dc_a, "investigation")
    down = mock.patch(
        "config.celery.app.send_task",
        side_effect=ConnectionError("broker down"),
    )

    with down as ring, django_capture_on_commit_callbacks(execute=True), scopes_disabled():
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)

    ring.assert_called_once()
    assert reload(case).sub_status == "resolved"
    (row,) = rows(case)
    assert row.state == OutboxEmail.State.PENDING and mail.outbox == []

    assert outbox_sweep(now=NOW + timedelta(minutes=1)) == 1

    assert len(mail.outbox) == 1
    assert rows(case)[0].state == OutboxEmail.State.SENT


# --- N-1: the actor named rightly; "You …" only to the actor -----------------------------------


@pytest.fixture
def dana(org_a):
    """A second designated contact, who asked for every case's email."""
    from accounts.models import AccessLevel
    from tests.factories import member_of

    user = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dana@org-a.example")
    user.display_name = "Dana Doe"
    user.save(update_fields=["display_name"])
    return user


@pytest.fixture
def dc2(org_a):
    from accounts.models import AccessLevel
    from tests.factories import member_of

    user = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")
    user.email_all_cases = True
    user.save(update_fields=["email_all_cases"])
    return user


def test_confirming_the_solution_names_who_did_it(
    org_a, dc_a, dana, dc2, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-1 (issue 13: dc2 was told "You confirmed the solution" when dc1 did it)
    case = make_case(org_a, dc_a, "solution_proposed")

    with django_capture_on_commit_callbacks(execute=True), acting_as(dana):
        services.case_confirm_solution(
            case=case, actor=dana, body="Works now, thanks.", channel=Channel.PORTAL, now=NOW
        )

    (others,) = [row for row in rows(case) if not row.idempotency_key.endswith("-you")]
    assert others.to == sorted([dc_a.email, dc2.email])  # the contact, the opted-in one
    for body in (others.body_text, others.body_html):
        assert "Dana Doe confirmed the solution." in body
        assert "Dana Doe wrote:" in body
        assert "You " not in body
    assert "Works now, thanks." in others.body_text
    assert all("You confirmed" not in m.body for m in mail.outbox if m.to != [dana.email])


def test_the_actor_among_the_recipients_gets_a_row_of_their_own(
    org_a, dc_a, dc2, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-1, N-5: its own key, its own Message-ID, sent like any other
    case = make_case(org_a, dc_a, "solution_proposed")

    with django_capture_on_commit_callbacks(execute=True), acting_as(dc2):
        services.case_confirm_solution(
            case=case, actor=dc2, body="Confirmed.", channel=Channel.PORTAL, now=NOW
        )

    mine, others = sorted(rows(case), key=lambda r: not r.idempotency_key.endswith("-you"))
    assert mine.to == [dc2.email] and others.to == [dc_a.email]
    assert mine.idempotency_key == others.idempotency_key + "-you"
    assert mine.message_id != others.message_id
    assert mine.message_id == message_id_for(mine.idempotency_key, references.message_id_hint(case))
    assert "You confirmed the solution." in mine.body_text
    assert "You wrote:" in mine.body_text and "You wrote:" in mine.body_html
    assert f"{dc2.display_name} confirmed the solution." in others.body_text
    assert {r.state for r in rows(case)} == {OutboxEmail.State.SENT}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([dc2.email, dc_a.email])


@pytest.mark.parametrize(
    ("action", "start", "did"),
    [
        ("case_close", "investigation", "closed the case"),
        ("case_cancel", "investigation", "closed the case"),
        ("case_reopen", "resolved", "reopened the case"),
    ],
)
def test_every_customer_status_change_names_who_did_it(org_a, dc_a, dana, action, start, did):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, start)
    kwargs = {"reason": "It broke again."} if action == "case_reopen" else {}

    with acting_as(dana):
        getattr(services, action)(case=case, actor=dana, channel=Channel.PORTAL, now=NOW, **kwargs)

    (row,) = rows(case)  # Dana did not ask for every case's email: only the contact hears
    assert row.to == [dc_a.email]
    assert f"Dana Doe {did}." in row.body_text
    assert f"You {did}" not in row.body_text
    assert "your response" not in row.body_text


def test_care_s_changes_are_told_without_you(org_a, dc_a, analyst, manager):
    # DOMAIN N-1: only a customer who acted is "You"; care is Customer Care
    case = make_case(org_a, dc_a, "investigation", priority="medium")

    with scopes_disabled():
        services.case_propose_solution(
            case=case, actor=analyst, body="Upgrade.", channel=Channel.ADMIN, now=NOW
        )
        services.case_change_priority(
            case=case, actor=manager, priority="high", channel=Channel.ADMIN, now=NOW
        )

    proposal, priority = rows(case)
    assert "Customer Care wrote:" in proposal.body_text
    assert "Customer Care changed the priority" in priority.body_text
    for row in (proposal, priority):
        assert not row.idempotency_key.endswith("-you")
        assert "You " not in row.body_text


def test_opening_tells_the_opener_we_received_it_and_the_others_who_opened_it(org_a, dana, dc2):
    # DOMAIN N-1
    case = open_case(dana, org_a, subject="Calls drop", now=NOW)

    mine, others = sorted(rows(case), key=lambda r: not r.idempotency_key.endswith("-you"))
    assert mine.to == [dana.email]
    assert f"We received your case {case.display_number}." in mine.body_text
    assert others.to == [dc2.email]
    assert f"Dana Doe opened case {case.display_number}." in others.body_text
    assert "your case" not in others.body_text.split("\n", 1)[0].lower()


def test_the_case_page_no_longer_says_you_confirmed_to_everyone():
    # DOMAIN N-1: the next step of a confirmed solution reads rightly for any reader
    assert "You confirmed" not in emails.NEXT_STEP["problem_resolved"]


# --- [Action needed] in the subject of an email that asks the customer to act -----------------


@pytest.mark.parametrize("service", ["case_request_info", "case_propose_solution"])
def test_an_email_that_asks_for_action_says_so_in_its_subject(org_a, dc_a, ro_a, analyst, service):
    # DOMAIN N-1, N-2, F-1: designated contacts only; the case part and the token stay
    ro_a.email_all_cases = True
    ro_a.save(update_fields=["email_all_cases"])
    case = make_case(org_a, dc_a, "investigation")

    with scopes_disabled():
        getattr(services, service)(
            case=case, actor=analyst, body="Please do X.", channel=Channel.ADMIN, now=NOW
        )

    (row,) = rows(case)
    token = references.reference_token(case)
    assert row.subject == f"[Action needed] [Case {case.display_number}] {case.subject} [{token}]"
    assert row.audience == OutboxEmail.Audience.CASE_DESIGNATED_CONTACTS
    assert row.to == [dc_a.email]


def test_an_email_that_only_informs_has_no_action_prefix(org_a, dc_a, analyst):
    # DOMAIN N-1
    case = make_case(org_a, dc_a, "investigation", priority="medium")

    with scopes_disabled():
        services.case_post_update(case=case, actor=analyst, body="Looking.", now=NOW)
        services.case_restore_service(
            case=case, actor=analyst, pending="rca", channel=Channel.ADMIN, now=NOW
        )
        services.case_change_priority(
            case=case, actor=analyst, priority="high", channel=Channel.ADMIN, now=NOW
        )
        services.case_resolve(case=case, actor=analyst, channel=Channel.ADMIN, now=NOW)

    assert len(rows(case)) == 4
    for row in rows(case):
        assert row.subject.startswith(f"[Case {case.display_number}] ")
        assert row.audience == OutboxEmail.Audience.CASE_READERS


def test_the_longest_subject_keeps_the_action_prefix_and_the_token(org_a, dc_a, analyst):
    # DOMAIN N-2: a case subject of the longest length fits whole, prefix and token both
    case = make_case(org_a, dc_a, "investigation", subject="y" * 200)

    with scopes_disabled():
        services.case_request_info(
            case=case, actor=analyst, body="Logs?", channel=Channel.ADMIN, now=NOW
        )

    (row,) = rows(case)
    token = references.reference_token(case)
    assert row.subject == f"[Action needed] [Case {case.display_number}] {'y' * 200} [{token}]"
    assert len(row.subject) == 255
    assert references.case_number_from_reply(subject="Re: " + row.subject, message_ids=[]) == (
        case.number
    )


def test_a_labelled_subject_is_shortened_before_the_token(org_a, dc_a):
    # DOMAIN N-2: with a label the case subject gives way, never the token
    case = make_case(org_a, dc_a, "investigation", subject="y" * 200)

    subject = emails.subject_for(case, "Escalation not accepted", action=True)

    assert len(subject) == 255
    assert subject.startswith(f"[Action needed] [Case {case.display_number}] Escalation not")
    assert subject.endswith(f"y… [{references.reference_token(case)}]")


# --- links follow SITE_URL; replies go to the inbound address ---------------------------------


def test_links_follow_site_url(org_a, dc_a, settings, worker, django_capture_on_commit_callbacks):
    # Issue 13: `make run` on another port links to that port, not localhost:8000
    settings.SITE_URL = "http://127.0.0.1:8123"

    with django_capture_on_commit_callbacks(execute=True):
        case = open_case(dc_a, org_a, now=NOW)

    link = f"http://127.0.0.1:8123/cases/{case.display_number}/"
    (sent,) = mail.outbox
    assert link in sent.body
    assert f'href="{link}"' in sent.alternatives[0][0]
    assert "localhost:8000" not in sent.body + sent.alternatives[0][0]


def test_a_case_email_is_answered_to_the_inbound_address(
    org_a, dc_a, settings, worker, django_capture_on_commit_callbacks
):
    # DOMAIN N-3
    settings.INBOUND_ADDRESS = "replies@inbound.example"

    with django_capture_on_commit_callbacks(execute=True):
        open_case(dc_a, org_a, now=NOW)

    (sent,) = mail.outbox
    assert sent.reply_to == ["replies@inbound.example"]


def test_service_level_alerts_go_to_care_only(org_a, dc_a, analyst, manager, settings):
    # DOMAIN S-6, N-1: an SLA alert is care's; no customer receives it, and its link
    # follows SITE_URL
    from cases.sla.sweep import sla_sweep

    settings.SITE_URL = "http://127.0.0.1:8123"
    case = open_case(dc_a, org_a, now=NOW, priority="high")

    sla_sweep(now=NOW + timedelta(days=3))

    with scopes_disabled():
        alerts = list(OutboxEmail.unscoped.filter(idempotency_key__startswith="sla-"))
    assert alerts
    for alert in alerts:
        assert alert.to == [manager.email]
        assert alert.audience == OutboxEmail.Audience.NONE
        assert "http://127.0.0.1:8123/" in alert.body_text
        assert case.display_number in alert.subject
