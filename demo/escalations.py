"""Demo escalations: one in each state on the demo organizations' open cases, written
through the services as a designated contact and a care manager would write them, so the
demo shows the whole story: the request, the decision, the escalation feed and the case
history (E-7 … E-9).

Idempotent: skipped once the demo organizations have an escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import AccessLevel, Membership, User
from cases.models import OPEN_SUB_STATUSES, Case, CaseType, Channel, Priority, SubStatus
from core.tenancy import scopes_disabled
from demo.writer import DEMO_ORG_SLUGS
from escalations import rules, services
from escalations.models import Escalation, Level, Reason

DEMO_MANAGER_EMAIL = "manager@care.example"
PREFERRED_ORG = "acme"  # the organization of the documented customer login
ESCALATABLE = (Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)  # E-3
EARLIEST = timedelta(days=4)  # the demo stories start at most this long ago
AFTER_OPENING = timedelta(hours=1)


@dataclass(frozen=True)
class Story:
    """What happens to one demo escalation; each step at a fraction of the time between the
    request's earliest moment and now."""

    state: str
    reason: str
    details: str
    steps: tuple[tuple[float, str, str], ...]  # (fraction, who: "customer"/"care", action)


# What the customers write and what care answers. The first step is the request; then
# "accept:<importance>:<urgency>", "reject", "resolve" and "message:<text>", their texts
# from TEXTS.
STORIES = (
    Story(
        "accepted",
        Reason.DEADLINE_AT_RISK,
        "We start a campaign on Monday that doubles our call volume. If this is not fixed by "
        "Friday we have to postpone it, which our marketing team cannot do a second time.",
        (
            (0.2, "customer", "request"),
            (0.3, "care", "accept:high:high"),
            (0.35, "care", "message:owner_hello"),
            (0.55, "customer", "message:customer_call"),
            (0.7, "care", "message:owner_call"),
        ),
    ),
    Story(
        "requested",
        Reason.SLOW_PROGRESS,
        "Agents in two of our sites are still affected and we have seen no progress since "
        "the last update. Our operations director asked us to escalate: please have a senior "
        "engineer look at this today.",
        ((0.9, "customer", "request"),),
    ),
    Story(
        "resolved",
        Reason.SLOW_PROGRESS,
        "The case has been open for days without a workaround, and our supervisors handle "
        "the affected calls by hand. We need a plan and a date.",
        (
            (0.1, "customer", "request"),
            (0.2, "care", "accept:medium:high"),
            (0.3, "care", "message:owner_plan"),
            (0.45, "customer", "message:customer_thanks"),
            (0.8, "care", "resolve"),
        ),
    ),
    Story(
        "rejected",
        Reason.DISSATISFIED,
        "We had to explain the same problem to three different analysts this week, and each "
        "time we were asked for the same examples again.",
        (
            (0.3, "customer", "request"),
            (0.5, "care", "reject"),
        ),
    ),
)

TEXTS = {
    "owner_hello": "Hello, I am {manager}, the owner of your escalation. I have asked the "
    "engineering lead to review the case today; I will write here again by the end of the day.",
    "customer_call": "Thank you. Could we have a short call tomorrow morning with the engineer "
    "who works on it? Our team lead would like to join.",
    "owner_call": "Yes: the engineer will call you tomorrow at 10:00 your time. The fix is being "
    "tested on a staging cluster, and the case will have the details.",
    "owner_plan": "A senior engineer now owns the case. The plan: a workaround today, the "
    "permanent fix in this week's change window. I will follow it until it is done.",
    "customer_thanks": "Thanks, the workaround helps: our supervisors no longer handle the "
    "calls by hand.",
    "reject": "Thank you for telling us. Since yesterday one analyst follows the case, and the "
    "examples you sent are with engineering; an escalation would not make the fix faster. If it "
    "does not work, post an update on the case and we will escalate it ourselves.",
    "resolve": "The senior engineer found the cause the same day (a routing rule left over "
    "from a migration) and the permanent fix went live in the change window. The case goes on "
    "with the usual updates until you confirm it.",
}


def _designated_contacts(organization_id: int) -> list[int]:
    return list(
        Membership.objects.filter(
            organization_id=organization_id,
            access_level=AccessLevel.DESIGNATED_CONTACT,
            user__is_active=True,
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def _candidates(now: datetime) -> list[Case]:
    """Open problem cases of the demo organizations that can be escalated (E-1, E-3),
    opened long enough ago to have a story: the documented login's organization first,
    cases care is working on before new ones."""
    cases = Case.objects.filter(
        organization__slug__in=DEMO_ORG_SLUGS,
        type__in=(CaseType.SUPPORT, CaseType.INCIDENT),
        sub_status__in=OPEN_SUB_STATUSES,
        priority__in=ESCALATABLE,
        opened_at__lte=now - timedelta(days=1),
    ).select_related("organization", "contact")
    return sorted(
        cases,
        key=lambda c: (
            c.organization.slug != PREFERRED_ORG,
            c.sub_status == SubStatus.NEW,
            c.number,
        ),
    )


def _requester(case: Case, contacts: dict[int, list[int]]) -> User | None:
    """The case contact when they are a designated contact, else another one (T-4)."""
    ids = contacts.setdefault(case.organization_id, _designated_contacts(case.organization_id))
    if case.contact_id in ids:
        return case.contact
    return User.objects.filter(pk__in=ids).order_by("pk").first()


def _play(story: Story, case: Case, customer: User, manager: User, now: datetime) -> Escalation:
    """Request the escalation as the customer, then take the story's steps in order."""
    start = max(case.opened_at + AFTER_OPENING, now - EARLIEST)
    span = now - start

    def at(fraction: float) -> datetime:
        return (start + span * fraction).replace(second=0, microsecond=0)

    (first, *rest) = story.steps
    escalation = services.escalation_request(
        case=case,
        actor=customer,
        reason=story.reason,
        details=story.details,
        channel=Channel.PORTAL,
        now=at(first[0]),
    )
    for fraction, who, action in rest:
        when = at(fraction)
        name, _, arg = action.partition(":")
        if name == "accept":
            importance, _, urgency = arg.partition(":")
            services.escalation_accept(
                escalation=escalation,
                actor=manager,
                importance=importance or Level.MEDIUM,
                urgency=urgency or Level.MEDIUM,
                now=when,
            )
        elif name == "reject":
            services.escalation_reject(
                escalation=escalation, actor=manager, explanation=TEXTS["reject"], now=when
            )
        elif name == "resolve":
            services.escalation_resolve(
                escalation=escalation, actor=manager, summary=TEXTS["resolve"], now=when
            )
        elif name == "message":
            by_care = who == "care"
            services.escalation_post_message(
                escalation=escalation,
                actor=manager if by_care else customer,
                body=TEXTS[arg].format(manager=manager.display_name),
                channel=Channel.ADMIN if by_care else Channel.PORTAL,
                now=when,
            )
        else:
            raise ValueError(f"Unknown step in the demo story: {action}")
    escalation.refresh_from_db()
    return escalation


@transaction.atomic
def seed_demo_escalations(*, now: datetime) -> int:
    """One escalation per story on eligible open demo cases; returns how many were added
    (0 once the demo organizations have escalations, or without demo cases or manager)."""
    with scopes_disabled():
        if Escalation.objects.filter(case__organization__slug__in=DEMO_ORG_SLUGS).exists():
            return 0
        manager = User.objects.filter(email__iexact=DEMO_MANAGER_EMAIL, is_active=True).first()
        if manager is None or not services.is_escalation_owner(manager):
            return 0
        contacts: dict[int, list[int]] = {}
        stories = list(STORIES)
        made = 0
        for case in _candidates(now):
            if not stories:
                break
            customer = _requester(case, contacts)
            if customer is None:
                continue
            if not rules.eligibility(customer, case, now).allowed:
                continue
            _play(stories.pop(0), case, customer, manager, now)
            made += 1
    return made
