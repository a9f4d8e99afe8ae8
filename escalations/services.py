"""Every change to an escalation goes through one function here (E-1 … E-9).

Each service locks the case (a request) or the escalation (a decision), checks who may act,
fires the escalation's transition, writes the case history event in the same transaction
and records the emails to send after commit (N-1, N-5).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django_fsm import ConcurrentTransition, can_proceed

from accounts import roles
from accounts.models import User
from cases import policy
from cases.models import Case, CaseEvent, Channel
from cases.services.escalation import case_mark_escalated
from cases.services.history import case_event_record
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.textclean import clean_text
from escalations import emails, rules
from escalations.models import Escalation, EscalationMessage, Level

DETAILS_MAX = 10_000
MESSAGE_MAX = 20_000
EXPLANATION_MAX = 10_000

CONFLICT_ACTIVE = "This case already has an escalation in progress."


class EscalationRefused(InvalidInput):
    """A request the rules refuse (400); ``rule`` names the rule (E-1 … E-6)."""

    def __init__(self, refusal: rules.Refusal, field: str = "reason") -> None:
        super().__init__(refusal.message, {field: [refusal.message]})
        self.rule = refusal.rule
        self.offer = refusal.offer


def is_escalation_owner(user: User) -> bool:
    """Escalation owners are care managers (E-8)."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_care_manager_cache", None)
    if cached is None:
        cached = user.groups.filter(name=roles.CARE_MANAGER).exists()
        user._care_manager_cache = cached
    return cached


def can_view(user: User, escalation: Escalation) -> bool:
    """Care staff and the customers who can see the case see its escalations."""
    return policy.can_view(user, escalation.case)


def can_write_message(user: User, escalation: Escalation) -> bool:
    if not escalation.is_active:
        return False
    if is_escalation_owner(user):
        return True
    return not user.is_staff and policy.is_designated_contact(user, escalation.case)


def _require_manager(actor: User, escalation: Escalation) -> None:
    if is_escalation_owner(actor):
        return
    if not policy.is_care(actor) and not can_view(actor, escalation):
        raise NotFound("No such escalation.")
    raise NotAllowed("Only a Customer Care manager can decide on escalations.")


def _lock(escalation: Escalation) -> Escalation:
    try:
        return (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("case", "case__contact", "requester", "owner")
            .get(pk=escalation.pk)
        )
    except Escalation.DoesNotExist as exc:
        raise NotFound("No such escalation.") from exc


def _save(escalation: Escalation, fields: list[str]) -> None:
    try:
        escalation.save(update_fields=sorted({*fields, "state"}))
    except ConcurrentTransition as exc:
        raise Conflict(
            "The escalation was changed by someone else a moment ago; reload it."
        ) from exc


def _event(
    case: Case,
    escalation: Escalation,
    *,
    actor: User | None,
    channel: str,
    now: datetime,
    before: str | None,
    **extra: str,
) -> CaseEvent:
    """The case history shows each step of an escalation (C-16); the feed itself stays in
    the escalation."""
    return case_event_record(
        case=case,
        actor=actor,
        kind=CaseEvent.Kind.ESCALATION,
        channel=channel,
        now=now,
        before={"escalation": escalation.pk, "state": before} if before else {},
        after={"escalation": escalation.pk, "state": escalation.state, **extra},
    )


def _text(value: object, *, what: str, field: str, maximum: int, required: bool = True) -> str:
    text = clean_text(value)
    if required and not text:
        raise InvalidInput(f"Write the {what}.", {field: [f"Write the {what}."]})
    if len(text) > maximum:
        message = f"At most {maximum:,} characters."
        raise InvalidInput(f"The {what} is too long.", {field: [message]})
    return text


def _level(value: object, field: str) -> str:
    value = clean_text(value).lower()
    if value not in Level.values:
        message = "Choose high, medium or low."
        raise InvalidInput(message, {field: [message]})
    return value


# --- the customer's request -------------------------------------------------------------


@transaction.atomic
def escalation_request(
    *,
    case: Case,
    actor: User,
    reason: str,
    details: str,
    channel: str = Channel.PORTAL,
    now: datetime,
) -> Escalation:
    """A designated contact asks for an escalation (E-1 … E-7)."""
    try:
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("contact").get(pk=case.pk)
        )
    except Case.DoesNotExist as exc:
        raise NotFound("No such case.") from exc
    if not policy.can_view(actor, case):
        raise NotFound("No such case.")
    reason = clean_text(reason).lower()
    checked = rules.eligibility(actor, case, now)
    if checked.refusal is not None:
        if checked.refusal.rule == "T-4":
            raise NotAllowed(checked.refusal.message)
        if checked.refusal.rule == "E-2":
            raise Conflict(checked.refusal.message)
        raise EscalationRefused(checked.refusal)
    if not reason:
        raise InvalidInput("Choose a reason.", {"reason": ["Choose a reason."]})
    refusal = rules.reason_refusal(case, reason, now)
    if refusal is not None:
        raise EscalationRefused(refusal)
    details = _text(details, what="details", field="details", maximum=DETAILS_MAX)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                organization_id=case.organization_id,
                case=case,
                requester=actor,
                reason=reason,
                details=details,
                channel=channel,
                requested_at=now,
            )
    except IntegrityError as exc:  # E-2, should the case lock ever be bypassed
        raise Conflict(CONFLICT_ACTIVE) from exc
    case = case_mark_escalated(case=case, now=now)
    event = _event(
        case, escalation, actor=actor, channel=channel, now=now, before=None, reason=reason
    )
    emails.escalation_requested(escalation=escalation, event=event, now=now)
    return escalation


# --- the owner's workflow ----------------------------------------------------------------


@transaction.atomic
def escalation_accept(
    *,
    escalation: Escalation,
    actor: User,
    importance: str | None = None,
    urgency: str | None = None,
    owner: User | None = None,
    channel: str = Channel.ADMIN,
    now: datetime,
) -> Escalation:
    """A care manager accepts and prioritises the escalation (E-8). The owner is the
    manager who accepts it unless another manager is named."""
    escalation = _lock(escalation)
    _require_manager(actor, escalation)
    if not can_proceed(escalation.accept):
        raise Conflict(
            f"An escalation that is {escalation.get_state_display()} cannot be accepted."
        )
    importance = _level(importance or Level.MEDIUM, "importance")
    urgency = _level(urgency or Level.MEDIUM, "urgency")
    owner = owner or actor
    if not is_escalation_owner(owner):
        message = "The escalation owner must be a Customer Care manager."
        raise InvalidInput(message, {"owner": [message]})
    before = escalation.state
    escalation.accept(by=actor, owner=owner, importance=importance, urgency=urgency, now=now)
    _save(
        escalation,
        ["decided_by", "decided_at", "owner", "importance", "urgency", "priority_score"],
    )
    event = _event(
        escalation.case, escalation, actor=actor, channel=channel, now=now, before=before
    )
    emails.escalation_decided(escalation=escalation, event=event, now=now)
    emails.escalation_assigned(escalation=escalation, assigned_by=actor, now=now)
    return escalation


@transaction.atomic
def escalation_reject(
    *,
    escalation: Escalation,
    actor: User,
    explanation: str,
    channel: str = Channel.ADMIN,
    now: datetime,
) -> Escalation:
    """A care manager rejects the escalation with an explanation the customer sees (E-8)."""
    escalation = _lock(escalation)
    _require_manager(actor, escalation)
    if not can_proceed(escalation.reject):
        raise Conflict(
            f"An escalation that is {escalation.get_state_display()} cannot be rejected."
        )
    explanation = _text(
        explanation, what="explanation", field="explanation", maximum=EXPLANATION_MAX
    )
    before = escalation.state
    escalation.reject(by=actor, explanation=explanation, now=now)
    _save(escalation, ["decided_by", "decided_at", "explanation", "owner"])
    event = _event(
        escalation.case, escalation, actor=actor, channel=channel, now=now, before=before
    )
    emails.escalation_decided(escalation=escalation, event=event, now=now)
    return escalation


@transaction.atomic
def escalation_resolve(
    *,
    escalation: Escalation,
    actor: User,
    summary: str,
    channel: str = Channel.ADMIN,
    now: datetime,
) -> Escalation:
    """A care manager closes an accepted escalation with a summary (E-8)."""
    escalation = _lock(escalation)
    _require_manager(actor, escalation)
    if not can_proceed(escalation.resolve):
        raise Conflict(
            f"An escalation that is {escalation.get_state_display()} cannot be resolved"
            + ("; accept it first." if escalation.state == "requested" else ".")
        )
    summary = _text(summary, what="summary", field="summary", maximum=EXPLANATION_MAX)
    before = escalation.state
    escalation.resolve(summary=summary, now=now)
    _save(escalation, ["summary", "resolved_at"])
    event = _event(
        escalation.case, escalation, actor=actor, channel=channel, now=now, before=before
    )
    emails.escalation_decided(escalation=escalation, event=event, now=now)
    return escalation


@transaction.atomic
def escalation_reassign(
    *, escalation: Escalation, actor: User, owner: User, channel: str = Channel.ADMIN, now: datetime
) -> Escalation:
    """Hand an accepted escalation to another care manager."""
    escalation = _lock(escalation)
    _require_manager(actor, escalation)
    if escalation.state != "accepted":
        raise Conflict("Only an accepted escalation has an owner to change.")
    if not is_escalation_owner(owner):
        message = "The escalation owner must be a Customer Care manager."
        raise InvalidInput(message, {"owner": [message]})
    if escalation.owner_id == owner.pk:
        return escalation
    before = escalation.owner_id
    escalation.owner = owner
    _save(escalation, ["owner"])
    case_event_record(
        case=escalation.case,
        actor=actor,
        kind=CaseEvent.Kind.ESCALATION,
        channel=channel,
        now=now,
        before={"escalation": escalation.pk, "owner": before},
        after={"escalation": escalation.pk, "owner": owner.pk},
        internal=True,
    )
    emails.escalation_assigned(escalation=escalation, assigned_by=actor, now=now)
    return escalation


# --- the escalation feed -----------------------------------------------------------------


@transaction.atomic
def escalation_post_message(
    *,
    escalation: Escalation,
    actor: User,
    body: str,
    channel: str = Channel.PORTAL,
    now: datetime,
) -> EscalationMessage:
    """A message in the escalation feed, by the customer or a care manager (E-9)."""
    escalation = _lock(escalation)
    if not can_view(actor, escalation):
        raise NotFound("No such escalation.")
    by_care = actor.is_staff
    if by_care and not is_escalation_owner(actor):
        raise NotAllowed("Only a Customer Care manager writes in the escalation feed.")
    if not by_care and not policy.is_designated_contact(actor, escalation.case):
        raise NotAllowed(
            "Only a designated contact of the organization can write here; your access is "
            "read-only."
        )
    if not escalation.is_active:
        raise Conflict(
            f"The escalation is {escalation.get_state_display().lower()}: its feed is closed. "
            "Post an update on the case, or escalate again."
        )
    body = _text(body, what="message", field="body", maximum=MESSAGE_MAX)
    message = EscalationMessage.objects.create(
        organization_id=escalation.organization_id,
        escalation=escalation,
        author=actor,
        by_care=by_care,
        body=body,
        channel=channel,
        created_at=now,
    )
    escalation.last_message_at = now
    _save(escalation, ["last_message_at"])
    emails.escalation_message(escalation=escalation, message=message, now=now)
    return message
