"""``manage.py run_sweeps``: the sweeps once, as of --now."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from tests.cases import NOW, make_case
from tests.followups.helpers import (
    R1,
    ask,
    followup_emails,
    steps,
)


def run(*args: str) -> str:
    out = StringIO()
    call_command("run_sweeps", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def waiting(org_a, dc_a, analyst):
    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW)
    return case


def test_runs_every_sweep_as_of_now(waiting, mailoutbox):
    # DOMAIN F-2, N-5: the reminder decided by the first sweep goes out in the same run
    output = run("--now", "2026-03-04T10:00:00Z")

    assert output.splitlines() == [
        "followups: 1 follow-up steps performed as of 2026-03-04T10:00:00+00:00",
        "sla: 0 cases changed service-level state as of 2026-03-04T10:00:00+00:00",
        "outbox: 2 emails sent as of 2026-03-04T10:00:00+00:00",
    ]
    assert len(steps(waiting)) == 1
    [reminder] = followup_emails(waiting)
    assert reminder.subject in [m.subject for m in mailoutbox]


def test_an_offset_is_honoured(waiting):
    # 11:00 in Berlin on 4 March is 10:00 UTC: due
    run("--now", "2026-03-04T10:59:59+01:00", "--only", "followups")
    assert steps(waiting) == []
    run("--now", "2026-03-04T11:00:00+01:00", "--only", "followups")
    assert len(steps(waiting)) == 1


def test_only_runs_the_one_sweep(waiting):
    output = run("--now", R1.isoformat(), "--only", "followups")

    assert output.startswith("followups: 1 ")
    assert "outbox" not in output
    with scopes_disabled():
        assert OutboxEmail.unscoped.filter(state="sent").count() == 0


def test_without_now_it_runs_as_of_the_clock(waiting):
    # The real clock is long past the due dates of NOW's request.
    output = run("--only", "followups")

    assert output.startswith("followups: 1 ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--now", "next tuesday"], "is not an ISO-8601 time"),
        (["--now", "2026-02-30T10:00:00Z"], "is not an ISO-8601 time"),
        (["--now", "2026-03-04T10:00:00"], "has no time zone"),
        (["--now", ""], "is not an ISO-8601 time"),
        (["--only", "everything"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(waiting, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)

    assert steps(waiting) == []
