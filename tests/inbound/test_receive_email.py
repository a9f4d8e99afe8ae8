"""``manage.py receive_email``: what an MTA's pipe transport runs (N-3, N-4). Exit 0 once the
message is stored, refusals included; 75 (EX_TEMPFAIL) only when it could not be stored,
so the MTA keeps it and delivers it again."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from inbound import services
from inbound.models import InboundMessage
from tests.cases import make_case
from tests.inbound.test_services import answers, email_reply, media, updates

__all__ = ["media"]  # the module's attachments go to the test's own folder

ROOT = Path(__file__).resolve().parents[2]


def pipe(monkeypatch, raw: bytes, *args: str) -> None:
    """Run the command with ``raw`` on standard input, as the MTA does."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("receive_email", *args)


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


def test_the_same_message_piped_twice_posts_once(monkeypatch, case):
    # DOMAIN N-3: the MTA may deliver again after a timeout; the second delivery is a no-op
    raw = email_reply(case, message_id="<twice@client.example>")

    pipe(monkeypatch, raw)
    pipe(monkeypatch, raw)

    [message] = InboundMessage.objects.all()
    assert (message.transport, message.outcome) == ("pipe", "posted")
    assert len(updates(case)) == 1


def test_a_refusal_is_a_successful_delivery(monkeypatch, case):
    # DOMAIN N-3: stored and answered by the portal; the MTA must not bounce it too
    pipe(monkeypatch, email_reply(case, sender="eve@elsewhere.example"))

    assert InboundMessage.objects.get().outcome == "refused"
    assert len(answers()) == 1 and updates(case) == []


def test_the_transport_can_be_named(monkeypatch, db):
    pipe(monkeypatch, email_reply(None), "--transport", "maildir")

    assert InboundMessage.objects.get().transport == "maildir"


def test_a_message_that_cannot_be_stored_asks_the_mta_to_retry(monkeypatch, db):
    # DOMAIN N-3: nothing received is lost
    def unavailable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(services, "_store", unavailable)

    with pytest.raises(CommandError) as refused:
        pipe(monkeypatch, email_reply(None))

    assert refused.value.returncode == 75
    assert "could not be stored" in str(refused.value)
    assert not InboundMessage.objects.exists()


def test_an_empty_input_is_refused_as_bad_data(monkeypatch, db):
    with pytest.raises(CommandError) as refused:
        pipe(monkeypatch, b"\n")

    assert refused.value.returncode == 65


def test_the_command_exits_75_with_a_short_message_when_the_database_is_down(tmp_path):
    # DOMAIN N-3: the exit status the MTA sees, from a real process
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # Nothing listens on port 1: the store fails as in an outage.
        "DATABASE_URL": "postgres://portal@127.0.0.1:1/portal",
        "LOG_LEVEL": "CRITICAL",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "receive_email"],
        input=email_reply(None),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )

    assert result.returncode == 75, result.stderr
    stderr = result.stderr.decode()
    assert stderr.startswith("CommandError: The message could not be stored (OperationalError")
    assert len(stderr.splitlines()) == 1
