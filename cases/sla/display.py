"""What people are shown of the service levels (S-5, S-8): labels, the API's ``sla`` block
and the rows of the case page's panel, all from the values stored on the case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.models import SupportLevel
from accounts.selectors import business_calendar_for
from cases.models import CLOSED_SUB_STATUSES, Case, CaseType
from cases.sla.clock import BUSINESS_DAYS, BUSINESS_HOURS, UTC_CALENDAR, Target
from cases.sla.targets import RCA, RESOLUTION, RESPONSE, RESTORATION, targets_for

TARGET_LABELS = {
    RESPONSE: "First response",
    RESOLUTION: "Resolution",
    RESTORATION: "Service restoration",
    RCA: "Root cause analysis",
}
SR_LABELS = {RESPONSE: "Acknowledgement", RESOLUTION: "Accepted or rejected"}


def target_label(case: Case, name: str) -> str:
    if case.type == CaseType.SERVICE_REQUEST and name in SR_LABELS:
        return SR_LABELS[name]
    return TARGET_LABELS.get(name, name)


def duration_words(seconds: float, kind: str = "") -> str:
    """ "2 hours", "1 business hour 30 minutes", "15 minutes"."""
    minutes = max(0, round(seconds / 60))
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} {kind}hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} {kind if not hours else ''}minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def describe_target(target: Target) -> str:
    """The target's length in words: "2 business days", "4 business hours", "1 hour"."""
    if target.unit == BUSINESS_DAYS:
        return f"{target.days} business day{'s' if target.days != 1 else ''}"
    if target.unit == BUSINESS_HOURS:
        return duration_words(target.hours.total_seconds(), "business ")
    return duration_words(target.hours.total_seconds())


def shows_response(case: Case) -> bool:
    """S-5: a CARE organization is shown no response target."""
    return case.organization.support_level != SupportLevel.CARE


def sla_summary(case: Case) -> dict[str, Any]:
    """The API's ``sla`` block: stored values only; null where a target does not apply."""
    response = shows_response(case)
    paused = case.sla_paused_since is not None and case.sub_status not in CLOSED_SUB_STATUSES
    return {
        "response_due_at": case.response_due_at if response else None,
        "response_met": case.response_met if response else None,
        "resolution_due_at": case.resolution_due_at,
        "resolution_met": case.resolution_met,
        "paused": paused,
        "paused_since": case.sla_paused_since if paused else None,
    }


@dataclass(frozen=True)
class SlaRow:
    """One target as the case page shows it."""

    key: str
    label: str
    target: str
    due_at: datetime | None
    met: bool | None
    paused_since: datetime | None = None
    left: str = ""
    done_at: datetime | None = None
    note: str = ""


def sla_rows(case: Case) -> list[SlaRow]:
    """The targets that apply to the case, from the stored values (S-8): due times, met or
    not, and whether the resolution clock is paused, since when and how much is left."""
    targets = targets_for(
        case_type=case.type,
        priority=case.priority,
        support_level=case.organization.support_level,
    )
    rows = []
    if targets.restoration is not None and case.restoration_due_at is not None:
        met = None if case.restored_at is None else case.restored_at <= case.restoration_due_at
        rows.append(
            SlaRow(
                RESTORATION,
                target_label(case, RESTORATION),
                describe_target(targets.restoration),
                case.restoration_due_at,
                met,
                done_at=case.restored_at,
            )
        )
    if targets.response is not None and (case.response_due_at or case.response_met is not None):
        unanswered = case.response_met is None and case.sub_status in CLOSED_SUB_STATUSES
        rows.append(
            SlaRow(
                RESPONSE,
                target_label(case, RESPONSE),
                describe_target(targets.response),
                case.response_due_at,
                case.response_met,
                done_at=case.first_response_at,
                note="Not measured: the case was closed before it was due." if unanswered else "",
            )
        )
    if targets.resolution is not None:
        paused = case.sla_paused_since is not None and case.sub_status not in CLOSED_SUB_STATUSES
        left = ""
        if paused:
            target = targets.resolution
            cal = business_calendar_for(case.organization_id) if target.business else UTC_CALENDAR
            seconds = max(0.0, target.seconds(cal) - case.resolution_consumed_seconds)
            left = duration_words(seconds, "business " if target.business else "")
        rows.append(
            SlaRow(
                RESOLUTION,
                target_label(case, RESOLUTION),
                describe_target(targets.resolution),
                case.resolution_due_at,
                case.resolution_met,
                paused_since=case.sla_paused_since if paused else None,
                left=left,
            )
        )
    if targets.rca is not None and case.rca_due_at is not None:
        met = None if case.rca_delivered_at is None else case.rca_delivered_at <= case.rca_due_at
        rows.append(
            SlaRow(
                RCA,
                target_label(case, RCA),
                describe_target(targets.rca),
                case.rca_due_at,
                met,
                done_at=case.rca_delivered_at,
            )
        )
    return rows
