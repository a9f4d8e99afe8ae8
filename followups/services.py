"""Automated follow-ups (F-1 … F-7) on business-day timers."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from cases.models import Case


def followup_on_case_change(
    *,
    case: Case,
    changed: set[str],
    before_sub_status: str | None,
    actor: User | None,
    now: datetime,
) -> None:
    """Start or stop the case's follow-up timer (filled in with the follow-up work)."""
