"""What an escalation changes on its case (E-7). The escalation itself, its decisions and its
feed are the escalations app's; the history events they leave are written through
``cases.services.history``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from cases.models import Case
from cases.services.common import lock_case


@transaction.atomic
def case_mark_escalated(*, case: Case, now: datetime) -> Case:
    """The case remembers when the customer last asked for an escalation (E-7): care's
    lists sort and filter by it. The escalation request checks who may ask and records the
    history event; this only keeps the case's own column."""
    case = lock_case(case)
    case.escalated_at = now
    case.save(update_fields=["escalated_at"])
    return case
