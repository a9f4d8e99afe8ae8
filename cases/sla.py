"""Service levels (S-1 … S-8): due times stored on the case, recomputed on events."""

from __future__ import annotations

from datetime import datetime

from cases.models import Case


def sla_on_case_change(
    *, case: Case, changed: set[str], before_sub_status: str | None, now: datetime
) -> None:
    """Recompute the case's due times after a change (filled in with the SLA work)."""
