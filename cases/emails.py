"""Case emails (N-1, N-2): decided inside the service's transaction, sent by the outbox.

Every email carries the case's reference token in the subject and in Message-ID/References,
which ties a reply to the case. Internal notes never produce email: only public updates and
status changes reach these functions.

Recipients are the case's readers, or its designated contacts for an email that asks the
customer to act (its subject starts with ``[Action needed]``); the outbox checks them again
when it sends (``accounts.notifications``). A customer who acted reads "You …" in a row of
their own (the key ends in ``-you``); everyone else reads the actor's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string

from accounts.models import User
from accounts.notifications import Audience, case_email_recipients
from cases.links import case_url
from cases.models import CLOSED_SUB_STATUSES, Case, CaseEvent, CaseUpdate, Priority, SubStatus
from cases.references import message_id_hint, reference_token, thread_headers
from core.outbox.services import outbox_enqueue

# What the customer is told a status means, and what is expected of them.
NEXT_STEP = {
    SubStatus.NEW: "Customer Care will review the case shortly.",
    SubStatus.INVESTIGATION: "Customer Care is investigating.",
    # Read by everyone who follows the case, not only who responded: no "your".
    SubStatus.CUSTOMER_RESPONDED: "Customer Care will review the response.",
    SubStatus.INFO_REQUIRED: "Customer Care needs information from you: please reply with "
    "an update on the case.",
    SubStatus.PENDING_PERMANENT_SOLUTION: "The service is restored; a permanent solution is "
    "being prepared.",
    SubStatus.PENDING_RCA: "The service is restored; the root cause analysis is being prepared.",
    SubStatus.SOLUTION_PROPOSED: "A solution is proposed: please confirm it works, or reply "
    "with an update if it does not.",
    # Whoever reads it: the email's headline (and the case page) says who confirmed it.
    SubStatus.PROBLEM_RESOLVED: "The solution is confirmed. The case will be closed.",
    SubStatus.CANCELLED: "The case is closed (cancelled). You can reopen it within 30 days.",
    SubStatus.RESOLVED: "The case is resolved and closed. You can reopen it within 30 days.",
    SubStatus.REDIRECTED: "The case is closed and redirected to the right team.",
}


# A status that asks the customer to act (F-1): its email goes to the designated contacts.
ACTION_STATUSES = frozenset({SubStatus.INFO_REQUIRED, SubStatus.SOLUTION_PROPOSED})
ACTION_PREFIX = "[Action needed] "
SUBJECT_MAX = 255  # the outbox's column; the reference token must survive (N-2)
ACTOR_KEY_SUFFIX = "-you"


def subject_for(case: Case, label: str = "", *, action: bool = False) -> str:
    """``[Action needed] [Case 00001234] <label>: <subject> [ref:…]``: the prefix only for an
    email that asks the customer to act, the label when there is one; the case subject is
    shortened so the whole line fits and the reference token is never cut off."""
    head = (ACTION_PREFIX if action else "") + f"[Case {case.display_number}] "
    if label:
        head += f"{label}: "
    tail = f" [{reference_token(case)}]"
    room = SUBJECT_MAX - len(head) - len(tail)
    subject = " ".join(case.subject.split())  # as the outbox writes it: one line
    subject = subject if len(subject) <= room else subject[: room - 1] + "…"
    return head + subject + tail


def _recipients(case: Case, audience: str = Audience.CASE_READERS) -> list[str]:
    """The case contact, and the designated contacts who want every case's email (N-1), each
    while they may see the case (for ``CASE_DESIGNATED_CONTACTS``: act on it)."""
    return case_email_recipients(
        organization_id=case.organization_id, people=[case.contact], audience=audience
    )


def customer_actor(actor: User | None) -> User | None:
    """The actor when a customer acted: only a customer is told "You …" by email."""
    return actor if actor is not None and not actor.is_staff else None


def split_for_actor(
    recipients: Iterable[str], actor: User | None
) -> list[tuple[str, list[str], bool]]:
    """(key suffix, addresses, whether they are the actor) for each row to write: the
    customer who acted, when among the recipients, gets a row of their own; the others
    share one."""
    recipients = list(recipients)
    actor = customer_actor(actor)
    mine = [a for a in recipients if actor is not None and a.lower() == actor.email.lower()]
    others = [a for a in recipients if a not in mine]
    rows = [(ACTOR_KEY_SUFFIX, mine, True)] if mine else []
    return rows + ([("", others, False)] if others else [])


def who(actor: User | None, *, for_actor: bool) -> str:
    """The actor as the reader sees them: "You", a customer's name, or Customer Care."""
    if customer_actor(actor) is None:
        return "Customer Care"
    return "You" if for_actor else actor.get_full_name()


@dataclass(frozen=True)
class Headline:
    """What the email says happened: ``everyone`` reads one line; a customer who acted
    reads ``actor`` ("You …") instead, when given."""

    everyone: str
    actor: str = ""

    def for_reader(self, *, for_actor: bool) -> str:
        return self.actor if for_actor and self.actor else self.everyone


def _author(update: CaseUpdate | None, *, for_actor: bool) -> str:
    if update is None:
        return ""
    if update.by_care:
        return "Customer Care"
    return who(update.author, for_actor=for_actor)


def _send(
    case: Case,
    *,
    event: CaseEvent,
    headline: Headline,
    update: CaseUpdate | None,
    now: datetime,
    action: bool = False,
) -> None:
    audience = Audience.CASE_DESIGNATED_CONTACTS if action else Audience.CASE_READERS
    subject = subject_for(case, action=action)
    for suffix, to, for_actor in split_for_actor(_recipients(case, audience), event.actor):
        context = {
            "case": case,
            "headline": headline.for_reader(for_actor=for_actor),
            "update": update,
            "author": _author(update, for_actor=for_actor),
            "next_step": NEXT_STEP[case.sub_status],
            "url": case_url(case.number),
            "reference": reference_token(case),
            "phones": settings.PORTAL["CARE_PHONE_NUMBERS"],
        }
        outbox_enqueue(
            organization_id=case.organization_id,
            key=f"case-{case.pk}-event-{event.pk}{suffix}",
            to=to,
            subject=subject,
            text=render_to_string("emails/case_event.txt", context),
            html=render_to_string("emails/case_event.html", context),
            headers=thread_headers(case),
            case_id=case.pk,
            message_id_hint=message_id_hint(case),
            audience=audience,
            now=now,
        )


def case_opened(*, case: Case, event: CaseEvent, now: datetime) -> None:
    number = case.display_number
    opener = who(event.actor, for_actor=False)
    _send(
        case,
        event=event,
        update=None,
        now=now,
        headline=Headline(
            everyone=f"{opener} opened case {number}.",
            actor=f"We received your case {number}.",
        ),
    )


def case_public_update(*, case: Case, update: CaseUpdate, event: CaseEvent, now: datetime) -> None:
    if update.is_internal:
        # Not an assert: `python -O` strips those, and this one keeps care's notes private.
        raise ValueError("Internal notes never leave the system: not emailed.")
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline=Headline("Customer Care posted an update on your case."),
    )


def _customer_did(case: Case, before: str) -> str:
    """What a customer's status change did, in words."""
    if case.sub_status == SubStatus.PROBLEM_RESOLVED:
        return "confirmed the solution"
    if before in CLOSED_SUB_STATUSES and not case.is_closed:
        return "reopened the case"
    if case.is_closed:
        return "closed the case"
    return "changed the status of the case"


def case_status_changed(
    *, case: Case, before: str, update: CaseUpdate | None, event: CaseEvent, now: datetime
) -> None:
    status = f"{case.get_status_display()}: {case.get_sub_status_display()}"
    if customer_actor(event.actor) is None:
        headline = Headline(f"Your case is now {status}.")
    else:
        did = _customer_did(case, before)
        headline = Headline(
            everyone=f"{who(event.actor, for_actor=False)} {did}. The case is now {status}.",
            actor=f"You {did}. The case is now {status}.",
        )
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline=headline,
        action=case.sub_status in ACTION_STATUSES,
    )


def case_priority_changed(
    *, case: Case, before: str, update: CaseUpdate | None, event: CaseEvent, now: datetime
) -> None:
    _send(
        case,
        event=event,
        update=update,
        now=now,
        headline=Headline(
            f"{who(event.actor, for_actor=False)} changed the priority from "
            f"{Priority(before).label} to {case.get_priority_display()}."
        ),
    )
