"""The service-level rules as tables (S-1 … S-7): which targets a case has, how long each
is, and in which statuses the resolution clock runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from accounts.models import SupportLevel
from cases.models import STATUS_OF, CaseType, Priority, Status
from cases.sla.clock import CALENDAR, Target, business_days, business_hours, calendar_hours

AT_RISK_SHARE = 0.25  # S-6: at risk with under 25% of the target left
GOAL_SHARE = 0.80  # S-6: resolve over 80% of cases within target

# The targets, by name (stored in ``Case.sla_target``).
RESPONSE, RESOLUTION, RESTORATION, RCA = "response", "resolution", "restoration", "rca"

RESPONSE_TARGETS = {  # S-2
    Priority.CRITICAL: calendar_hours(1),
    Priority.HIGH: business_hours(2),
    Priority.MEDIUM: business_hours(4),
    Priority.LOW: business_days(1),
}
# S-5: BUSINESS_CARE_PLUS and PREMIUM answer 50% sooner for CRITICAL, HIGH and MEDIUM.
FAST_RESPONSE_TARGETS = {
    Priority.CRITICAL: calendar_hours(0.5),
    Priority.HIGH: business_hours(1),
    Priority.MEDIUM: business_hours(2),
    Priority.LOW: business_days(1),
}
FAST_RESPONSE_LEVELS = (SupportLevel.BUSINESS_CARE_PLUS, SupportLevel.PREMIUM)
RESOLUTION_TARGETS = {  # S-3
    Priority.CRITICAL: calendar_hours(24),
    Priority.HIGH: business_days(2),
    Priority.MEDIUM: business_days(5),
    Priority.LOW: business_days(10),
}
RESTORATION_TARGET = Target(CALENDAR, hours=timedelta(minutes=15))  # S-4
RCA_TARGET = business_days(5)  # S-4
SR_ACKNOWLEDGEMENT = business_days(1)  # S-7
SR_DECISION = business_days(2)  # S-7
TARGET_TYPES = (CaseType.SUPPORT, CaseType.INCIDENT, CaseType.SERVICE_REQUEST)


@dataclass(frozen=True)
class Targets:
    response: Target | None = None
    resolution: Target | None = None
    restoration: Target | None = None
    rca: Target | None = None

    def of(self, name: str) -> Target | None:
        return getattr(self, name)


def targets_for(*, case_type: str, priority: str, support_level: str) -> Targets:
    """The targets that apply to a case (S-1 … S-5, S-7).

    A CARE organization has no response target at all, service requests' acknowledgement
    included (S-5: "not shown or measured"). The 50% shorter response of S-5 applies to
    the response targets of S-2; a service request's acknowledgement (S-7) does not depend
    on priority and keeps its business day.
    """
    measured = support_level != SupportLevel.CARE
    if case_type == CaseType.SERVICE_REQUEST:
        return Targets(response=SR_ACKNOWLEDGEMENT if measured else None, resolution=SR_DECISION)
    if case_type not in (CaseType.SUPPORT, CaseType.INCIDENT) or priority not in Priority.values:
        return Targets()
    response = None
    if measured:
        table = FAST_RESPONSE_TARGETS if support_level in FAST_RESPONSE_LEVELS else RESPONSE_TARGETS
        response = table[priority]
    incident = case_type == CaseType.INCIDENT
    return Targets(
        response=response,
        resolution=RESOLUTION_TARGETS[priority],
        restoration=RESTORATION_TARGET if incident else None,
        rca=RCA_TARGET if incident else None,
    )


# --- the resolution clock (S-3) ----------------------------------------------------------------

RUNNING, PAUSED, STOPPED = "running", "paused", "stopped"
PAUSED_STATUSES = (Status.AWAITING_INFO, Status.SOLUTION_PROPOSED)  # S-3
ENDING_STATUSES = (Status.SOLUTION_PROPOSED, Status.CLOSED)  # S-3: resolution ends here


def resolution_clock(sub_status: str) -> str:
    """Whether the resolution clock runs, is paused or has stopped in this sub-status."""
    status = STATUS_OF.get(sub_status)
    if status == Status.CLOSED:
        return STOPPED
    if status in PAUSED_STATUSES:
        return PAUSED
    return RUNNING


def ends_resolution(sub_status: str) -> bool:
    """S-3: Solution Proposed or Closed decides whether the resolution target was met."""
    return STATUS_OF[sub_status] in ENDING_STATUSES
