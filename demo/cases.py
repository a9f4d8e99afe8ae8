"""Demo and scale data for cases: realistic cases, feeds and history, written in bulk.

A case's life is planned first, as a path through the state machine of C-8 (the same moves
the services make, in the same order, with the same history events), then written with bulk
inserts. ``PATHS`` lists every path the planner uses; the tests replay each one on the real
state machine, so generated data never holds a case in a state the services could not have
reached. Status comes from ``STATUS_OF``; closed cases carry their closure time and reason;
``modified_at`` is the time of the last public update (C-9).

The same planner feeds ``bench/generate.py``, which writes a million cases with COPY.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from cases.models import (
    CLOSED_SUB_STATUSES,
    STATUS_OF,
    Case,
    CaseEvent,
    CaseType,
    CaseUpdate,
    Channel,
    ClosureReason,
    CloudService,
    Priority,
    Stage,
    SubStatus,
    SubType,
)
from cases.numbering import next_case_number

BATCH = 5000
SPREAD_CASES = 40
SPREAD_DAYS = 90
DEMO_ORG_SLUGS = ("acme", "globex", "initech")
CARE_EMAILS = ("analyst@care.example", "manager@care.example")
S = SubStatus

# --- what customers write --------------------------------------------------------------

SITES = ("Berlin", "Austin", "Manila", "Krakow", "Leeds", "Toronto", "Pune", "Dublin")
QUEUES = ("Billing", "Claims", "Sales", "Retention", "Tech Support", "VIP", "Collections")
BROWSERS = ("Chrome 126", "Edge 125", "Firefox 127")

# Per service: (subject, description) templates; {site}, {queue}, {n}, {when}, {browser},
# {agent} and {number} are filled in per case.
TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "agent-desktop": (
        (
            "Agent desktop freezes when accepting a chat in {site}",
            "Since this morning about {n} agents in {site} see the desktop freeze for 20-30 "
            "seconds when they accept a chat from the {queue} queue. Reloading the page "
            "helps for a while. Browser: {browser}. First seen {when}.",
        ),
        (
            "Agents cannot log in: 'Session expired' right after sign-in",
            "Agent {agent} and {n} colleagues get 'Session expired' immediately after "
            "signing in. It works on another PC with the same agent. Browser: {browser}.",
        ),
        (
            "Wrap-up codes missing on the agent desktop",
            "The wrap-up codes for the {queue} queue no longer show on the desktop. Agents "
            "cannot finish their after-call work. Affected since {when}.",
        ),
    ),
    "call-back": (
        (
            "Scheduled call-backs are not placed for the {queue} queue",
            "Customers who asked for a call-back between 9 and 11 were never called. We "
            "count {n} missed call-backs since {when}. The application worked last week.",
        ),
        (
            "Call-back offered outside business hours",
            "The IVR offers call-backs after 18:00 local time in {site}, although the "
            "schedule says the queue closes at 17:00. Example call at {when}.",
        ),
    ),
    "call-recording": (
        (
            "Recordings missing for calls transferred to {queue}",
            "Calls transferred from the main queue to {queue} have no recording after the "
            "transfer. Example call at {when}, agent {agent}. Around {n} calls a day.",
        ),
        (
            "Recording playback stops after 2 minutes",
            "Supervisors in {site} cannot play recordings past the 2-minute mark. Download "
            "works. Browser: {browser}. You may listen to the example calls.",
        ),
        (
            "Screen recording out of sync with audio",
            "The screen recording runs about 40 seconds ahead of the audio for agents in "
            "{site}. This started after the change window on {when}.",
        ),
    ),
    "chat-email-cobrowse": (
        (
            "Emails from customers arrive hours late in the {queue} queue",
            "Emails sent by customers reach agents 2 to 4 hours late. Example sent at "
            "{when}. About {n} emails affected today.",
        ),
        (
            "Co-browse session shows a blank page",
            "When an agent starts co-browse on the checkout page the customer sees a blank "
            "page. Other pages work. Browser: {browser}.",
        ),
        (
            "Chat transcripts not attached to the contact record",
            "Since {when} chat transcripts of the {queue} queue are missing from the contact "
            "history. Agents cannot see previous conversations.",
        ),
    ),
    "configuration-environment": (
        (
            "Cannot save skill changes in the configuration environment",
            "Saving a skill change for agents in {site} fails with 'Validation error 500'. "
            "It worked until {when}. We need to move {n} agents to the {queue} skill.",
        ),
        (
            "New agents not visible in the agent list",
            "We created {n} agents for the {site} site yesterday. They do not appear in the "
            "agent list, so we cannot assign them to the {queue} queue.",
        ),
    ),
    "ivr": (
        (
            "IVR plays the wrong greeting for {site} callers",
            "Callers to the {site} number hear the holiday greeting on a normal working "
            "day. Example call at {when}. Reproducible by calling the main number.",
        ),
        (
            "Callers stuck in the IVR menu loop",
            "Some callers pressing 2 in the main menu return to the main menu instead of "
            "reaching {queue}. About {n} calls an hour since {when}.",
        ),
        (
            "Speech recognition does not understand account numbers",
            "The IVR asks callers to repeat their account number three times and then "
            "drops them to an agent. Started {when}, roughly {n} callers affected.",
        ),
    ),
    "network": (
        (
            "One-way audio for agents in {site}",
            "Agents in {site} hear the caller but the caller cannot hear them. About {n} "
            "agents affected, reproducible on most calls since {when}.",
        ),
        (
            "Choppy audio and dropped calls over VPN",
            "Home-based agents on the VPN report choppy audio and dropped calls between "
            "10:00 and 12:00. Packet loss visible on our side is under 1%.",
        ),
    ),
    "outbound": (
        (
            "Outbound campaign stops dialing after 10 minutes",
            "The '{queue} follow-up' campaign dials for about 10 minutes and then stops "
            "although {n} records are left. Restarting it helps briefly.",
        ),
        (
            "Wrong caller ID shown on outbound calls",
            "Customers see an unknown number instead of our {site} caller ID on outbound "
            "calls. Example call at {when}, agent {agent}.",
        ),
        (
            "Do-not-call list not applied to the new campaign",
            "Records on our do-not-call list were dialled by the new campaign on {when}. "
            "This is urgent for compliance.",
        ),
    ),
    "reporting": (
        (
            "Abandoned calls in the daily report do not match real time",
            "The daily report shows {n} abandoned calls for {queue} on {when}, the real-time "
            "dashboard showed about half as many. Which one is right?",
        ),
        (
            "Scheduled report not delivered by email",
            "Our weekly service level report for {site} was not delivered this Monday. The "
            "schedule is unchanged. Supervisor: {agent}.",
        ),
        (
            "Dashboard widget shows no data",
            "The 'Agents in state' widget is empty for all supervisors in {site} since "
            "{when}. Other widgets work. Browser: {browser}.",
        ),
    ),
    "routing": (
        (
            "Calls to {queue} routed to the wrong site",
            "Since {when} calls to the {queue} queue are routed to {site} agents who do not "
            "have the skill. About {n} misrouted calls today.",
        ),
        (
            "Priority customers wait in the normal queue",
            "VIP callers (identified by ANI) no longer get priority routing and wait in the "
            "normal {queue} queue. Example call at {when}.",
        ),
        (
            "Calls drop after a blind transfer to {queue}",
            "When agents blind-transfer to {queue} the call drops after the first ring. "
            "Consult transfers work. Around {n} calls affected since {when}.",
        ),
    ),
    "telephony": (
        (
            "Agents cannot make external calls from {site}",
            "Dialling an external number from the {site} agent phones gives a fast busy "
            "tone. Internal calls work. {n} agents affected since {when}.",
        ),
        (
            "Inbound calls ring but cannot be answered",
            "Agents see the call ringing but 'Answer' does nothing; the call then goes to "
            "the next agent. Reproducible for agent {agent}.",
        ),
        (
            "Echo on calls through the {site} trunk",
            "Callers and agents hear an echo on calls that use the {site} trunk. It started "
            "after our carrier maintenance on {when}.",
        ),
    ),
    "workforce-management": (
        (
            "Forecast for next week is empty",
            "The forecast for the {queue} queue shows zero volume for next week. Historical "
            "data is there. Steps: open Forecasts, select {queue}, next week.",
        ),
        (
            "Schedule changes not visible to agents",
            "Agents in {site} do not see schedule changes that supervisor {agent} published "
            "on {when}. Browser: {browser}.",
        ),
        (
            "Adherence shows agents out of adherence while on break",
            "Adherence marks {n} agents in {site} out of adherence during their scheduled "
            "breaks since {when}.",
        ),
    ),
}

SERVICE_REQUESTS: dict[str, tuple[tuple[str, str], ...]] = {
    SubType.ADD_REMOVE_ACCESS: (
        (
            "Remove access for {agent}",
            "{agent} left the company on {when}. Please remove their access to the "
            "reporting and recording tools.",
        ),
        (
            "Access to recordings for the {site} quality team",
            "Please give the {n} quality analysts in {site} read access to call recordings.",
        ),
    ),
    SubType.PASSWORD_RESET: (
        (
            "Password reset for supervisor {agent}",
            "Supervisor {agent} is locked out after too many attempts. Please reset the password.",
        ),
    ),
    SubType.CHANGE_REQUEST: (
        (
            "Change opening hours of the {queue} queue",
            "From next Monday the {queue} queue opens at 07:00 instead of 08:00 local time "
            "in {site}. Please update the schedule and the IVR greeting.",
        ),
        (
            "Add a new skill for {queue} escalations",
            "We need a new skill '{queue} escalation' for {n} agents, routed before the "
            "normal {queue} skill.",
        ),
    ),
    SubType.NEW_PROJECT_REQUEST: (
        (
            "New contact center site in {site}",
            "We are opening a site in {site} with {n} agents in three months and would like "
            "to plan the set-up with you.",
        ),
    ),
}

ADMIN_TOPICS: tuple[tuple[str, str, str], ...] = (
    (
        SubType.QUESTION,
        "Question about our invoice for last month",
        "The invoice lists {n} more concurrent agent licences than we had. Can you explain?",
    ),
    (
        SubType.REQUEST,
        "Please add a second billing contact",
        "Please add our finance team as a second billing contact for the {site} deployment.",
    ),
    (
        SubType.PROBLEM,
        "Portal shows the wrong support level",
        "The portal shows our organization at the wrong support level since {when}.",
    ),
)

PRIVACY_TOPICS: tuple[tuple[str, str], ...] = (
    (
        "Delete recordings of a customer (erasure request)",
        "A customer asked us to erase their data. Please delete all recordings and chat "
        "transcripts for the phone number we will send on request. Our reference: DPR-{n}.",
    ),
    (
        "Export all data held about a caller",
        "We received a subject access request. Please export the contact history of the "
        "caller identified in our reference DPR-{n}.",
    ),
)

IMPACTS = (
    "{n} agents cannot take calls; customers wait longer.",
    "Supervisors cannot monitor service levels for {queue}.",
    "Some customers are not reached; we risk missing our service level.",
    "Minor: a workaround exists but costs agents time.",
    "Compliance risk until this is fixed.",
)

CARE_TAKE = (
    "Thank you for reporting this. I am looking into it and will update you shortly.",
    "Hello, I have taken your case and am checking the platform logs for {when}.",
    "Thanks for the details. We are investigating with the {service} team.",
)
CARE_ASK = (
    "Could you send two example calls (time, ANI and DNIS) from the last 12 hours?",
    "Could you tell us whether this happens on every PC or only some? A browser log would help.",
    "Please confirm the agent IDs affected and the time zone of the examples.",
    "Can you send a screenshot of the error and the exact time it was taken?",
)
CUSTOMER_ANSWER = (
    "Here are two examples: {when} from +1 555 0142, and 20 minutes later from +1 555 0177.",
    "It happens on every PC in {site}; the browser log is attached to our internal ticket.",
    "Affected agents: {agent} and {n} others, all in {site}. Times are local.",
    "Screenshot taken at {when}; the error says 'Request failed (503)'.",
)
CARE_PROGRESS = (
    "We can reproduce the issue and have involved engineering.",
    "Engineering found a configuration difference on the {site} cluster and is testing a fix.",
    "Still investigating: the logs for your examples show a timeout between two services.",
    "A fix is being prepared; I will update you once it is deployed.",
)
CUSTOMER_CHASE = (
    "Any news? The issue is still happening for {n} agents.",
    "Thanks. It happened again at {when}.",
    "Our supervisors ask for an estimate, can you give one?",
    "We noticed it is worse in the morning between 9 and 11.",
)
CARE_RESTORED = (
    "We applied a workaround on the {site} cluster; the service works again. A permanent fix "
    "will follow.",
    "Service is restored after a restart of the affected component. We keep the case open for "
    "the root cause analysis.",
)
CARE_RCA = (
    "Root cause: a certificate rotation on {when} left one media server with an old "
    "certificate. We added a check to the rotation job.",
    "Root cause: a configuration change on {when} reduced a connection pool; it has been "
    "reverted and the change process updated.",
)
CARE_SOLUTION = (
    "The fix was deployed. Could you check and confirm the issue is solved?",
    "We corrected the configuration for the {queue} queue. Please confirm it works for you.",
    "The change you asked for is done and active since {when}.",
    "Here is the explanation you asked for: the difference comes from how abandoned calls "
    "under 5 seconds are counted.",
)
CUSTOMER_CONFIRM = (
    "Confirmed, it works again. Thank you!",
    "Works for us, thanks for the quick help.",
)
CUSTOMER_CANCEL = (
    "We found the cause on our side, please close this case.",
    "Not needed any more, thank you.",
)
CARE_REDIRECT = (
    "This concerns your carrier, not our platform. Please contact them with the examples "
    "above; we can join a call if needed.",
    "This request is handled by your account manager; I have forwarded it.",
)
CARE_RESOLVE = (
    "As the fix works and we did not hear back, we are closing the case. Reopen it within "
    "30 days if needed.",
)
INTERNAL_NOTES = (
    "Checked the media server logs: errors start at the time the customer gave.",
    "Customer has had this twice this quarter; consider a problem record.",
    "Engineering ticket created; waiting for the on-call engineer.",
    "Talked to the account manager: the customer is renewing next month, handle with care.",
)

AGENTS = ("Maria Lopez", "Tom Becker", "Priya Shah", "Ken Ito", "Lena Novak", "Omar Haddad")


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


# --- writing -----------------------------------------------------------------------------


def reserve_case_numbers(count: int) -> list[int]:
    """``count`` new case numbers in one round trip (C-1: the same sequence or counter the
    services draw from, so later cases continue after them)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval('cases_case_number_seq') FROM generate_series(1, %s)", [count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute("UPDATE cases_casenumbercounter SET last = last + %s WHERE id = 1", [count])
        if cursor.rowcount == 0:
            # No counter row (a flushed database): the services' numbering recreates it
            # above every number in use; the rest of the block follows it.
            first = next_case_number()
            cursor.execute(
                "UPDATE cases_casenumbercounter SET last = last + %s WHERE id = 1", [count - 1]
            )
            return list(range(first, first + count))
        cursor.execute("SELECT last FROM cases_casenumbercounter WHERE id = 1")
        last = int(cursor.fetchone()[0])
    return list(range(last - count + 1, last + 1))


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    deployment_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]  # designated contacts


def _demo_tenants() -> list[Tenant]:
    from accounts.models import AccessLevel, Deployment, Membership, Organization

    tenants = []
    for org in Organization.objects.filter(slug__in=DEMO_ORG_SLUGS).order_by("slug"):
        deployments = tuple(
            Deployment.objects.filter(organization=org, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        contacts = tuple(
            Membership.objects.filter(
                organization=org,
                access_level=AccessLevel.DESIGNATED_CONTACT,
                user__is_active=True,
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if deployments and contacts:
            tenants.append(Tenant(org.pk, deployments, contacts))
    return tenants


def _care_ids() -> list[int]:
    from accounts.models import User

    ids = list(
        User.objects.filter(email__in=CARE_EMAILS, is_active=True)
        .order_by("email")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise RuntimeError("The demo care staff are missing: run seed_demo first.")
    return ids


def _opened_times(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    # Weighted to the recent past, as support volume is; at least a minute old.
    return sorted(
        now - timedelta(days=days * (rng.random() ** 1.6), minutes=1) for _ in range(count)
    )


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def write_cases(
    *,
    plans: Sequence[tuple[PlannedCase, Tenant, random.Random]],
    services: dict[str, tuple[int, int]],
    care_ids: Sequence[int],
) -> int:
    """Insert planned cases with their feeds and histories: three bulk inserts and, on
    PostgreSQL, one statement that builds the search documents."""
    numbers = reserve_case_numbers(len(plans))
    cases = []
    chosen = []
    for (plan, tenant, rng), number in zip(plans, numbers, strict=True):
        contact_id = rng.choice(tenant.contact_ids)
        care_id = rng.choice(care_ids)
        service_id, group_id = services[plan.service_slug] if plan.service_slug else (None, None)
        case = Case(
            organization_id=tenant.organization_id,
            number=number,
            deployment_id=rng.choice(tenant.deployment_ids),
            service_id=service_id,
            product_group_id=group_id,
            contact_id=contact_id,
            owner_id=care_id if plan.owned else None,
            **plan.fields,
        )
        cases.append(case)
        chosen.append((contact_id, care_id))
    Case.unscoped.bulk_create(cases, batch_size=BATCH)

    updates = []
    for case, (plan, _, _), (contact_id, care_id) in zip(cases, plans, chosen, strict=True):
        for u in plan.updates:
            updates.append(
                CaseUpdate(
                    organization_id=case.organization_id,
                    case_id=case.pk,
                    author_id=care_id if u.by_care else contact_id,
                    body=u.body,
                    is_internal=u.internal,
                    by_care=u.by_care,
                    channel=Channel.PORTAL if not u.by_care else Channel.ADMIN,
                    created_at=u.at,
                )
            )
    CaseUpdate.unscoped.bulk_create(updates, batch_size=BATCH)

    events = []
    position = 0
    for case, (plan, _, _), (contact_id, care_id) in zip(cases, plans, chosen, strict=True):
        first = position
        position += len(plan.updates)
        for e in plan.events:
            after = dict(e.after)
            if after.get("owner") == "care":
                after["owner"] = care_id
            if e.update_index is not None:
                after["update"] = updates[first + e.update_index].pk
            events.append(
                CaseEvent(
                    organization_id=case.organization_id,
                    case_id=case.pk,
                    actor_id=(None if e.by_care is None else care_id if e.by_care else contact_id),
                    kind=e.kind,
                    channel=(
                        case.channel
                        if e.kind == CaseEvent.Kind.OPENED
                        else Channel.ADMIN
                        if e.by_care
                        else Channel.PORTAL
                    ),
                    before=e.before,
                    after=after,
                    internal=e.internal,
                    created_at=e.at,
                )
            )
    CaseEvent.unscoped.bulk_create(events, batch_size=BATCH)
    build_search_documents([c.pk for c in cases])
    return len(cases)


def build_search_documents(case_ids: Sequence[int]) -> None:
    """One statement that sets the search document (C-14) of these cases from their subject,
    description and public updates, as the services build it one update at a time."""
    if connection.vendor != "postgresql" or not case_ids:
        return
    from cases.search import CONFIG, MAX_INDEXED_CHARS

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_case AS c
            SET search_vector = to_tsvector(%s::regconfig, left(
                c.subject || E'\\n' || c.description || coalesce(E'\\n' || u.body, ''), %s))
            FROM unnest(%s::bigint[]) AS ids(id)
            LEFT JOIN (
                SELECT case_id, string_agg(body, E'\\n' ORDER BY created_at, id) AS body
                FROM cases_caseupdate
                WHERE NOT is_internal AND case_id = ANY(%s::bigint[])
                GROUP BY case_id
            ) AS u ON u.case_id = ids.id
            WHERE c.id = ids.id
            """,
            [CONFIG, MAX_INDEXED_CHARS, list(case_ids), list(case_ids)],
        )


def _service_map() -> tuple[dict[str, tuple[int, int]], list[tuple[str, str]]]:
    rows = list(
        CloudService.objects.filter(is_active=True)
        .order_by("slug")
        .values_list("slug", "name", "pk", "product_group_id")
    )
    if not rows:
        raise RuntimeError("No cloud services: run the migrations first.")
    return {slug: (pk, group) for slug, _, pk, group in rows}, [(s, n) for s, n, _, _ in rows]


def seed_cases(*, count: int, now: datetime, stdout=None, seed: int | None = None) -> int:
    """Generate ``count`` cases over the demo organizations, opened over the last ~90 days,
    with their feeds and histories. Returns how many were created."""
    from core.tenancy import scopes_disabled

    if count <= 0:
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    made = 0
    with scopes_disabled():
        tenants = _demo_tenants()
        if not tenants:
            raise RuntimeError("The demo organizations are missing: run seed_demo first.")
        care_ids = _care_ids()
        services, service_names = _service_map()
        opened = _opened_times(rng, count, now, SPREAD_DAYS)
        # Every sub-status appears at least once, whatever the count.
        forced = list(STATUS_OF) if count >= len(STATUS_OF) else []
        for size in _batches(count, BATCH):
            with transaction.atomic():
                plans = []
                for opened_at in opened[made : made + size]:
                    target = forced.pop() if forced else None
                    chatter = 10 if rng.random() < 0.01 else None
                    plan = plan_case(
                        rng,
                        opened_at=opened_at,
                        now=now,
                        services=service_names,
                        target=target,
                        chatter=chatter,
                    )
                    plans.append((plan, rng.choice(tenants), rng))
                made += write_cases(plans=plans, services=services, care_ids=care_ids)
            if stdout is not None and count > BATCH:
                stdout.write(f"  {made} of {count} cases written")
        _recompute_service_levels(tenants, now=now)
    return made


def _recompute_service_levels(tenants: Sequence[Tenant], *, now: datetime) -> None:
    """Give the open cases their service-level due times from their history, as the
    services do case by case (S-8): the care queues then show real due and at-risk cases."""
    from accounts.models import Organization
    from cases.sla import sla_recompute_for_organization

    for organization in Organization.objects.filter(pk__in=[t.organization_id for t in tenants]):
        sla_recompute_for_organization(organization=organization, now=now)


def seed_demo_spread(*, now: datetime, stdout=None) -> int:
    """The small realistic spread that ``seed_demo`` adds on its first run: every sub-status,
    feeds from both sides, internal notes. Skipped (returns 0) once the demo organizations
    have cases, so running ``seed_demo`` again changes nothing."""
    from accounts.models import Organization
    from core.tenancy import scopes_disabled

    with scopes_disabled():
        org_ids = list(
            Organization.objects.filter(slug__in=DEMO_ORG_SLUGS).values_list("pk", flat=True)
        )
        if not org_ids or Case.objects.filter(organization_id__in=org_ids).exists():
            return 0
    made = seed_cases(count=SPREAD_CASES, now=now, stdout=None, seed=20240901)
    if stdout is not None:
        stdout.write(f"{made} demo cases added to the demo organizations.")
    return made
