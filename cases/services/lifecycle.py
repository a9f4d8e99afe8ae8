"""What follows a change to a case, called explicitly by every service (no signals), in the
service's transaction: service-level due times are recomputed (S-8) and follow-up timers
started or stopped (F-1, F-5)."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from cases.models import Case
from cases.sla.services import sla_on_case_change
from followups.timers import followup_on_case_change


def after_case_change(
    *,
    case: Case,
    changed: set[str],
    before_sub_status: str | None,
    actor: User | None,
    now: datetime,
) -> None:
    """``changed`` names what happened: "opened", "sub_status", "priority", "type",
    "care_public_update", "customer_update"."""
    sla_on_case_change(case=case, changed=changed, before_sub_status=before_sub_status, now=now)
    followup_on_case_change(
        case=case, changed=changed, before_sub_status=before_sub_status, actor=actor, now=now
    )
