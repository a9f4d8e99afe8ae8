"""The work queues of the care workspace (T-5, C-13): saved views of the case list, and the
list filters of the case list (queue, owner, organization)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import F, Q, QuerySet

from accounts.models import Organization, User
from cases import policy
from cases.models import AWAITING_CUSTOMER, ProductGroup, SlaState, Status


def care_staff() -> QuerySet[User]:
    """Active analysts and managers (and superusers): the people a case can be assigned to."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=policy.CARE_ROLES))
        .distinct()
        .order_by("display_name", "email")
    )


@dataclass(frozen=True)
class Queue:
    """A saved view of the case list. ``condition`` narrows the cases for a user;
    ``ordering``, if any, is the queue's order unless a column header sorts it."""

    key: str
    title: str
    condition: Callable[[User], Q]
    ordering: tuple = ()


# Soonest due first; cases without a running target last (S-8).
DUE_ORDER = (F("sla_next_due_at").asc(nulls_last=True), "-number")


def at_risk_condition(user: User) -> Q:
    """S-6: open cases at risk or breached; written as the partial index on them is."""
    return _open() & ~Q(sla_state=SlaState.OK)


def _open() -> Q:
    # Written as the partial indexes on open cases are (NOT status = 'closed'), so the
    # planner can use them.
    return ~Q(status=Status.CLOSED)


def my_open_cases_condition(user: User) -> Q:
    return _open() & Q(owner=user)


def queues(groups: list[ProductGroup]) -> list[Queue]:
    return [
        Queue("mine", "My open cases", my_open_cases_condition),
        Queue("unassigned", "Unassigned", lambda user: _open() & Q(owner__isnull=True)),
        Queue("sla", "At risk / breached", at_risk_condition, ordering=DUE_ORDER),
        Queue(
            "awaiting",
            "Awaiting customer",
            lambda user: Q(sub_status__in=AWAITING_CUSTOMER),
        ),
        *(
            Queue(
                f"group-{group.slug}",
                f"{group.name}: open",
                lambda user, pk=group.pk: _open() & Q(product_group_id=pk),
            )
            for group in groups
        ),
        Queue("open", "All open", lambda user: _open()),
    ]


def product_groups() -> list[ProductGroup]:
    return list(ProductGroup.objects.order_by("name"))


def queue_ordering(key: str | None) -> list | None:
    """The order of the queue named ``key``, if it has its own."""
    queue = {q.key: q for q in queues([])}.get(key or "")
    if queue is None or not queue.ordering:
        return None
    # Copies: the ordering expressions are shared by every request.
    return [o.copy() if hasattr(o, "copy") else o for o in queue.ordering]


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        self._queues = {q.key: q for q in queues(product_groups())}
        return [(q.key, q.title) for q in self._queues.values()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        queue = self._queues.get(self.value())
        if queue is None:
            raise IncorrectLookupParameters(f"No queue named {self.value()!r}.")
        return queryset.filter(queue.condition(request.user))


class OwnerFilter(admin.SimpleListFilter):
    title = "owner"
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        staff = care_staff().values_list("pk", "display_name", "email")
        return [("none", "Unassigned"), *((str(pk), name or email) for pk, name, email in staff)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if not value.isdigit():
            raise IncorrectLookupParameters("Unknown owner.")
        return queryset.filter(owner_id=int(value))


class OrganizationFilter(admin.SimpleListFilter):
    """Organizations by name. With many tenants the sidebar lists the first ``LIMIT``
    (and the chosen one); the search box finds any organization by name."""

    title = "organization"
    parameter_name = "organization"
    LIMIT = 200

    def lookups(self, request, model_admin):
        orgs = Organization.objects.order_by("name").values_list("pk", "name")
        choices = [(str(pk), name) for pk, name in orgs[: self.LIMIT]]
        value = self.value()
        if value and value.isdigit() and value not in {c[0] for c in choices}:
            chosen = Organization.objects.filter(pk=int(value)).values_list("pk", "name")
            choices += [(str(pk), name) for pk, name in chosen]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters("Unknown organization.")
        return queryset.filter(organization_id=int(value))
