"""The care workspace for escalations (E-8, E-9): the care managers' queues, the review page
with its decisions, and the escalation feed.

As for cases, the admin never writes an escalation itself. The review page is read-only as a
model form (nobody has the change permission on the form, so a POST to it is refused); each
decision is a POST to one of the escalation's action URLs, which lets only a care manager
through and calls the service (``escalations.services``) with channel "admin". The services
check again, record the case history and queue the emails. Escalations are requested by
customers: nobody adds or deletes one here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts import roles
from accounts.models import User
from cases import policy
from cases.links import case_path
from cases.models import Channel
from cases.search import parse_case_number
from core.care_admin import CareAdminMixin, CheapCountPaginator
from core.errors import DomainError, InvalidInput
from escalations import services
from escalations.links import escalation_path
from escalations.models import ACTIVE_STATES, Escalation, Level, State
from escalations.selectors import escalation_feed

CHANNEL = Channel.ADMIN


def escalation_owners() -> QuerySet[User]:
    """The people who may own an escalation: active care managers (and superusers)."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name=roles.CARE_MANAGER))
        .distinct()
        .order_by("display_name", "email")
    )


# --- queues ------------------------------------------------------------------------------


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


# --- forms of the review page ------------------------------------------------------------


def _text(label: str, required_message: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=help_text,
        error_messages={"required": required_message},
    )


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


def _owner_field(label: str) -> OwnerChoiceField:
    return OwnerChoiceField(
        label=label,
        queryset=escalation_owners(),
        empty_label=None,
        error_messages={
            "required": "Choose the escalation owner.",
            "invalid_choice": "The escalation owner must be a Customer Care manager.",
        },
    )


class AcceptForm(forms.Form):
    importance = forms.ChoiceField(label="Importance", choices=Level.choices)
    urgency = forms.ChoiceField(label="Urgency", choices=Level.choices)
    owner = _owner_field("Escalation owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = escalation_owners()


class RejectForm(forms.Form):
    explanation = _text(
        "Explanation",
        "Write the explanation: the customer is told why.",
        "Shown to the customer (E-8).",
    )


class ResolveForm(forms.Form):
    summary = _text(
        "Summary", "Write a summary of how it was resolved.", "Shown to the customer (E-8)."
    )


class ReassignForm(forms.Form):
    owner = _owner_field("New escalation owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = escalation_owners()


class MessageForm(forms.Form):
    body = _text(
        "Message",
        "Write a message.",
        "The customer sees it in the escalation feed and is emailed (E-9).",
    )


# --- the review page's actions -----------------------------------------------------------


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


def _initial(action: EscalationAction, escalation: Escalation, user: User) -> dict:
    if action.name == "accept":
        return {"importance": Level.MEDIUM, "urgency": Level.MEDIUM, "owner": user.pk}
    if action.name == "reassign":
        return {"owner": escalation.owner_id}
    return {}


def _auto_id(action: str) -> str:
    # Several action forms share the page: their fields' ids must not clash.
    return "id_" + action.replace("-", "_") + "_%s"


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _not_possible(action: EscalationAction, escalation: Escalation) -> str:
    hint = (
        "; accept it first"
        if action.name == "resolve" and escalation.state == State.REQUESTED
        else ""
    )
    return (
        f"“{action.label}” is not possible for an escalation that is "
        f"{escalation.get_state_display().lower()}{hint}. Nothing was changed."
    )


def _age(start: datetime, end: datetime) -> str:
    """A duration as care reads it: "3 d 4 h", "5 h 10 min", "12 min"."""
    delta = max(end - start, timedelta(0))
    days, seconds = delta.days, delta.seconds
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


# --- the model admin ---------------------------------------------------------------------


class EscalationChangeList(ChangeList):
    # The long texts (the escalation's and its case's) are never list columns: not reading
    # them keeps the rows small.
    DEFERRED = (
        "details",
        "explanation",
        "summary",
        "case__description",
        "case__business_impact",
        "case__search_vector",
    )

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*self.DEFERRED)


@admin.register(Escalation)
class EscalationAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_label = "escalations.escalation"
    audit_objects = True

    list_display = [
        "case_number",
        "organization_name",
        "reason",
        "state",
        "importance",
        "urgency",
        "owner_name",
        "requested_at",
        "age",
        "last_message_at",
    ]
    # The case number links to the case; the reason opens the review page.
    list_display_links = ["reason"]
    list_select_related = ["case", "organization", "owner"]
    list_filter = [QueueFilter, "reason", "importance", "urgency"]
    search_fields = ["organization__name"]
    search_help_text = "A case number finds that case's escalations; words find organizations."
    ordering = list(OLDEST_FIRST)
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CheapCountPaginator
    actions = None

    # Only shown through the review template; listed so the model form has no input.
    fields = [
        "case",
        "reason",
        "details",
        "state",
        "owner",
        "importance",
        "urgency",
        "requested_at",
    ]
    readonly_fields = fields

    # -- permissions: managers decide, analysts follow (T-5, E-8) --

    def has_view_permission(self, request, obj=None) -> bool:
        return policy.is_care(request.user) and super().has_view_permission(request, obj)

    def can_act(self, request, action: EscalationAction) -> bool:
        user = request.user
        return services.is_escalation_owner(user) and user.has_perm(action.permission)

    def has_decide_permission(self, request) -> bool:
        return any(self.can_act(request, a) for a in ACTIONS.values())

    def has_change_permission(self, request, obj=None) -> bool:
        # The model form never saves an escalation: decisions are the actions below.
        return False

    def has_add_permission(self, request) -> bool:
        return False  # customers request escalations (E-7)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept with the case's history

    # -- the list --

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Escalations", **(extra_context or {})})

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Care see every escalation (T-5); nobody else reaches these pages.
        return queryset if policy.is_care(request.user) else queryset.none()

    def get_changelist(self, request, **kwargs):
        return EscalationChangeList

    def get_ordering(self, request):
        if ORDER_VAR in request.GET:
            return super().get_ordering(request)
        try:
            return list(queue_named(request.GET.get(QueueFilter.parameter_name)).ordering)
        except IncorrectLookupParameters:
            return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        term = " ".join(search_term.split())[:200]
        if not term:
            return queryset, False
        number = parse_case_number(term)
        if number is not None:
            return queryset.filter(case__number=number), False
        return queryset.filter(organization__name__icontains=term), False

    @admin.display(description="Case", ordering="case__number")
    def case_number(self, obj: Escalation) -> str:
        url = reverse("admin:cases_case_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.display_number)

    @admin.display(description="Organization", ordering="organization__name")
    def organization_name(self, obj: Escalation) -> str:
        return obj.organization.name

    @admin.display(description="Owner", ordering="owner__display_name")
    def owner_name(self, obj: Escalation) -> str:
        return obj.owner.get_full_name() if obj.owner_id else "—"

    @admin.display(description="Age", ordering="-requested_at")
    def age(self, obj: Escalation) -> str:
        """How long it has waited; a closed one, how long it took."""
        end = (obj.resolved_at or obj.decided_at) if obj.state in CLOSED_STATES else None
        return _age(obj.requested_at, end or timezone.now())

    # -- the review page --

    def get_object(self, request, object_id, from_field=None):
        queryset = (
            self.get_queryset(request)
            .select_related(
                "case",
                "case__organization",
                "case__contact",
                "case__owner",
                "organization",
                "requester",
                "owner",
                "decided_by",
            )
            .defer("case__search_vector")
        )
        try:
            return queryset.get(pk=int(object_id))
        except (ValueError, TypeError, Escalation.DoesNotExist):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._review_context(request, obj, context.get("work_bound") or {}))
            context["title"] = f"Escalation of case {obj.case.display_number}"
            context["subtitle"] = obj.get_reason_display()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _review_context(
        self, request, escalation: Escalation, bound: dict[str, forms.Form]
    ) -> dict:
        user = request.user
        panels: dict[str, list[dict]] = {"decide": [], "compose": []}
        for name, action in ACTIONS.items():
            if escalation.state not in action.states or not self.can_act(request, action):
                continue
            form = bound.get(name) or action.form(
                initial=_initial(action, escalation, user), auto_id=_auto_id(name)
            )
            panels[action.group].append(
                {
                    "action": action,
                    "form": form,
                    "failed": name in bound,
                    "url": reverse("admin:escalations_escalation_act", args=[escalation.pk, name]),
                }
            )
        case = escalation.case
        return {
            "escalation": escalation,
            "case": case,
            "feed": list(escalation_feed(escalation=escalation)),
            "decide_panel": panels["decide"],
            "compose_panel": panels["compose"],
            "can_decide": self.has_decide_permission(request),
            "is_closed": escalation.state in CLOSED_STATES,
            "case_admin_url": reverse("admin:cases_case_change", args=[case.pk]),
            "case_portal_url": case_path(case.number),
            "escalation_portal_url": escalation_path(escalation),
            "organization_admin_url": reverse(
                "admin:accounts_organization_change", args=[escalation.organization_id]
            ),
        }

    # -- the action views --

    def extra_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                view(self.act_view),
                name="escalations_escalation_act",
            ),
        ]

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:escalations_escalation_change", object_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        # A forged POST by anyone but a care manager stops here (E-8): analysts only read.
        if not self.can_act(request, spec):
            raise PermissionDenied
        escalation = self.get_object(request, unquote(object_id))
        if escalation is None:
            raise Http404("No such escalation.")
        form = spec.form(request.POST, auto_id=_auto_id(action))
        if escalation.state not in spec.states:
            messages.error(request, _not_possible(spec, escalation))
            return self._review_page(request, escalation, {}, status=409)
        if not form.is_valid():
            messages.error(request, f"{spec.label}: {_form_errors(form)} Nothing was changed.")
            return self._review_page(request, escalation, {action: form}, status=400)
        try:
            spec.run(escalation, request.user, form.cleaned_data, timezone.now())
        except DomainError as exc:
            if isinstance(exc, InvalidInput):
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
            messages.error(request, f"{spec.label}: {exc.message} Nothing was changed.")
            return self._review_page(request, escalation, {action: form}, status=exc.status_code)
        messages.success(request, spec.done)
        return redirect("admin:escalations_escalation_change", escalation.pk)

    def _review_page(self, request, escalation: Escalation, bound: dict, status: int):
        """The review page again, with the failed form filled in as it was sent."""
        as_get = copy.copy(request)
        as_get.method = "GET"
        response = self.change_view(as_get, str(escalation.pk), extra_context={"work_bound": bound})
        response.status_code = status
        return response


# --- on the case page: the case's escalations, read-only ---------------------------------


class CaseEscalationInline(admin.TabularInline):
    """The escalations of a case, newest first, each linking to its review page. Read-only:
    its template lists them without any input."""

    model = Escalation
    fk_name = "case"
    template = "admin/escalations/escalation/case_inline.html"
    verbose_name = "escalation"
    verbose_name_plural = "Escalations (E-8)"
    extra = 0
    can_delete = False
    fields = ["reason", "state", "owner", "importance", "urgency", "requested_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("owner")
            .defer("details", "explanation", "summary")
            .order_by("-requested_at", "-id")
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return policy.is_care(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
