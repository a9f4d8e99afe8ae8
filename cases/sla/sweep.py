"""The service-level sweep (S-6): marks open cases at risk or breached, once per state, and
tells care.

It only compares stored instants: each open case carries the target whose due time comes
first (``sla_target``, ``sla_next_due_at``) and when it must be looked at next
(``sla_check_at``: when under 25% of the target is left, then the due time), which
``cases.sla.services`` keeps up to date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts import roles
from accounts.models import User
from cases.models import CLOSED_SUB_STATUSES, Case, CaseEvent, Channel, SlaState, Status
from cases.services.history import case_event_record
from cases.sla.display import target_label
from cases.sla.services import LONG_TEXT
from core.outbox.services import outbox_enqueue
from core.tenancy import scopes_disabled

SWEEP_BATCH = 200
_STATE_RANK = {SlaState.OK: 0, SlaState.AT_RISK: 1, SlaState.BREACHED: 2}


def sla_sweep(*, now: datetime, batch_size: int = SWEEP_BATCH) -> int:
    """Mark open cases at risk (under 25% of the target left) or breached, once per state,
    and notify care (S-6); returns how many cases changed state.

    Reads only the cases whose check is due, through the partial index on
    ``sla_check_at``, in batches locked with ``skip_locked`` so two sweeps never handle the
    same case. After an outage a case that passed both thresholds is marked breached
    directly, with one notification. Every handled case leaves the due set (its next check
    is its due time, or none), so the loop ends.
    """
    changed = 0
    managers: list[str] | None = None
    with scopes_disabled():
        while True:
            with transaction.atomic():
                batch = list(
                    Case.unscoped.select_for_update(skip_locked=True, of=("self",))
                    .select_related("organization", "owner")
                    .defer(*LONG_TEXT)
                    .filter(sla_check_at__lte=now)
                    .exclude(status=Status.CLOSED)
                    .order_by("sla_check_at", "pk")[:batch_size]
                )
                for case in batch:
                    state = _sweep_state(case, now)
                    if state is None:
                        continue
                    if managers is None and (case.owner_id is None or not case.owner.is_active):
                        managers = _care_manager_addresses()
                    _notify(case, state, now, managers or [])
                    changed += 1
            if len(batch) < batch_size:
                return changed


def _sweep_state(case: Case, now: datetime) -> str | None:
    """Advance the case's state under the lock; the new state if it changed."""
    due = case.sla_next_due_at
    if due is None or case.sub_status in CLOSED_SUB_STATUSES:
        Case.unscoped.filter(pk=case.pk).update(sla_check_at=None)
        return None
    wanted = SlaState.BREACHED if due <= now else SlaState.AT_RISK
    if _STATE_RANK[wanted] <= _STATE_RANK[SlaState(case.sla_state)]:
        check = None if case.sla_state == SlaState.BREACHED else due
        Case.unscoped.filter(pk=case.pk).update(sla_check_at=check)
        return None
    updates: dict[str, Any] = {"sla_state": wanted}
    if wanted == SlaState.BREACHED:
        updates.update(breached_notified_at=now, sla_check_at=None)
    else:
        updates.update(at_risk_notified_at=now, sla_check_at=due)
    Case.unscoped.filter(pk=case.pk).update(**updates)
    before = case.sla_state
    for field, value in updates.items():
        setattr(case, field, value)
    case_event_record(
        case=case,
        actor=None,
        kind=CaseEvent.Kind.SLA,
        channel=Channel.SYSTEM,
        now=now,
        before={"sla_state": before},
        after={"sla_state": wanted, "target": case.sla_target, "due_at": due.isoformat()},
        internal=True,
    )
    return wanted


def _care_manager_addresses() -> list[str]:
    """Every active care manager. Product groups have no managers of their own yet, so an
    unowned case's alert goes to all of them."""
    return list(
        User.objects.filter(is_active=True, is_staff=True, groups__name=roles.CARE_MANAGER)
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def _notify(case: Case, state: str, now: datetime, managers: list[str]) -> None:
    owned = case.owner_id is not None and case.owner.is_active
    recipients = [case.owner.email] if owned else managers
    due = case.sla_next_due_at
    label = target_label(case, case.sla_target).lower()
    what = "is at risk" if state == SlaState.AT_RISK else "is breached"
    subject = f"[SLA] Case {case.display_number}: {label} target {what}"
    lines = [
        f"Case {case.display_number} ({case.organization.name}): the {label} target {what}.",
        "",
        f"Subject: {case.subject}",
        f"Priority: {case.get_priority_display()}",
        f"Due: {due.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"Status: {case.get_status_display()} · {case.get_sub_status_display()}",
    ]
    if owned:
        lines.append("You own this case.")
    else:
        lines.append(
            "The case has no owner. Product groups have no managers of their own yet, so "
            "every care manager receives this alert."
        )
    link = settings.SITE_URL + reverse("admin:cases_case_change", args=[case.pk])
    lines += ["", f"Open it in the care workspace: {link}"]
    outbox_enqueue(
        organization_id=case.organization_id,
        key=f"sla-{case.pk}-{case.sla_target}-{state}-{due.astimezone(UTC):%Y%m%dT%H%M%S}",
        to=recipients,
        subject=subject,
        text="\n".join(lines) + "\n",
        case_id=case.pk,
        message_id_hint=f"sla-{case.number:08d}",
        now=now,
    )
