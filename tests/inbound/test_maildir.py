"""The drop-folder transport (a Maildir) and the inbound tasks: every file is stored before
it moves to cur/, and a message is never posted twice (N-3)."""

from __future__ import annotations

import mailbox
import os
import time
from email.message import EmailMessage
from email.utils import make_msgid
from unittest import mock

import pytest
from django.core.cache import cache

from accounts.models import AccessLevel
from cases.models import CaseUpdate
from cases.references import reference_token, thread_id
from config.celery import app
from core.tenancy import scopes_disabled
from inbound import maildir, tasks
from inbound.maildir import maildir_sweep
from inbound.models import InboundMessage
from tests.factories import member_of, open_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org_a):
    contact = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dana@org-a.example")
    return open_case(contact, org_a)


@pytest.fixture
def inbox(tmp_path):
    return tmp_path / "inbox"


def reply(case, body: str = "It works again since this morning, thank you.") -> bytes:
    """A customer's answer to a case email, as a mail client saves it (LF line ends)."""
    message = EmailMessage()
    message["From"] = "Dana Doe <dana@org-a.example>"
    message["To"] = "care@support-portal.example"
    message["Subject"] = f"Re: [Case {case.number:08d}] {case.subject} [{reference_token(case)}]"
    message["Message-ID"] = make_msgid(domain="mail.org-a.example")
    message["In-Reply-To"] = thread_id(case)
    message.set_content(body)
    return message.as_bytes()


def drop(inbox, name: str, raw: bytes, *, age: float = 60.0):
    """Save a file into new/ as a person would, ``age`` seconds ago."""
    (inbox / "new").mkdir(parents=True, exist_ok=True)
    path = inbox / "new" / name
    path.write_bytes(raw)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def posted_updates(case) -> int:
    with scopes_disabled():
        return CaseUpdate.objects.filter(case=case, body__contains="works again").count()


def test_a_missing_maildir_is_created(inbox):
    result = maildir_sweep(path=inbox)

    assert (result.seen, result.error) == (0, "")
    assert all((inbox / sub).is_dir() for sub in ("new", "cur", "tmp"))


def test_a_dropped_reply_is_posted_once_and_moved_to_cur(inbox, case):
    # DOMAIN N-3: stored, posted to the case, then filed in cur/ as read.
    raw = reply(case)
    drop(inbox, "reply.eml", raw)

    result = maildir_sweep(path=inbox)

    assert (result.seen, result.stored, result.moved) == (1, 1, 1)
    assert posted_updates(case) == 1
    assert InboundMessage.objects.get().transport == "maildir"
    assert os.listdir(inbox / "new") == []
    assert os.listdir(inbox / "cur") == ["reply.eml:2,S"]
    # The standard library reads it back as a seen message, bytes unchanged.
    box = mailbox.Maildir(inbox, create=False)
    [(key, message)] = box.items()
    assert message.get_flags() == "S" and box.get_bytes(key) == raw
    assert maildir_sweep(path=inbox).seen == 0


def test_a_malformed_file_is_still_stored(inbox):
    # DOMAIN N-3: nothing received is lost, whatever it is.
    junk = b"\x00\xff this is not an email at all\n"
    drop(inbox, "junk", junk)

    assert maildir_sweep(path=inbox).moved == 1

    assert bytes(InboundMessage.objects.get().raw) == junk


def test_a_crash_between_post_and_move_posts_nothing_twice(inbox, case):
    # DOMAIN N-3: the move comes after the commit; the next sweep reads the file again and
    # the Message-ID dedup stores and posts it once.
    drop(inbox, "reply.eml", reply(case))
    with (
        mock.patch.object(maildir, "move_to_cur", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        maildir_sweep(path=inbox)
    assert posted_updates(case) == 1
    assert os.listdir(inbox / "new") == ["reply.eml"]

    assert maildir_sweep(path=inbox).moved == 1

    assert posted_updates(case) == 1
    assert InboundMessage.objects.count() == 1
    assert os.listdir(inbox / "cur") == ["reply.eml:2,S"]


def test_a_file_that_could_not_be_stored_stays_in_new(inbox, case):
    drop(inbox, "reply.eml", reply(case))
    failing = mock.Mock(side_effect=RuntimeError("database away"))

    result = maildir_sweep(path=inbox, receive=failing)

    assert (result.seen, result.stored, result.failed) == (1, 0, 1)
    assert os.listdir(inbox / "new") == ["reply.eml"]
    assert maildir_sweep(path=inbox).moved == 1
    assert posted_updates(case) == 1


def test_files_still_being_written_and_hidden_files_wait(inbox):
    drop(inbox, "fresh.eml", b"Subject: half a mess", age=0)
    drop(inbox, ".editor-swap", b"Subject: not mine", age=60)
    (inbox / "new" / "a-folder").mkdir()

    assert maildir_sweep(path=inbox).seen == 0

    assert sorted(os.listdir(inbox / "new")) == [".editor-swap", "a-folder", "fresh.eml"]
    assert maildir_sweep(path=inbox, settle_seconds=0).moved == 1  # fresh.eml, later


def test_each_sweep_takes_a_bounded_number_of_files_in_name_order(inbox):
    for n in range(3):
        drop(inbox, f"{n}.eml", f"Subject: {n}\nMessage-ID: <{n}@x.example>\n\nx\n".encode())

    assert maildir_sweep(path=inbox, limit=2).moved == 2

    assert os.listdir(inbox / "new") == ["2.eml"]


def test_an_unreadable_folder_logs_an_error_and_raises_nothing(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    result = maildir_sweep(path=blocker / "inbox")

    assert result.error and "cannot read" in caplog.text


# --- the tasks and their schedule ----------------------------------------------------------


def test_the_task_sweeps_the_configured_folder(inbox, case, settings):
    settings.INBOUND_MAILDIR = str(inbox)
    drop(inbox, "reply.eml", reply(case))

    assert tasks.sweep_maildir() == 1

    assert posted_updates(case) == 1


def test_the_task_does_nothing_without_a_folder(settings):
    settings.INBOUND_MAILDIR = ""
    with mock.patch.object(tasks, "maildir_sweep") as swept:
        assert tasks.sweep_maildir() == 0
    swept.assert_not_called()


def test_two_ticks_never_sweep_the_folder_at_once(inbox, settings):
    settings.INBOUND_MAILDIR = str(inbox)
    with mock.patch.object(tasks, "maildir_sweep") as swept:
        with tasks.mailbox_lock(f"maildir:{inbox}") as held:
            assert held
            assert tasks.sweep_maildir() == 0
        swept.assert_not_called()
        swept.return_value = maildir.SweepResult(stored=3)
        assert tasks.sweep_maildir() == 3
    assert cache.get(f"inbound:lock:maildir:{inbox}") is None


def test_handle_waiting_hands_the_time_to_the_service():
    with mock.patch.object(tasks, "inbound_handle_waiting", return_value=4) as handle:
        assert tasks.handle_waiting() == 4
    assert handle.call_args.kwargs["now"] is not None


def test_beat_polls_the_mailboxes_and_drops_late_runs():
    app.loader.import_default_modules()
    schedule = {e["task"]: e for e in app.conf.beat_schedule.values()}
    for task, every in [
        ("inbound.tasks.poll_imap", 60),
        ("inbound.tasks.sweep_maildir", 30),
        ("inbound.tasks.handle_waiting", 300),
    ]:
        assert task in app.tasks
        assert schedule[task]["schedule"] == every
        assert 0 < schedule[task]["options"]["expires"] < every
