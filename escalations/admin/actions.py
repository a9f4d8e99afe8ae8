"""The decisions of the escalation review page (E-8, E-9): each a form, the service it calls,
the states it is offered in and the permission it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from accounts.models import User
from cases.models import Channel
from escalations import services
from escalations.admin.forms import AcceptForm, MessageForm, ReassignForm, RejectForm, ResolveForm
from escalations.models import ACTIVE_STATES, Escalation, Level, State

CHANNEL = Channel.ADMIN


@dataclass(frozen=True)
class EscalationAction:
    """One thing a care manager does from the review page: a form and the service it calls."""

    name: str
    label: str
    button: str
    form: type[forms.Form]
    run: Callable[..., Any]
    done: str
    states: tuple[str, ...]  # the states it is offered in
    permission: str  # the model permission it needs besides being an escalation owner
    group: str = "decide"  # decide | compose


DECIDE = "escalations.change_escalation"
WRITE = "escalations.add_escalationmessage"

ACTIONS: dict[str, EscalationAction] = {
    a.name: a
    for a in [
        EscalationAction(
            "accept",
            "Accept",
            "Accept",
            AcceptForm,
            lambda esc, user, data, now: services.escalation_accept(
                escalation=esc,
                actor=user,
                importance=data["importance"],
                urgency=data["urgency"],
                owner=data["owner"],
                channel=CHANNEL,
                now=now,
            ),
            "Escalation accepted.",
            (State.REQUESTED,),
            DECIDE,
        ),
        EscalationAction(
            "reject",
            "Reject",
            "Reject",
            RejectForm,
            lambda esc, user, data, now: services.escalation_reject(
                escalation=esc,
                actor=user,
                explanation=data["explanation"],
                channel=CHANNEL,
                now=now,
            ),
            "Escalation rejected; the customer is told why.",
            (State.REQUESTED,),
            DECIDE,
        ),
        EscalationAction(
            "resolve",
            "Resolve",
            "Resolve",
            ResolveForm,
            lambda esc, user, data, now: services.escalation_resolve(
                escalation=esc, actor=user, summary=data["summary"], channel=CHANNEL, now=now
            ),
            "Escalation resolved.",
            (State.ACCEPTED,),
            DECIDE,
        ),
        EscalationAction(
            "reassign",
            "Change the owner",
            "Reassign",
            ReassignForm,
            lambda esc, user, data, now: services.escalation_reassign(
                escalation=esc, actor=user, owner=data["owner"], channel=CHANNEL, now=now
            ),
            "Escalation owner changed.",
            (State.ACCEPTED,),
            DECIDE,
        ),
        EscalationAction(
            "post-message",
            "Write to the customer",
            "Post",
            MessageForm,
            lambda esc, user, data, now: services.escalation_post_message(
                escalation=esc, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Message posted; the customer is emailed.",
            ACTIVE_STATES,
            WRITE,
            group="compose",
        ),
    ]
}


def initial(action: EscalationAction, escalation: Escalation, user: User) -> dict:
    if action.name == "accept":
        return {"importance": Level.MEDIUM, "urgency": Level.MEDIUM, "owner": user.pk}
    if action.name == "reassign":
        return {"owner": escalation.owner_id}
    return {}


def auto_id(action: str) -> str:
    # Several action forms share the page: their fields' ids must not clash.
    return "id_" + action.replace("-", "_") + "_%s"


def form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def not_possible(action: EscalationAction, escalation: Escalation) -> str:
    hint = (
        "; accept it first"
        if action.name == "resolve" and escalation.state == State.REQUESTED
        else ""
    )
    return (
        f"“{action.label}” is not possible for an escalation that is "
        f"{escalation.get_state_display().lower()}{hint}. Nothing was changed."
    )
