"""The care managers' queues of escalations (E-8): saved views of the escalation list, each
with its order, and the list filter that offers them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Q, QuerySet

from accounts import roles
from accounts.models import User
from escalations.models import ACTIVE_STATES, State


def escalation_owners() -> QuerySet[User]:
    """The people who may own an escalation: active care managers (and superusers)."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=roles.CARE_MANAGER))
        .distinct()
        .order_by("display_name", "email")
    )


@dataclass(frozen=True)
class Queue:
    """A saved view of the escalation list: which escalations, in which order (unless a
    column header sorts it)."""

    key: str
    title: str
    condition: Callable[[User], Q]
    ordering: tuple[str, ...]


OLDEST_FIRST = ("requested_at", "id")
# Important and urgent first (E-8), then the longest waiting; the escalation_queue index.
BY_PRIORITY = ("-priority_score", "requested_at", "id")
NEWEST_FIRST = ("-requested_at", "-id")
CLOSED_STATES = (State.REJECTED, State.RESOLVED)

QUEUES: dict[str, Queue] = {
    q.key: q
    for q in [
        Queue(
            "requested",
            "Requested (to review)",
            lambda user: Q(state=State.REQUESTED),
            OLDEST_FIRST,
        ),
        Queue("accepted", "Accepted", lambda user: Q(state=State.ACCEPTED), BY_PRIORITY),
        Queue(
            "mine",
            "Mine (active, I own them)",
            lambda user: Q(owner=user, state__in=ACTIVE_STATES),
            BY_PRIORITY,
        ),
        Queue(
            "closed",
            "Closed (rejected or resolved)",
            lambda user: Q(state__in=CLOSED_STATES),
            NEWEST_FIRST,
        ),
        Queue("all", "All, closed ones too", lambda user: Q(), NEWEST_FIRST),
    ]
}
# The list without a queue chosen: what still needs care management.
ACTIVE_QUEUE = Queue(
    "", "Active (requested or accepted)", lambda user: Q(state__in=ACTIVE_STATES), OLDEST_FIRST
)


def queue_named(key: str | None) -> Queue:
    if not key:
        return ACTIVE_QUEUE
    queue = QUEUES.get(key)
    if queue is None:
        raise IncorrectLookupParameters(f"No queue named {key!r}.")
    return queue


class QueueFilter(admin.SimpleListFilter):
    """The queues; with none chosen the list shows the active escalations."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [(q.key, q.title) for q in QUEUES.values()]

    def queryset(self, request, queryset):
        return queryset.filter(queue_named(self.value()).condition(request.user))

    def choices(self, changelist):
        # Django's first choice, "All", removes the parameter: here that is the active list.
        for index, choice in enumerate(super().choices(changelist)):
            yield {**choice, "display": ACTIVE_QUEUE.title} if index == 0 else choice
