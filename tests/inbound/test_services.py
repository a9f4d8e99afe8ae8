"""Receiving email (N-3, N-4): a reply becomes the contact's update once, with the same
effects as a portal update; anyone else is refused and told why, once. The refusals that
concern who may write are in test_services_refusals.py; bounces, retries and answer limits
in test_services_failures.py. ``email_reply`` builds the messages for all three."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.conf import settings
from django.utils.formats import date_format
from django.utils.timezone import localtime

from accounts.models import Membership
from cases.models import Attachment, Case, CaseEvent, CaseUpdate, Channel
from cases.references import reference_token, thread_id
from core.outbox.models import OutboxEmail
from core.outbox.services import outbox_send
from core.tenancy import scopes_disabled
from followups.sweep import followup_sweep
from inbound.models import InboundMessage
from inbound.services import inbound_receive
from tests.cases import NOW, make_case, reload
from tests.followups.helpers import R1, R2, active_timer, ask, followup_emails, steps
from tests.inbound.messages import case_values, load, oversized_message, ten_megabyte_message

Outcome = InboundMessage.Outcome
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def email_reply(
    case: Case | None = None,
    *,
    sender: str = "Dana Doe <dc@org-a.example>",
    body: str = "The logs are attached; the transfer failed at 10:02.",
    subject: str | None = None,
    threaded: bool = True,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    files: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A reply to a case email as a mail client sends it: the case's subject with its
    reference, In-Reply-To/References to the case's thread, the quoted email below."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = settings.INBOUND_ADDRESS
    if subject is None and case is not None:
        subject = f"Re: [Case {case.display_number}] {case.subject} [{reference_token(case)}]"
    message["Subject"] = subject or "A question"
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    if case is not None and threaded:
        message["In-Reply-To"] = thread_id(case)
        message["References"] = thread_id(case)
    for name, value in (headers or {}).items():
        message[name] = value
    quoted = "\n\nOn Mon, 2 Mar 2026, Customer Care wrote:\n> Please send the call logs.\n"
    message.set_content(body + quoted if body else "")
    for name, content_type, data in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def receive(raw: bytes, *, now=NOW) -> InboundMessage:
    return inbound_receive(raw, transport=InboundMessage.Transport.PIPE, now=now)


def updates(case: Case) -> list[CaseUpdate]:
    with scopes_disabled():
        return list(CaseUpdate.unscoped.filter(case_id=case.pk).order_by("created_at", "id"))


def answers() -> list[OutboxEmail]:
    """The automatic answers decided so far."""
    with scopes_disabled():
        return list(
            OutboxEmail.unscoped.filter(idempotency_key__startswith="inbound-").order_by("id")
        )


DANA = "Dana Doe <dc@org-a.example>"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Stored attachments go to a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


# --- posting (N-3) ---------------------------------------------------------------------------


def test_a_reply_becomes_the_contacts_public_update_by_email(case, dc_a):
    # DOMAIN N-3, C-9: the sender's own text, quoted email left out
    message = receive(email_reply(case))

    [update] = updates(case)
    assert (update.author_id, update.channel, update.is_internal) == (dc_a.pk, "email", False)
    assert update.body == "The logs are attached; the transfer failed at 10:02."
    assert (message.outcome, message.case_id, message.update_id) == (
        Outcome.POSTED,
        case.pk,
        update.pk,
    )
    assert (message.organization_id, message.handled_at, message.reason) == (
        case.organization_id,
        NOW,
        "",
    )
    assert answers() == []  # a posted reply needs no answer


@pytest.mark.parametrize(
    "client",
    [
        "gmail_reply",
        "outlook_reply",
        "apple_mail_reply",
        "plain_text_reply",
        "html_only",
        "base64_body",
        "quoted_printable",
        "charset_windows_1252",
    ],
)
def test_replies_from_common_clients_post_the_senders_words_only(case, client):
    # DOMAIN N-3: quoted email and signature removed; the whole text kept on the message
    message = receive(load(client, **case_values(case), FROM=DANA))

    assert message.outcome == Outcome.POSTED, message.reason
    [update] = updates(case)
    assert update.body.strip() and update.author.email == "dc@org-a.example"
    assert not any(line.startswith(">") for line in update.body.splitlines())
    assert "<" not in update.body or "<html" not in update.body.lower()


def test_a_ten_megabyte_attachment_is_posted(case):
    # DOMAIN C-10: under the 25 MB file limit and the 40 MB message limit
    message = receive(ten_megabyte_message(**case_values(case), FROM=DANA))

    assert message.outcome == Outcome.POSTED
    with scopes_disabled():
        attachment = Attachment.unscoped.get(case_id=case.pk)
    assert (attachment.name, attachment.size) == ("capture-10mb.pdf", 10 * 1024 * 1024)


def test_the_same_message_delivered_twice_posts_once(case):
    # DOMAIN N-3: a retried delivery never posts twice
    raw = email_reply(case, message_id="<retried@client.example>")

    first = receive(raw)
    second = receive(raw, now=NOW + timedelta(minutes=5))

    assert second.pk == first.pk and second.outcome == Outcome.POSTED
    assert len(updates(case)) == 1
    assert InboundMessage.objects.count() == 1


def test_a_message_without_message_id_is_deduplicated_by_its_bytes(case):
    # DOMAIN N-3
    raw = email_reply(case).replace(b"Message-ID:", b"X-Old-Message-ID:")

    first, second = receive(raw), receive(raw)

    assert first.pk == second.pk and first.dedup_key.startswith("sha256:")
    assert len(updates(case)) == 1


def test_a_reply_to_a_case_awaiting_the_customer_stops_its_follow_up_timer(case, dc_a, analyst):
    # DOMAIN F-5, N-3, C-8: Customer Responded, and the 2-day reminder is not sent
    ask(case, analyst, now=NOW)
    assert reload(case).sub_status == "info_required"

    message = receive(email_reply(case), now=NOW + timedelta(hours=3))

    assert message.outcome == Outcome.POSTED
    assert reload(case).sub_status == "customer_responded"
    assert active_timer(case) is None
    assert followup_sweep(now=R1) == 0 and followup_sweep(now=R2) == 0
    assert steps(case) == [] and followup_emails(case) == []
    with scopes_disabled():
        transition = CaseEvent.unscoped.get(case_id=case.pk, kind="transition", channel="email")
    assert transition.after["sub_status"] == "customer_responded"


def test_the_reference_in_the_subject_alone_is_enough(case):
    # DOMAIN N-2, N-3: a client that drops In-Reply-To still names the case
    message = receive(email_reply(case, threaded=False))

    assert message.outcome == Outcome.POSTED and len(updates(case)) == 1


def test_a_reply_posts_within_a_query_budget(case, django_assert_max_num_queries):
    # DOMAIN N-3: store, lock, match, check the sender, post: 17 statements on SQLite today
    raw = email_reply(case)
    with django_assert_max_num_queries(20):
        message = receive(raw)

    assert message.outcome == Outcome.POSTED


# --- no reference (N-4) ------------------------------------------------------------------


def test_an_email_without_a_reference_opens_no_case_and_is_answered_once(case):
    # DOMAIN N-4, C-17
    cases_before = Case.unscoped.count()

    message = receive(email_reply(None, subject="New problem: calls drop"))

    assert message.outcome == Outcome.NO_REFERENCE and message.case_id is None
    assert Case.unscoped.count() == cases_before
    [answer] = answers()
    assert answer.to == ["dc@org-a.example"] and answer.organization_id is None
    assert f"{settings.SITE_URL}/cases/new/" in answer.body_text
    assert "opened" in answer.body_text and answer.subject == "Re: New problem: calls drop"


def test_a_forged_token_is_no_reference(case):
    # DOMAIN N-2, N-4: a case number with a token that is not its own names no case
    subject = f"Re: [Case {case.display_number}] Hello [ref:{'a' * 16}]"
    forged_thread = f"<case-{case.number:08d}.{'b' * 16}@{thread_id(case).split('@')[1]}"

    message = receive(email_reply(None, subject=subject, headers={"In-Reply-To": forged_thread}))

    assert message.outcome == Outcome.NO_REFERENCE and message.case_id is None
    assert updates(case) == []


def test_the_answer_threads_with_the_senders_message_and_is_marked_automatic(case):
    # DOMAIN N-4 (RFC 3834: Auto-Submitted, In-Reply-To, "Re:")
    receive(email_reply(None, subject="Hello", message_id="<m1@client.example>"))

    [answer] = answers()
    assert answer.headers["Auto-Submitted"] == "auto-replied"
    assert answer.headers["In-Reply-To"] == "<m1@client.example>"
    assert answer.headers["References"] == "<m1@client.example>"
    assert answer.subject == "Re: Hello" and answer.body_html


# --- closed cases (C-12) ----------------------------------------------------------------------


def test_a_reply_to_a_closed_case_posts_nothing_reopens_nothing_and_says_how_to_reopen(org_a, dc_a):
    # DOMAIN C-12, N-3: closed a day ago, reopenable in the portal for 29 more days
    closed = make_case(org_a, dc_a, "resolved")

    message = receive(email_reply(closed))

    assert message.outcome == Outcome.REFUSED and "closed" in message.reason
    assert updates(closed) == [] and reload(closed).sub_status == "resolved"
    [answer] = answers()
    assert answer.case_id == closed.pk and answer.organization_id == org_a.pk
    assert "reopen the case in the portal until" in answer.body_text
    assert f"/cases/{closed.number:08d}/" in answer.body_text


def test_a_reply_to_a_case_closed_over_30_days_ago_says_to_open_a_new_case(org_a, dc_a):
    # DOMAIN C-12: the answer says until when reopening was possible
    closed = make_case(org_a, dc_a, "resolved")
    deadline = localtime(reload(closed).closed_at + timedelta(days=30))

    receive(email_reply(closed), now=NOW + timedelta(days=30))

    [answer] = answers()
    assert "can no longer be reopened" in answer.body_text
    assert "more than 30 days" not in answer.body_text  # closed 30 days ago exactly
    until = f"could be reopened until\n{date_format(deadline, 'j F Y, H:i T')}"
    assert until in answer.body_text
    assert date_format(deadline, "j F Y, H:i T") in answer.body_html
    assert f"{settings.SITE_URL}/cases/new/" in answer.body_text
    assert reload(closed).sub_status == "resolved"


# --- size, text and files (C-10) ----------------------------------------------------------


def test_an_oversized_message_is_stored_not_posted_and_the_sender_told_the_limit(case, settings):
    # DOMAIN N-3, C-10
    settings.INBOUND_MAX_BYTES = 2 * 1024 * 1024
    raw = oversized_message(limit=settings.INBOUND_MAX_BYTES, **case_values(case), FROM=DANA)

    message = receive(raw)

    assert message.outcome == Outcome.REFUSED and "limit" in message.reason
    assert message.sender == "dc@org-a.example" and message.size == len(raw)
    assert bytes(InboundMessage.objects.get(pk=message.pk).raw) == raw  # kept whole
    assert updates(case) == []
    [answer] = answers()
    assert "larger than the 2 MB" in answer.body_text


def test_accepted_files_are_posted_and_refused_ones_named_in_one_answer(case):
    # DOMAIN C-10, N-3: the portal's checks; the update goes out with what passed
    files = (
        ("calls.log", "text/plain", b"10:02 transfer failed\n"),
        ("screen.png", "image/png", b"not a picture at all"),
        ("tool.exe", "application/octet-stream", b"MZ\x90\x00"),
    )

    message = receive(email_reply(case, files=files))

    assert message.outcome == Outcome.POSTED
    [update] = updates(case)
    with scopes_disabled():
        names = list(Attachment.unscoped.filter(update=update).values_list("name", flat=True))
    assert names == ["calls.log"]
    assert "screen.png" in message.reason and "tool.exe" in message.reason
    [answer] = answers()
    assert "screen.png" in answer.body_text and "tool.exe" in answer.body_text
    assert "does not contain what its name says" in answer.body_text
    assert answer.case_id == case.pk


def test_files_without_text_are_posted_with_a_short_body(case):
    # DOMAIN N-3, C-10
    message = receive(email_reply(case, body="", files=(("shot.png", "image/png", PNG),)))

    assert message.outcome == Outcome.POSTED
    [update] = updates(case)
    assert update.body == "(Attachments sent by email)"


def test_an_email_with_nothing_of_the_senders_own_is_refused_and_answered(case):
    # DOMAIN N-3
    message = receive(email_reply(case, body=""))

    assert message.outcome == Outcome.REFUSED and updates(case) == []
    [answer] = answers()
    assert "no text of your own" in answer.body_text


def test_a_refusal_by_the_case_service_is_told_in_its_words(case):
    # DOMAIN N-3: a domain error (here the text limit) refuses the message, posts nothing
    message = receive(email_reply(case, body="word " * 21_000))

    assert message.outcome == Outcome.REFUSED
    assert message.reason == "The case refused the update: The text is too long."
    assert updates(case) == []
    [answer] = answers()
    assert "The text is too long." in answer.body_text


def test_attachments_posted_by_email_are_stored_like_portal_uploads(case):
    # DOMAIN C-10: sanitised name, type by content
    files = (("../../etc/evil name?.png", "image/png", PNG),)

    receive(email_reply(case, files=files))

    with scopes_disabled():
        attachment = Attachment.unscoped.get(case_id=case.pk)
    assert attachment.name == "evil name.png" and attachment.content_type == "image/png"
    assert attachment.organization_id == case.organization_id


def test_the_update_counts_as_the_cases_last_public_modification(case):
    # DOMAIN C-9
    receive(email_reply(case), now=NOW + timedelta(hours=2))

    assert reload(case).modified_at == NOW + timedelta(hours=2)
    with scopes_disabled():
        event = CaseEvent.unscoped.get(case_id=case.pk, kind="update")
    assert event.channel == Channel.EMAIL and event.internal is False


def test_the_answers_are_sent_as_automatic_replies_and_a_contacts_after_the_access_check(
    org_a, dc_a, mailoutbox
):
    # DOMAIN N-3, N-4, N-5: sent by the outbox after commit; a case's answer only while the
    # sender may still act on the case
    closed = make_case(org_a, dc_a, "resolved")
    receive(email_reply(closed))
    receive(email_reply(None, sender="eve@elsewhere.example", subject="Hello"))

    for answer in answers():
        assert outbox_send(email_id=answer.pk, now=NOW)

    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {"dc@org-a.example", "eve@elsewhere.example"}
    for message in mailoutbox:
        assert message.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "reopen" in by_recipient["dc@org-a.example"].body
    assert by_recipient["eve@elsewhere.example"].subject == "Re: Hello"


def test_a_case_answer_is_withheld_from_a_sender_who_lost_access_before_it_went_out(
    org_a, dc_a, mailoutbox
):
    # DOMAIN N-1, T-6: the answer names the case; the send-time check applies to it too
    closed = make_case(org_a, dc_a, "resolved")
    receive(email_reply(closed))
    Membership.unscoped.filter(user=dc_a).delete()

    [answer] = answers()
    assert outbox_send(email_id=answer.pk, now=NOW) is False
    answer.refresh_from_db()
    assert answer.state == OutboxEmail.State.WITHHELD and mailoutbox == []
