"""The case history (C-16): the one place that writes ``CaseEvent`` rows.

Every change to a case leaves an event, in the transaction of the change: the case services,
the service-level sweep, the follow-up sweep, escalations and the demo data all write through
here. Events are append-only (the model refuses updates and deletes); this module only inserts.

It imports nothing but the models, so any module that changes a case may call it without
pulling in the rest of the case services.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from accounts.models import User
from cases.models import Case, CaseEvent


def case_event_record(
    *,
    case: Case,
    actor: User | None,
    kind: str,
    channel: str,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    internal: bool = False,
) -> CaseEvent:
    """Record one event of ``case``: who (``actor``, None for the system), when, through
    which channel, what it was before and after. ``internal`` events are shown to care only.

    The tenant comes from the case, never from the caller, so an event is always filed under
    its case's organization."""
    return CaseEvent.unscoped.create(
        organization_id=case.organization_id,
        case=case,
        actor=actor,
        kind=kind,
        channel=channel,
        before=before or {},
        after=after or {},
        internal=internal,
        created_at=now,
    )


def case_events_record_bulk(
    *, events: Iterable[CaseEvent], batch_size: int | None = None
) -> list[CaseEvent]:
    """Insert many new events in a few statements (set-based writers: the demo data).

    The events are built by the caller, one per case change, and must be new: the history
    is append-only."""
    events = list(events)
    for event in events:
        if event.pk is not None:
            raise ValueError("Case history is append-only: events are never changed.")
        if not event.organization_id or not event.case_id:
            raise ValueError("A case event needs its case and the case's organization.")
    return CaseEvent.unscoped.bulk_create(events, batch_size=batch_size)
