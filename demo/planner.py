"""Planning demo and scale cases as paths through the state machine of C-8.

A case's life is planned first, as a path through the state machine (the same moves the
services make, in the same order, with the same history events); ``demo.writer`` then writes
it with bulk inserts, and ``bench/generate.py`` with COPY. ``PATHS`` lists every path the
planner uses; the tests replay each one on the real state machine, so generated data never
holds a case in a state the services could not have reached. Status comes from
``STATUS_OF``; closed cases carry their closure time and reason; ``modified_at`` is the time
of the last public update (C-9).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cases.models import (
    CLOSED_SUB_STATUSES,
    STATUS_OF,
    CaseEvent,
    CaseType,
    Channel,
    ClosureReason,
    Priority,
    Stage,
    SubStatus,
    SubType,
)
from demo.content import (
    ADMIN_TOPICS,
    AGENTS,
    BROWSERS,
    CARE_ASK,
    CARE_PROGRESS,
    CARE_RCA,
    CARE_REDIRECT,
    CARE_RESOLVE,
    CARE_RESTORED,
    CARE_SOLUTION,
    CARE_TAKE,
    CUSTOMER_ANSWER,
    CUSTOMER_CANCEL,
    CUSTOMER_CHASE,
    CUSTOMER_CONFIRM,
    IMPACTS,
    INTERNAL_NOTES,
    PRIVACY_TOPICS,
    QUEUES,
    SERVICE_REQUESTS,
    SITES,
    TOPICS,
)

S = SubStatus


@dataclass
class PlannedUpdate:
    at: datetime
    body: str
    internal: bool
    by_care: bool


@dataclass
class PlannedEvent:
    at: datetime
    kind: str
    by_care: bool | None  # None: the system
    before: dict[str, Any]
    after: dict[str, Any]
    internal: bool = False
    update_index: int | None = None  # the planned update this event reports


@dataclass
class PlannedCase:
    fields: dict[str, Any]  # Case fields except organization, deployment, contact, owner, number
    service_slug: str | None
    owned: bool
    updates: list[PlannedUpdate] = field(default_factory=list)
    events: list[PlannedEvent] = field(default_factory=list)

    @property
    def public_text(self) -> str:
        """What the search document holds: subject, description and public updates."""
        parts = [self.fields["subject"], self.fields["description"]]
        parts.extend(u.body for u in self.updates if not u.internal)
        return "\n".join(parts)


# Every path the planner uses, by final sub-status: the transitions in order (names of
# Case methods, plus ``care_update`` / ``customer_update`` / ``note`` which post to the feed
# without a transition). ``restorable`` paths need a Support case or an Incident.
PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    S.NEW: ((),),
    S.INVESTIGATION: (("take",),),
    S.INFO_REQUIRED: (("take", "request_info"), ("request_info",)),
    S.CUSTOMER_RESPONDED: (
        ("take", "request_info", "customer_respond"),
        ("take", "propose_solution", "customer_respond"),
    ),
    S.PENDING_PERMANENT_SOLUTION: (("take", "restore_service_pending_solution"),),
    S.PENDING_RCA: (("take", "restore_service_pending_rca"),),
    S.SOLUTION_PROPOSED: (
        ("take", "propose_solution"),
        ("take", "restore_service_pending_rca", "deliver_rca"),
    ),
    S.PROBLEM_RESOLVED: (("take", "propose_solution", "confirm_solution"),),
    S.RESOLVED: (
        ("take", "propose_solution", "confirm_solution", "resolve:solution_confirmed"),
        ("take", "propose_solution", "resolve:customer_closed"),
        ("take", "propose_solution", "resolve:resolved_by_care"),
        ("take", "restore_service_pending_rca", "deliver_rca", "resolve:no_customer_response"),
    ),
    S.CANCELLED: (("cancel:customer",), ("take", "request_info", "cancel:care")),
    S.REDIRECTED: (("take", "redirect"),),
}
RESTORING = {"restore_service_pending_solution", "restore_service_pending_rca"}
# Who fires each transition (True: care; False: the customer contact).
CARE_MOVES = {
    "take": True,
    "request_info": True,
    "propose_solution": True,
    "restore_service_pending_solution": True,
    "restore_service_pending_rca": True,
    "deliver_rca": True,
    "redirect": True,
    "confirm_solution": False,
    "customer_respond": False,
}
# How often each final state is drawn for a generated case (open ones weigh more in the
# recent past: see _draw_target).
TARGET_WEIGHTS = {
    S.NEW: 6,
    S.INVESTIGATION: 12,
    S.INFO_REQUIRED: 6,
    S.CUSTOMER_RESPONDED: 5,
    S.PENDING_PERMANENT_SOLUTION: 3,
    S.PENDING_RCA: 3,
    S.SOLUTION_PROPOSED: 6,
    S.PROBLEM_RESOLVED: 3,
    S.RESOLVED: 40,
    S.CANCELLED: 10,
    S.REDIRECTED: 6,
}
_TARGETS = list(TARGET_WEIGHTS)
_WEIGHTS = list(TARGET_WEIGHTS.values())


def path_needs_restorable(path: Sequence[str]) -> bool:
    return any(step in RESTORING for step in path)


def _fill(rng: random.Random, template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def _values(rng: random.Random, opened_at: datetime, service_name: str) -> dict[str, str]:
    return {
        "site": rng.choice(SITES),
        "queue": rng.choice(QUEUES),
        "n": str(rng.choice((2, 3, 5, 8, 12, 20, 35, 60, 120))),
        "when": (opened_at - timedelta(hours=rng.randint(1, 30))).strftime("%Y-%m-%d %H:%M UTC"),
        "browser": rng.choice(BROWSERS),
        "agent": rng.choice(AGENTS),
        "service": service_name,
    }


def _draw_target(rng: random.Random, age: timedelta) -> str:
    # Old cases are mostly closed, recent ones mostly open: a portal's real shape.
    target = rng.choices(_TARGETS, _WEIGHTS)[0]
    if age > timedelta(days=30) and target not in CLOSED_SUB_STATUSES and rng.random() < 0.7:
        target = rng.choice((S.RESOLVED, S.RESOLVED, S.CANCELLED))
    if age < timedelta(days=2) and target in CLOSED_SUB_STATUSES and rng.random() < 0.7:
        target = rng.choice((S.NEW, S.INVESTIGATION))
    return target


def plan_case(
    rng: random.Random,
    *,
    opened_at: datetime,
    now: datetime,
    services: Sequence[tuple[str, str]],
    target: str | None = None,
    chatter: int | None = None,
) -> PlannedCase:
    """Plan one case opened at ``opened_at`` and taken through a path of ``PATHS`` to its
    final sub-status, with every update and history event dated between opening and
    ``now``. ``services`` are (slug, name) pairs; ``chatter`` is the number of extra public
    exchanges while care investigates (default: a few, at random)."""
    if target is None:
        target = _draw_target(rng, now - opened_at)
    path = list(rng.choice(PATHS[target]))
    restorable = path_needs_restorable(path)

    # What the case is about (C-2, C-3): restorable paths are Support cases or Incidents.
    roll = rng.random()
    if restorable or roll < 0.62:
        case_type, sub_type = CaseType.SUPPORT, rng.choice((SubType.PROBLEM, SubType.QUESTION))
        if restorable:
            sub_type = SubType.PROBLEM
    elif roll < 0.84:
        case_type = CaseType.SERVICE_REQUEST
        sub_type = rng.choice(list(SERVICE_REQUESTS))
    elif roll < 0.94:
        case_type = CaseType.ADMIN
        sub_type = ""
    else:
        case_type, sub_type = CaseType.DATA_PRIVACY, ""
    service_slug, service_name = (None, "") if case_type == CaseType.ADMIN else rng.choice(services)
    values = _values(rng, opened_at, service_name)
    if case_type == CaseType.SUPPORT:
        subject_t, description_t = rng.choice(TOPICS.get(service_slug, TOPICS["routing"]))
    elif case_type == CaseType.SERVICE_REQUEST:
        subject_t, description_t = rng.choice(SERVICE_REQUESTS[sub_type])
    elif case_type == CaseType.ADMIN:
        sub_type, subject_t, description_t = rng.choice(ADMIN_TOPICS)
    else:
        subject_t, description_t = rng.choice(PRIVACY_TOPICS)
    priority = rng.choices(
        (Priority.HIGH, Priority.MEDIUM, Priority.LOW), (2, 5, 3) if not restorable else (6, 3, 1)
    )[0]
    fields: dict[str, Any] = {
        "type": case_type,
        "sub_type": sub_type,
        "implementation_stage": (
            rng.choice((Stage.PRODUCTION,) * 4 + (Stage.UAT,))
            if case_type == CaseType.SUPPORT
            else ""
        ),
        "subject": _fill(rng, subject_t, values)[:200],
        "description": _fill(rng, description_t, values),
        "priority": priority,
        "business_impact": _fill(rng, rng.choice(IMPACTS), values),
        "affected_count": int(values["n"]) if sub_type == SubType.PROBLEM else None,
        "external_reference": f"INC{rng.randint(100000, 999999)}" if rng.random() < 0.2 else "",
        "opened_at": opened_at,
        "channel": rng.choices((Channel.PORTAL, Channel.API, Channel.EMAIL), (7, 2, 1))[0],
        "closed_at": None,
        "closure_reason": "",
        "restored_at": None,
        "rca_delivered_at": None,
        "first_response_at": None,
    }
    plan = PlannedCase(fields=fields, service_slug=service_slug, owned=False)

    # The steps: the path, plus feed entries without transitions while care investigates.
    steps: list[str] = list(path)
    if steps and steps[0] == "take":
        extra = chatter if chatter is not None else rng.choice((0, 0, 1, 1, 1, 2, 2, 3))
        talk = []
        for i in range(extra):
            talk.extend(("care_update", "customer_update") if i % 2 == 0 else ("customer_update",))
            if rng.random() < 0.5:
                talk.append("care_update")
        if rng.random() < 0.35:
            talk.insert(rng.randint(0, len(talk)), "note")
        steps[1:1] = talk
    convert = (
        case_type == CaseType.SUPPORT
        and sub_type == SubType.PROBLEM
        and "take" in steps
        and rng.random() < 0.12
    )
    if convert:
        steps.insert(steps.index("take") + 1, "convert_to_incident")

    # When: closed cases lived hours to weeks; open ones are still going.
    span_limit = now - opened_at
    if target in CLOSED_SUB_STATUSES:
        span = min(span_limit, timedelta(hours=rng.uniform(2, 24 * rng.choice((1, 3, 10)))))
    else:
        span = span_limit * rng.uniform(0.3, 0.95)
    n = len(steps)
    offsets = sorted(rng.uniform(0, 1) for _ in range(n))
    times = [opened_at + span * o + timedelta(seconds=i + 1) for i, o in enumerate(offsets)]
    times = [min(t, now) for t in times]

    plan.events.append(
        PlannedEvent(
            opened_at,
            CaseEvent.Kind.OPENED,
            False,
            {},
            {"sub_status": S.NEW, "priority": priority, "type": case_type, "sub_type": sub_type},
        )
    )
    state = S.NEW
    modified_at = opened_at
    case_kind = case_type

    def post(at: datetime, body: str, *, by_care: bool, internal: bool = False) -> int:
        nonlocal modified_at
        plan.updates.append(PlannedUpdate(at, body, internal, by_care))
        if not internal:
            modified_at = at
            if by_care and fields["first_response_at"] is None:
                fields["first_response_at"] = at
        return len(plan.updates) - 1

    def move(at: datetime, to: str, by_care: bool, **extra: Any) -> None:
        nonlocal state
        plan.events.append(
            PlannedEvent(
                at,
                CaseEvent.Kind.TRANSITION,
                by_care,
                {"sub_status": state, "status": STATUS_OF[state]},
                {"sub_status": to, "status": STATUS_OF[to], **extra},
            )
        )
        state = to

    def text(choices: Sequence[str]) -> str:
        return _fill(rng, rng.choice(choices), values)

    for at, step in zip(times, steps, strict=True):
        if step == "take":
            if rng.random() < 0.85:
                post(at, text(CARE_TAKE), by_care=True)
            fields["first_response_at"] = fields["first_response_at"] or at
            move(at, S.INVESTIGATION, True)
            plan.owned = True
            plan.events.append(
                PlannedEvent(
                    at, CaseEvent.Kind.OWNER, True, {"owner": None}, {"owner": "care"}, True
                )
            )
        elif step in ("care_update", "customer_update"):
            by_care = step == "care_update"
            body = text(CARE_PROGRESS if by_care else CUSTOMER_CHASE)
            index = post(at, body, by_care=by_care)
            plan.events.append(
                PlannedEvent(at, CaseEvent.Kind.UPDATE, by_care, {}, {}, update_index=index)
            )
        elif step == "note":
            index = post(at, text(INTERNAL_NOTES), by_care=True, internal=True)
            plan.events.append(
                PlannedEvent(at, CaseEvent.Kind.NOTE, True, {}, {}, True, update_index=index)
            )
        elif step == "convert_to_incident":
            case_kind = CaseType.INCIDENT
            plan.events.append(
                PlannedEvent(
                    at,
                    CaseEvent.Kind.TYPE,
                    True,
                    {"type": CaseType.SUPPORT},
                    {"type": CaseType.INCIDENT},
                )
            )
            if priority != Priority.CRITICAL and rng.random() < 0.5:
                plan.events.append(
                    PlannedEvent(
                        at,
                        CaseEvent.Kind.PRIORITY,
                        True,
                        {"priority": priority},
                        {"priority": Priority.CRITICAL},
                    )
                )
                priority = Priority.CRITICAL
        elif step == "request_info":
            post(at, text(CARE_ASK), by_care=True)
            move(at, S.INFO_REQUIRED, True)
        elif step == "customer_respond":
            index = post(at, text(CUSTOMER_ANSWER), by_care=False)
            plan.events.append(
                PlannedEvent(at, CaseEvent.Kind.UPDATE, False, {}, {}, update_index=index)
            )
            move(at, S.CUSTOMER_RESPONDED, False)
        elif step in RESTORING:
            if rng.random() < 0.8:
                post(at, text(CARE_RESTORED), by_care=True)
            fields["restored_at"] = at
            move(at, S.PENDING_RCA if step.endswith("rca") else S.PENDING_PERMANENT_SOLUTION, True)
        elif step == "deliver_rca":
            post(at, text(CARE_RCA), by_care=True)
            fields["rca_delivered_at"] = at
            move(at, S.SOLUTION_PROPOSED, True)
        elif step == "propose_solution":
            post(at, text(CARE_SOLUTION), by_care=True)
            move(at, S.SOLUTION_PROPOSED, True)
        elif step == "confirm_solution":
            if rng.random() < 0.6:
                post(at, text(CUSTOMER_CONFIRM), by_care=False)
            move(at, S.PROBLEM_RESOLVED, False)
        elif step.startswith("resolve:"):
            reason = step.split(":", 1)[1]
            by_care = reason in (ClosureReason.RESOLVED_BY_CARE, ClosureReason.NO_CUSTOMER_RESPONSE)
            if by_care:
                post(at, text(CARE_RESOLVE), by_care=True)
            elif rng.random() < 0.5:
                post(at, text(CUSTOMER_CONFIRM), by_care=False)
            fields["closed_at"], fields["closure_reason"] = at, reason
            move(at, S.RESOLVED, by_care)
        elif step.startswith("cancel:"):
            by_care = step == "cancel:care"
            if not by_care:
                post(at, text(CUSTOMER_CANCEL), by_care=False)
            fields["closed_at"], fields["closure_reason"] = at, ClosureReason.CANCELLED
            move(at, S.CANCELLED, by_care)
        elif step == "redirect":
            post(at, text(CARE_REDIRECT), by_care=True)
            fields["closed_at"], fields["closure_reason"] = at, ClosureReason.REDIRECTED
            move(at, S.REDIRECTED, True)
        else:  # pragma: no cover - PATHS and the steps above are written together
            raise ValueError(f"Unknown step {step!r}")

    fields["type"] = case_kind
    fields["priority"] = priority
    fields["sub_status"] = state
    fields["status"] = STATUS_OF[state]
    fields["modified_at"] = modified_at
    check_plan(plan)
    return plan


def check_plan(plan: PlannedCase) -> None:
    """The invariants every stored case keeps; a broken plan is a bug, never stored."""
    f = plan.fields
    problems = []
    if f["status"] != STATUS_OF[f["sub_status"]]:
        problems.append("status does not follow the sub-status")
    closed = f["sub_status"] in CLOSED_SUB_STATUSES
    if closed != (f["closed_at"] is not None) or closed != bool(f["closure_reason"]):
        problems.append("closure time and reason must be set exactly for closed cases")
    public = [u.at for u in plan.updates if not u.internal]
    if f["modified_at"] != max(public, default=f["opened_at"]):
        problems.append("modified_at must be the last public update")
    if any(u.internal and not u.by_care for u in plan.updates):
        problems.append("only care writes internal notes")
    if problems:
        raise ValueError(f"Invalid generated case: {'; '.join(problems)}.")
