"""Run the periodic sweeps once, as of a given time.

Operators use it to catch up after the scheduler was down; tests use it to move time. The
sweeps are the same functions Celery beat runs, and each is safe to repeat.

    python manage.py run_sweeps [--now 2027-04-09T08:00:00Z] [--only followups|sla|outbox]
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cases.sla import sla_sweep
from core.outbox.services import outbox_sweep
from followups.sweep import followup_sweep


def _outbox_until_done(*, now: datetime) -> int:
    """One outbox sweep sends a batch; keep going while batches send something. Failed
    sends move their next attempt past ``now``, so this ends."""
    total = 0
    while sent := outbox_sweep(now=now):
        total += sent
    return total


# In this order: the emails the first two decide go out in the same run.
SWEEPS: dict[str, tuple[Callable[..., int], str]] = {
    "followups": (followup_sweep, "follow-up steps performed"),
    "sla": (sla_sweep, "cases changed service-level state"),
    "outbox": (_outbox_until_done, "emails sent"),
}


def parse_now(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(
            f"--now {value!r} is not an ISO-8601 time; write it like 2027-04-09T08:00:00Z "
            "or 2027-04-09T10:00:00+02:00."
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CommandError(
            f"--now {value!r} has no time zone; add Z (UTC) or an offset such as +02:00."
        )
    return moment


class Command(BaseCommand):
    help = "Run the follow-up, service-level and outbox sweeps once, as of --now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="The time the sweeps run as of, ISO-8601 with a zone (default: now).",
        )
        parser.add_argument(
            "--only", choices=list(SWEEPS), help="Run one sweep instead of all three."
        )

    def handle(self, *args, now: str | None = None, only: str | None = None, **options) -> None:
        moment = parse_now(now) if now is not None else timezone.now()
        for name in [only] if only else SWEEPS:
            sweep, what = SWEEPS[name]
            count = sweep(now=moment)
            self.stdout.write(f"{name}: {count} {what} as of {moment.isoformat()}")
