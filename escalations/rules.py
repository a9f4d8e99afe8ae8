"""Who may escalate a case, and for which reason (E-1 … E-6). Decisions only, no writes.

The same answer serves the service (which refuses), the case page (which disables the
button and says why before anyone types) and the API (which names the rule that refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from accounts.models import User
from accounts.selectors import business_calendar_for
from cases import policy
from cases.models import Case, CaseUpdate, Priority
from core import business_time
from escalations.models import ACTIVE_STATES, Escalation, Reason

RCA_OVERDUE_BUSINESS_DAYS = 5  # E-5
NO_UPDATE_WINDOW = timedelta(hours=24)  # E-6
NO_UPDATE_PRIORITIES = (Priority.HIGH, Priority.CRITICAL)

# What a customer might pick when the urgency or impact changed: not an escalation (E-4).
PRIORITY_CHANGE_WORDS = frozenset(
    {"priority", "priority_change", "urgency", "urgency_change", "impact", "impact_change"}
)
PRIORITY_CHANGE_ADVICE = (
    "A change of urgency or impact is not a reason to escalate: ask for a priority change "
    "by posting an update on the case marked as a priority request. Customer Care decides; "
    "for HIGH or CRITICAL, call Customer Care."
)


@dataclass(frozen=True)
class Refusal:
    rule: str  # the DOMAIN rule that refuses, e.g. "E-3"
    message: str
    offer: str = ""  # what to do instead: "reopen", "priority_request", "view_escalation"


@dataclass(frozen=True)
class Eligibility:
    """Whether the user may escalate the case now, and which reasons are open to them."""

    refusal: Refusal | None
    reasons: dict[str, Refusal | None] = field(default_factory=dict)
    active: Escalation | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def open_reasons(self) -> list[str]:
        return [r for r, refusal in self.reasons.items() if refusal is None]


def active_escalation(case: Case) -> Escalation | None:
    return Escalation.objects.filter(case=case, state__in=ACTIVE_STATES).first()


def last_public_care_update_at(case: Case) -> datetime | None:
    return (
        CaseUpdate.objects.filter(case=case, by_care=True, is_internal=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def rca_overdue_since(case: Case) -> datetime | None:
    """The instant the RCA became overdue for escalation (E-5), or None when there is no
    restored incident waiting for an RCA."""
    if case.restored_at is None or case.rca_delivered_at is not None:
        return None
    calendar = business_calendar_for(case.organization_id)
    return business_time.add_business_days(calendar, case.restored_at, RCA_OVERDUE_BUSINESS_DAYS)


def reason_refusal(case: Case, reason: str, now: datetime) -> Refusal | None:
    """Whether this reason may be given for this case now (E-4, E-5, E-6)."""
    if reason in PRIORITY_CHANGE_WORDS:
        return Refusal("E-4", PRIORITY_CHANGE_ADVICE, "priority_request")
    if reason not in Reason.values:
        choices = ", ".join(f"{r.value} ({r.label})" for r in Reason)
        return Refusal("E-7", f"Choose a reason from the list: {choices}.")
    if reason == Reason.RCA_OVERDUE:
        due = rca_overdue_since(case)
        if case.restored_at is None:
            return Refusal(
                "E-5",
                "“RCA overdue” applies once the service was restored and the root cause "
                "analysis is pending; this case has no restoration.",
            )
        if case.rca_delivered_at is not None:
            return Refusal("E-5", "The root cause analysis of this case was already delivered.")
        if due is not None and now < due:
            return Refusal(
                "E-5",
                "“RCA overdue” applies 5 business days after the service was restored "
                f"without an RCA; that is from {due:%Y-%m-%d %H:%M} UTC.",
            )
    if reason == Reason.NO_UPDATE:
        if case.priority not in NO_UPDATE_PRIORITIES:
            return Refusal("E-6", "“No update” applies to HIGH and CRITICAL cases only.")
        # Silence is counted from the last public care update, or from the opening when
        # care has not written yet: a case opened a minute ago has not gone without news.
        last = last_public_care_update_at(case)
        since = max(last, case.opened_at) if last is not None else case.opened_at
        if now - since < NO_UPDATE_WINDOW:
            return Refusal(
                "E-6",
                "“No update” applies when Customer Care has posted no update for 24 hours; "
                + (
                    f"the last one was at {last:%Y-%m-%d %H:%M} UTC."
                    if last is not None
                    else f"the case was opened at {case.opened_at:%Y-%m-%d %H:%M} UTC."
                ),
            )
    return None


def eligibility(
    user: User,
    case: Case,
    now: datetime,
    *,
    escalations: list[Escalation] | None = None,
    with_reasons: bool = True,
) -> Eligibility:
    """E-1 … E-6 for this user and case at ``now``.

    ``escalations``: the case's escalations when the caller has them already (the case
    page), so the active one is not looked up again. ``with_reasons=False`` leaves out the
    per-reason answers (E-5, E-6), which only the form needs."""
    if not policy.is_designated_contact(user, case):
        message = (
            "Escalations are requested by the customer's designated contacts."
            if user.is_staff
            else "Only a designated contact of the organization can escalate its cases; "
            "your access is read-only."
        )
        return Eligibility(Refusal("T-4", message))
    if case.is_closed:
        deadline = policy.reopen_deadline(case)
        can_reopen = deadline is not None and now <= deadline
        return Eligibility(
            Refusal(
                "E-1",
                "This case is closed: reopen it first, then escalate it if you still need to."
                if can_reopen
                else "This case is closed and can no longer be reopened: open a new case.",
                "reopen" if can_reopen else "",
            )
        )
    if escalations is None:
        active = active_escalation(case)
    else:
        active = next((e for e in escalations if e.is_active), None)
    if active is not None:
        return Eligibility(
            Refusal(
                "E-2",
                f"This case already has an escalation in progress ({active.get_state_display()}"
                f" since {active.requested_at:%Y-%m-%d %H:%M} UTC).",
                "view_escalation",
            ),
            active=active,
        )
    if case.priority == Priority.LOW:
        return Eligibility(
            Refusal(
                "E-3",
                "LOW priority cases cannot be escalated. To have it handled sooner, ask for "
                "MEDIUM priority by posting an update marked as a priority request.",
                "priority_request",
            )
        )
    if not with_reasons:
        return Eligibility(None)
    reasons = {r.value: reason_refusal(case, r.value, now) for r in Reason}
    return Eligibility(None, reasons)
