"""Helpers shared by the follow-up tests: the two calendars of the golden tests, the care
request and customer response as the portal makes them, and what the sweep left behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from cases import services
from cases.models import Case, CaseEvent, Channel
from core.outbox.models import OutboxEmail
from core.tenancy import scopes_disabled
from followups.models import FollowUpStep, FollowUpTimer
from followups.sweep import Outcome
from tests.cases import acting_as

REQUEST = "Please send the call logs of a failed transfer."

# Due times of a request at tests.cases.NOW (Monday 2 March 2026, 10:00 UTC) for an
# organization without a calendar: Monday to Friday in UTC (B-1 defaults).
R1 = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # 2 business days
R2 = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # 5
CLOSE = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # 10


def ask(case: Case, analyst, *, now: datetime, propose: bool = False) -> Case:
    """Care asks the customer for information (or proposes a solution): F-1."""
    service = services.case_propose_solution if propose else services.case_request_info
    with acting_as(analyst):
        return service(case=case, actor=analyst, body=REQUEST, channel=Channel.ADMIN, now=now)


def respond(case: Case, contact, *, now: datetime, channel: str = Channel.PORTAL):
    with acting_as(contact):
        return services.case_post_update(
            case=case, actor=contact, body="Logs attached.", channel=channel, now=now
        )


def timers(case: Case) -> list[FollowUpTimer]:
    with scopes_disabled():
        return list(FollowUpTimer.unscoped.filter(case_id=case.pk).order_by("started_at", "id"))


def active_timer(case: Case) -> FollowUpTimer | None:
    with scopes_disabled():
        return FollowUpTimer.unscoped.filter(case_id=case.pk, stopped_at__isnull=True).first()


def steps(case: Case) -> list[tuple[int, int]]:
    """(timer, step) pairs performed for the case, in order."""
    with scopes_disabled():
        return list(
            FollowUpStep.unscoped.filter(timer__case_id=case.pk)
            .order_by("timer_id", "step")
            .values_list("timer_id", "step")
        )


def followup_emails(case: Case) -> list[OutboxEmail]:
    with scopes_disabled():
        return list(
            OutboxEmail.unscoped.filter(
                case_id=case.pk, idempotency_key__startswith="followup-"
            ).order_by("created_at", "id")
        )


def followup_events(case: Case) -> list[CaseEvent]:
    with scopes_disabled():
        return list(
            CaseEvent.unscoped.filter(case_id=case.pk, kind=CaseEvent.Kind.FOLLOW_UP).order_by(
                "created_at", "id"
            )
        )


def slowed(step: Callable[..., Outcome], *, seconds: float) -> Callable[..., Outcome]:
    """The sweep's per-step function, then a pause inside the step's transaction: the fault
    and concurrency tests use it to keep sweeps busy at the same time, or to catch a worker
    in the middle of a step."""

    def slow_step(**kwargs: object) -> Outcome:
        outcome = step(**kwargs)
        time.sleep(seconds)
        return outcome

    return slow_step
