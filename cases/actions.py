"""The case actions: one registry that the customer portal, the care workspace and the API
read (C-5 … C-12, C-16, T-4, T-5).

Each action has its wire name (the API's URL segment, the care workspace's action URL, the
names a case page offers), who may run it and in which states, the input it takes, the
service it calls and its words. The services check everything again; the registry decides
what is offered, so a page or an answer offers exactly the actions the services accept
(tests/cases/test_policy.py proves it for every state and role).

The input is named here once (``Input``: which values, by the names forms and the API give
them); each edge brings its own shape for it, the care workspace a form
(``cases.admin.forms.ACTION_FORMS``) and the API a serializer
(``cases.api.inputs.ACTION_INPUTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from accounts.models import User
from cases import policy, services
from cases.models import CLOSED_SUB_STATUSES, OPEN_SUB_STATUSES, Case, CaseType, SubStatus


class Who(StrEnum):
    CARE = "care"  # care analysts and managers (T-5)
    CUSTOMER = "customer"  # the organization's designated contacts (T-4)


CARE = frozenset({Who.CARE})
CUSTOMER = frozenset({Who.CUSTOMER})
ANYONE = CARE | CUSTOMER  # who may work the case at all

# A value's keyword in the service call, where it differs from its name in forms and on the
# wire.
KEYWORDS = {"attachments": "uploads", "deployment": "deployment_id", "service": "service_slug"}


@dataclass(frozen=True)
class Input:
    """What an action takes besides the case: its values, by the names forms and the API
    give them. A value the caller leaves out is the service's default."""

    key: str
    fields: tuple[str, ...]

    def arguments(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The values the caller gave, as the service's keyword arguments."""
        given = {name: data[name] for name in self.fields if name in data}
        if "attachments" in given:
            given["attachments"] = list(given["attachments"] or [])
        return {KEYWORDS.get(name, name): value for name, value in given.items()}


NOTE = Input("note", ("body",))  # an optional public message
MESSAGE = Input("message", ("body", "attachments"))  # a public message that must be written
RESTORE = Input("restore", ("pending", "body"))  # what is still pending (C-8)
PRIORITY = Input("priority", ("priority", "body"))
OWNER = Input("owner", ("owner",))  # a care analyst or manager, or nobody
FIELDS = Input("fields", ("deployment", "service"))
REASON = Input("reason", ("reason",))  # why a case is reopened (C-12)
UPDATE = Input("update", ("body", "internal", "requested_priority", "attachments"))

Condition = Callable[[Case, datetime], bool]


def _in(*sub_statuses: str, types: tuple[str, ...] = ()) -> Condition:
    """A case in one of these sub-statuses (and of one of these types, if given)."""
    allowed = frozenset(sub_statuses)
    kinds = frozenset(types)
    return lambda case, now: case.sub_status in allowed and (not kinds or case.type in kinds)


def _reopenable(case: Case, now: datetime) -> bool:
    """Closed, and within 30 days of closure (C-12)."""
    deadline = policy.reopen_deadline(case)
    return case.sub_status in CLOSED_SUB_STATUSES and deadline is not None and now <= deadline


OPEN = _in(*OPEN_SUB_STATUSES)
WORKED = (SubStatus.NEW, SubStatus.INVESTIGATION, SubStatus.CUSTOMER_RESPONDED)


@dataclass(frozen=True)
class CaseAction:
    """One thing a person does to a case. ``label`` names it, ``summary`` says what it does
    (the API's documentation); ``button``, ``done`` and ``panel`` are how the care
    workspace offers it (``panel``: status, fields or compose)."""

    name: str
    who: frozenset[Who]
    when: Condition
    takes: Input
    service: Callable[..., Any]
    label: str
    summary: str
    button: str = ""
    done: str = ""
    panel: str = "status"

    @property
    def care_only(self) -> bool:
        return Who.CUSTOMER not in self.who

    def run(
        self, *, case: Case, actor: User, data: Mapping[str, Any], channel: str, now: datetime
    ) -> Any:
        """Call the service with what the caller sent; it checks the rules and may refuse."""
        return self.service(
            case=case, actor=actor, channel=channel, now=now, **self.takes.arguments(data)
        )


# In the order the pages and the API list them: the care workspace offers the care actions in
# this order, the portal the customer's.
CASE_ACTIONS: dict[str, CaseAction] = {
    action.name: action
    for action in [
        CaseAction(
            "post-update",
            ANYONE,
            OPEN,
            UPDATE,
            services.case_post_update,
            label="Post an update or an internal note",
            summary="Post a public update, or for Customer Care an internal note (C-8, C-9).",
            button="Post",
            done="Posted.",
            panel="compose",
        ),
        CaseAction(
            "confirm",
            CUSTOMER,
            _in(SubStatus.SOLUTION_PROPOSED),
            NOTE,
            services.case_confirm_solution,
            label="Confirm the solution",
            summary="Confirm the proposed solution (Solution Proposed → Problem Resolved).",
        ),
        CaseAction(
            "close",
            CUSTOMER,
            OPEN,
            NOTE,
            services.case_close,
            label="Close the case",
            summary="Close the case (C-11): Resolved after a proposed solution, else Cancelled.",
        ),
        CaseAction(
            "reopen",
            CUSTOMER,
            _reopenable,
            REASON,
            services.case_reopen,
            label="Reopen the case",
            summary="Reopen a closed case within 30 days of closure, saying why (C-12).",
        ),
        CaseAction(
            "take",
            CARE,
            _in(SubStatus.NEW),
            NOTE,
            services.case_take,
            label="Take the case",
            summary="Take the case (New → Investigation); unowned cases become yours.",
            button="Take",
            done="You took the case: it is under investigation.",
        ),
        CaseAction(
            "request-info",
            CARE,
            _in(*WORKED),
            MESSAGE,
            services.case_request_info,
            label="Request information",
            summary="Ask the customer for information (→ Info Required).",
            button="Request info",
            done="Information requested: the case awaits the customer.",
        ),
        CaseAction(
            "propose-solution",
            CARE,
            _in(*WORKED, SubStatus.PENDING_PERMANENT_SOLUTION, SubStatus.PENDING_RCA),
            MESSAGE,
            services.case_propose_solution,
            label="Propose a solution",
            summary="Propose a solution (→ Solution Proposed).",
            button="Propose solution",
            done="Solution proposed.",
        ),
        CaseAction(
            "restore-service",
            CARE,
            _in(
                SubStatus.INVESTIGATION,
                SubStatus.CUSTOMER_RESPONDED,
                types=(CaseType.SUPPORT, CaseType.INCIDENT),
            ),
            RESTORE,
            services.case_restore_service,
            label="Service restored",
            summary="Service restored (→ Pending Permanent Solution or Pending RCA).",
            button="Mark service restored",
            done="Service marked as restored.",
        ),
        CaseAction(
            "deliver-rca",
            CARE,
            _in(SubStatus.PENDING_RCA),
            MESSAGE,
            services.case_deliver_rca,
            label="Deliver the RCA",
            summary="Deliver the root cause analysis (Pending RCA → Solution Proposed).",
            button="Deliver RCA",
            done="RCA delivered: the solution is proposed.",
        ),
        CaseAction(
            "resolve",
            CARE,
            OPEN,
            NOTE,
            services.case_resolve,
            label="Resolve",
            summary="Resolve and close the case.",
            button="Resolve",
            done="Case resolved.",
        ),
        CaseAction(
            "cancel",
            CARE,
            OPEN,
            NOTE,
            services.case_cancel,
            label="Cancel",
            summary="Cancel and close the case.",
            button="Cancel the case",
            done="Case cancelled.",
        ),
        CaseAction(
            "redirect",
            CARE,
            OPEN,
            NOTE,
            services.case_redirect,
            label="Redirect",
            summary="Close the case as redirected to the right team.",
            button="Redirect",
            done="Case redirected.",
        ),
        CaseAction(
            "convert-to-incident",
            CARE,
            _in(*OPEN_SUB_STATUSES, types=(CaseType.SUPPORT,)),
            NOTE,
            services.case_convert_to_incident,
            label="Convert to Incident",
            summary="Convert a Support case to an Incident (C-2).",
            button="Convert to Incident",
            done="The case is now an Incident.",
            panel="fields",
        ),
        CaseAction(
            "set-priority",
            CARE,
            OPEN,
            PRIORITY,
            services.case_change_priority,
            label="Change priority",
            summary="Change the priority, Critical included (C-5).",
            button="Change priority",
            done="Priority changed.",
            panel="fields",
        ),
        CaseAction(
            "assign",
            CARE,
            OPEN,
            OWNER,
            services.case_assign,
            label="Change owner",
            summary="Assign the case to a care analyst or manager, or unassign it (null).",
            button="Assign",
            done="Owner changed.",
            panel="fields",
        ),
        CaseAction(
            "change-fields",
            CARE,
            OPEN,
            FIELDS,
            services.case_change_fields,
            label="Correct deployment or service",
            summary="Correct the deployment or the cloud service of an open case (C-16).",
            button="Save deployment and service",
            done="Deployment and service saved.",
            panel="fields",
        ),
    ]
}

POST_UPDATE = CASE_ACTIONS["post-update"]


def case_actions_for(who: Who) -> list[CaseAction]:
    """The actions this side may ever run, in the order they are offered."""
    return [action for action in CASE_ACTIONS.values() if who in action.who]


def available_actions(user: User, case: Case, now: datetime) -> list[str]:
    """The wire names of the actions this user may take on this case right now. Care works
    every case; of the customer's people only the designated contacts act (T-4), read-only
    users see the case and no actions."""
    if policy.is_care(user):
        who = Who.CARE
    elif policy.is_designated_contact(user, case):
        who = Who.CUSTOMER
    else:
        return []
    return [a.name for a in CASE_ACTIONS.values() if who in a.who and a.when(case, now)]
