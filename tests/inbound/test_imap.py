"""The IMAP transport against a real IMAP server (dovecot, started by the fixture): every
message is stored before it moves, and a message is never posted twice (N-3)."""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from unittest import mock

import pytest
from django.core.cache import cache

from accounts.models import AccessLevel
from cases.models import CaseUpdate
from cases.references import reference_token, thread_id
from core.tenancy import scopes_disabled
from inbound import imap, tasks
from inbound.imap import ImapConfigError, imap_poll, parse_imap_url
from inbound.models import InboundMessage
from tests.factories import member_of, open_case
from tests.inbound.dovecot import dovecot, dovecot_server, lone_dovecot  # noqa: F401

pytestmark = pytest.mark.django_db

PROCESSED = "Processed"


@pytest.fixture
def case(org_a):
    contact = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dana@org-a.example")
    return open_case(contact, org_a)


def reply(case, body: str = "It works again since this morning, thank you.") -> bytes:
    """A customer's answer to a case email, as a mail client writes it."""
    message = EmailMessage()
    message["From"] = "Dana Doe <dana@org-a.example>"
    message["To"] = "care@support-portal.example"
    message["Subject"] = f"Re: [Case {case.number:08d}] {case.subject} [{reference_token(case)}]"
    message["Message-ID"] = make_msgid(domain="mail.org-a.example")
    message["In-Reply-To"] = thread_id(case)
    message["References"] = thread_id(case)
    message.set_content(body)
    return message.as_bytes(policy=SMTP)  # CRLF line ends, as on the wire


def posted_updates(case) -> int:
    with scopes_disabled():
        return CaseUpdate.objects.filter(case=case, body__contains="works again").count()


def poll(server, **kwargs):
    kwargs.setdefault("processed_folder", PROCESSED)
    return imap_poll(url=server.url(), **kwargs)


# --- the address -------------------------------------------------------------------------


def test_the_url_is_decoded_and_names_its_defaults():
    box = parse_imap_url("imaps://care%40example.com:p%40ss%2Fw%20rd@mail.example.com/Support")
    assert (box.secure, box.host, box.port) == (True, "mail.example.com", 993)
    assert (box.user, box.password, box.folder) == ("care@example.com", "p@ss/w rd", "Support")
    plain = parse_imap_url("imap://u:p@127.0.0.1:1143")
    assert (plain.secure, plain.port, plain.folder) == (False, 1143, "INBOX")
    assert "p@ss" not in str(box)  # log lines name the mailbox without its password


@pytest.mark.parametrize("url", ["pop3://u:p@host/", "imaps://host/INBOX", "imap://u:p@h:x/"])
def test_an_unusable_url_is_refused(url):
    with pytest.raises(ImapConfigError):
        parse_imap_url(url)


def test_imaps_verifies_the_server_certificate_and_names_a_timeout():
    with mock.patch.object(imap.imaplib, "IMAP4_SSL") as connect:
        connect.return_value.login.side_effect = imap.imaplib.IMAP4.error(b"stop here")
        result = imap_poll(url="imaps://u:p@mail.example.com/INBOX", processed_folder="Done")

    assert "stop here" in result.error
    (host, port), kwargs = connect.call_args
    assert (host, port, kwargs["timeout"]) == ("mail.example.com", 993, imap.SOCKET_TIMEOUT)
    context = kwargs["ssl_context"]
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    connect.return_value.logout.assert_called_once()


@pytest.mark.parametrize("processed", ["", "INBOX", "inbox"])
def test_the_processed_folder_must_be_another_folder(processed, caplog):
    result = imap_poll(url="imap://u:p@127.0.0.1:1/INBOX", processed_folder=processed)

    assert "other than the one polled" in result.error and result.seen == 0
    assert "nothing polled" in caplog.text


# --- against dovecot -----------------------------------------------------------------------


def test_delivered_messages_are_posted_once_and_moved(dovecot, case):  # noqa: F811
    # DOMAIN N-3: stored, posted to the case, then moved to the processed folder.
    dovecot.deliver(reply(case))
    dovecot.deliver(b"From: someone@else.example\r\nSubject: hello\r\n\r\nno reference\r\n")

    result = poll(dovecot)

    assert (result.seen, result.stored, result.moved, result.error) == (2, 2, 2, "")
    assert posted_updates(case) == 1
    assert InboundMessage.objects.filter(transport="imap").count() == 2
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages(PROCESSED)) == 2
    # Nothing left to do: a second poll reads nothing and posts nothing.
    assert poll(dovecot).seen == 0
    assert posted_updates(case) == 1


def test_a_crash_between_post_and_move_posts_nothing_twice(dovecot, case):  # noqa: F811
    # DOMAIN N-3: the move comes after the commit; the next poll re-reads the message and
    # the Message-ID dedup stores and posts it once.
    raw = reply(case)
    dovecot.deliver(raw)
    with (
        mock.patch.object(imap, "move_message", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        poll(dovecot)
    assert posted_updates(case) == 1
    assert dovecot.messages("INBOX") == [raw]  # still there, unseen

    result = poll(dovecot)

    assert (result.seen, result.moved) == (1, 1)
    assert posted_updates(case) == 1
    assert InboundMessage.objects.count() == 1
    assert dovecot.messages("INBOX") == []
    assert dovecot.messages(PROCESSED) == [raw]


def test_a_message_that_could_not_be_stored_stays_unseen_in_the_inbox(dovecot, case):  # noqa: F811
    # DOMAIN N-3: nothing received is lost; the next poll stores it.
    dovecot.deliver(reply(case))
    failing = mock.Mock(side_effect=RuntimeError("database away"))

    result = poll(dovecot, receive=failing)

    assert (result.seen, result.stored, result.failed) == (1, 0, 1)
    assert len(dovecot.messages("INBOX")) == 1
    conn = dovecot.connect()
    conn.select("INBOX", readonly=True)
    _, flags = conn.uid("FETCH", "1:*", "(FLAGS)")
    conn.logout()
    assert b"\\Seen" not in flags[0]
    assert posted_updates(case) == 0

    assert poll(dovecot).moved == 1
    assert posted_updates(case) == 1


def test_polling_stops_after_several_store_failures_in_a_row(dovecot):  # noqa: F811
    for n in range(5):
        dovecot.deliver(f"Subject: {n}\r\nMessage-ID: <{n}@x.example>\r\n\r\nx\r\n".encode())
    failing = mock.Mock(side_effect=RuntimeError("database away"))

    result = poll(dovecot, receive=failing)

    assert failing.call_count == imap.MAX_STORE_FAILURES
    assert result.error
    assert len(dovecot.messages("INBOX")) == 5


@pytest.mark.parametrize("capabilities", [{"UIDPLUS"}, set()], ids=["uid-expunge", "expunge"])
def test_servers_without_move_get_copy_delete_expunge(dovecot, case, capabilities):  # noqa: F811
    dovecot.deliver(reply(case))
    with mock.patch.object(imap, "_capabilities", return_value={"IMAP4REV1", *capabilities}):
        result = poll(dovecot, processed_folder="Portal Done")

    assert result.moved == 1
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Portal Done")) == 1
    assert posted_updates(case) == 1


def test_each_poll_takes_a_bounded_number_of_messages_oldest_first(dovecot):  # noqa: F811
    for n in range(3):
        dovecot.deliver(f"Subject: {n}\r\nMessage-ID: <{n}@x.example>\r\n\r\nx\r\n".encode())

    assert poll(dovecot, limit=2).moved == 2

    assert [m.split(b"\r\n")[0] for m in dovecot.messages("INBOX")] == [b"Subject: 2"]
    assert set(InboundMessage.objects.values_list("subject", flat=True)) == {"0", "1"}


def test_a_bad_login_logs_an_error_and_raises_nothing(lone_dovecot, caplog, settings):  # noqa: F811
    server = lone_dovecot
    settings.INBOUND_IMAP_URL = server.url(password="wrong-secret")
    caplog.set_level(logging.INFO, logger="inbound")

    assert tasks.poll_imap() == 0  # what beat sees: no exception

    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"polling imap://{server.user}@127.0.0.1:{server.port}/INBOX failed" in error
    assert "AUTHENTICATIONFAILED" in error
    assert "wrong-secret" not in caplog.text and server.password not in caplog.text


def test_a_server_that_is_not_there_logs_an_error_and_raises_nothing(caplog, dovecot):  # noqa: F811
    url = dovecot.url().replace(f":{dovecot.port}/", ":1/")  # nothing listens on port 1
    caplog.set_level(logging.ERROR, logger="inbound")

    result = imap_poll(url=url, processed_folder=PROCESSED, timeout=2)

    assert result.error and result.stored == 0
    assert "polling" in caplog.text and dovecot.password not in caplog.text


# --- the task ------------------------------------------------------------------------------


def test_the_task_polls_the_configured_mailbox(dovecot, case, settings):  # noqa: F811
    settings.INBOUND_IMAP_URL = dovecot.url()
    settings.INBOUND_IMAP_PROCESSED_FOLDER = "Handled"
    dovecot.deliver(reply(case))

    assert tasks.poll_imap() == 1

    assert posted_updates(case) == 1
    assert len(dovecot.messages("Handled")) == 1


def test_the_task_does_nothing_without_a_mailbox(settings):
    settings.INBOUND_IMAP_URL = ""
    with mock.patch.object(tasks, "imap_poll") as polled:
        assert tasks.poll_imap() == 0
    polled.assert_not_called()


def test_two_ticks_never_poll_the_mailbox_at_once(settings):
    settings.INBOUND_IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    with mock.patch.object(tasks, "imap_poll") as polled:
        with tasks.mailbox_lock("imap") as held:
            assert held
            assert tasks.poll_imap() == 0
        polled.assert_not_called()
        polled.return_value = imap.PollResult(stored=2)
        assert tasks.poll_imap() == 2  # the lock is free again
    assert cache.get("inbound:lock:imap") is None
