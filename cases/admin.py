"""The care workspace for cases (T-5, C-5, C-7, C-8, C-9, C-16): work queues, the case page
with its transitions, composer, feed and history, and bulk actions.

The admin never writes a case itself. The case page is read-only as a model form (no
change permission on the form, so a POST to it is refused); every change is a POST to one
of the case's action URLs, which checks the user's role and the case's state on the server
(``cases.policy``) and calls the service (``cases.services``) with channel "admin". The
services check again and record the history. django-fsm-2's admin integration is not used:
it lets anyone with the change permission fire any transition.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from accounts.models import Deployment, Organization, User
from cases import policy, services
from cases.admin_reports import sla_report_export, sla_report_view
from cases.downloads import attachment_response
from cases.filters import PRIORITY_ORDER
from cases.models import (
    AWAITING_CUSTOMER,
    Attachment,
    Case,
    CaseEvent,
    Channel,
    CloudService,
    Priority,
    ProductGroup,
    SlaState,
    Status,
)
from cases.search import parse_case_number, search_cases
from cases.selectors import case_feed, case_history, visible_cases
from core.audit.services import audit_staff_access
from core.care_admin import CareAdminMixin, CheapCountPaginator, capped_count
from core.errors import DomainError
from escalations.admin import CaseEscalationInline
from escalations.models import Reason as EscalationReason
from escalations.models import State as EscalationState

CHANNEL = Channel.ADMIN
# Bulk actions call a service per case, each in its own transaction; a selection larger
# than this is almost certainly a mistake ("select all" on a whole queue).
BULK_MAX = 500


def care_staff() -> QuerySet[User]:
    """Active analysts and managers (and superusers): the people a case can be assigned to."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=policy.CARE_ROLES))
        .distinct()
        .order_by("display_name", "email")
    )


# --- queues ------------------------------------------------------------------------------


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


def _product_groups() -> list[ProductGroup]:
    return list(ProductGroup.objects.order_by("name"))


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        self._queues = {q.key: q for q in queues(_product_groups())}
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


# --- forms of the case page and the bulk actions -----------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files; the services check each (C-10)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _body(required: bool, label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        error_messages={"required": "Write a message."},
    )


class OptionalMessageForm(forms.Form):
    body = _body(False, "Public message to the customer (optional)")


class RequiredMessageForm(forms.Form):
    body = _body(True, "Public message to the customer")
    attachments = MultipleFileField(label="Attachments")


class RestoreForm(forms.Form):
    pending = forms.ChoiceField(
        label="What is still pending",
        choices=[("permanent_solution", "A permanent solution"), ("rca", "A root cause analysis")],
        widget=forms.RadioSelect,
        initial="permanent_solution",
    )
    body = _body(False, "Public message to the customer (optional)")


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    body = _body(False, "Public message to the customer (optional)")


def _owner_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="Owner",
        queryset=care_staff(),
        required=False,
        empty_label="Nobody (unassigned)",
        error_messages={"invalid_choice": "Choose a care analyst or manager."},
    )


class AssignForm(forms.Form):
    owner = _owner_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = care_staff()


class FieldsForm(forms.Form):
    """Deployment and cloud service of the case; the service checks both belong."""

    deployment = forms.TypedChoiceField(label="Account/Depl", coerce=int, choices=())
    service = forms.ChoiceField(label="Cloud service", required=False, choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        initial = kwargs.get("initial") or {}
        data = args[0] if args else kwargs.get("data")
        organization_id = initial.get("organization_id") or (data or {}).get("organization_id")
        super().__init__(*args, **kwargs)
        deployments = Deployment.unscoped.filter(
            organization_id=organization_id or 0, is_active=True
        ).order_by("code")
        self.fields["deployment"].choices = [(d.pk, str(d)) for d in deployments] or [
            (initial.get("deployment") or 0, "—")
        ]
        self.fields["service"].choices = [("", "None (Admin cases)")] + [
            (svc.slug, svc.name) for svc in CloudService.objects.filter(is_active=True)
        ]
        self.fields["organization_id"] = forms.IntegerField(
            widget=forms.HiddenInput, initial=organization_id, required=False
        )


class ComposerForm(forms.Form):
    visibility = forms.ChoiceField(
        label="Post as",
        choices=[
            ("public", "Public update (the customer sees it and is emailed)"),
            ("internal", "Internal note (care only, never shown to the customer)"),
        ],
        widget=forms.RadioSelect,
        initial="public",
    )
    body = _body(True, "Message")
    attachments = MultipleFileField(label="Attachments")


class BulkAssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        label="Assign to",
        queryset=care_staff(),
        error_messages={
            "required": "Choose an analyst.",
            "invalid_choice": "Choose a care analyst or manager.",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = care_staff()


class BulkPriorityForm(forms.Form):
    priority = forms.ChoiceField(label="New priority", choices=Priority.choices)
    body = _body(False, "Public message to each customer (optional)")


class BulkRequestInfoForm(forms.Form):
    body = _body(True, "Message to each customer: what do you need from them?")


# --- the case page's actions -------------------------------------------------------------


@dataclass(frozen=True)
class CaseAction:
    """One thing care does to a case from its page: a form and the service it calls."""

    name: str  # the wire name of cases.policy.available_actions
    label: str
    button: str
    form: type[forms.Form]
    run: Callable[..., Any]
    done: str
    group: str = "status"  # status | fields | compose


def _files(data: dict) -> list:
    return list(data.get("attachments") or [])


CASE_ACTIONS: dict[str, CaseAction] = {
    a.name: a
    for a in [
        CaseAction(
            "change-fields",
            "Correct deployment or service",
            "Save deployment and service",
            FieldsForm,
            lambda case, user, data, now: services.case_change_fields(
                case=case,
                actor=user,
                deployment_id=data["deployment"],
                service_slug=data["service"],
                channel=CHANNEL,
                now=now,
            ),
            "Deployment and service saved.",
            group="fields",
        ),
        CaseAction(
            "take",
            "Take the case",
            "Take",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_take(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "You took the case: it is under investigation.",
        ),
        CaseAction(
            "request-info",
            "Request information",
            "Request info",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_request_info(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Information requested: the case awaits the customer.",
        ),
        CaseAction(
            "propose-solution",
            "Propose a solution",
            "Propose solution",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_propose_solution(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Solution proposed.",
        ),
        CaseAction(
            "restore-service",
            "Service restored",
            "Mark service restored",
            RestoreForm,
            lambda case, user, data, now: services.case_restore_service(
                case=case,
                actor=user,
                pending=data["pending"],
                body=data["body"],
                channel=CHANNEL,
                now=now,
            ),
            "Service marked as restored.",
        ),
        CaseAction(
            "deliver-rca",
            "Deliver the RCA",
            "Deliver RCA",
            RequiredMessageForm,
            lambda case, user, data, now: services.case_deliver_rca(
                case=case,
                actor=user,
                body=data["body"],
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "RCA delivered: the solution is proposed.",
        ),
        CaseAction(
            "resolve",
            "Resolve",
            "Resolve",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_resolve(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case resolved.",
        ),
        CaseAction(
            "cancel",
            "Cancel",
            "Cancel the case",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_cancel(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case cancelled.",
        ),
        CaseAction(
            "redirect",
            "Redirect",
            "Redirect",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_redirect(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "Case redirected.",
        ),
        CaseAction(
            "set-priority",
            "Change priority",
            "Change priority",
            PriorityForm,
            lambda case, user, data, now: services.case_change_priority(
                case=case,
                actor=user,
                priority=data["priority"],
                body=data["body"],
                channel=CHANNEL,
                now=now,
            ),
            "Priority changed.",
            group="fields",
        ),
        CaseAction(
            "assign",
            "Change owner",
            "Assign",
            AssignForm,
            lambda case, user, data, now: services.case_assign(
                case=case, actor=user, owner=data["owner"], channel=CHANNEL, now=now
            ),
            "Owner changed.",
            group="fields",
        ),
        CaseAction(
            "convert-to-incident",
            "Convert to Incident",
            "Convert to Incident",
            OptionalMessageForm,
            lambda case, user, data, now: services.case_convert_to_incident(
                case=case, actor=user, body=data["body"], channel=CHANNEL, now=now
            ),
            "The case is now an Incident.",
            group="fields",
        ),
        CaseAction(
            "post-update",
            "Post an update or an internal note",
            "Post",
            ComposerForm,
            lambda case, user, data, now: services.case_post_update(
                case=case,
                actor=user,
                body=data["body"],
                internal=data["visibility"] == "internal",
                uploads=_files(data),
                channel=CHANNEL,
                now=now,
            ),
            "Posted.",
            group="compose",
        ),
    ]
}


def _initial(action: CaseAction, case: Case) -> dict:
    if action.name == "assign":
        return {"owner": case.owner_id}
    if action.name == "set-priority":
        return {"priority": case.priority}
    if action.name == "change-fields":
        return {
            "organization_id": case.organization_id,
            "deployment": case.deployment_id,
            "service": case.service.slug if case.service_id else "",
        }
    return {}


def _auto_id(action: str) -> str:
    # Several action forms share the page: their fields' ids must not clash.
    return "id_" + action.replace("-", "_") + "_%s"


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- the model admin ---------------------------------------------------------------------


class CaseChangeList(ChangeList):
    # The long texts and the search document are not list columns: not reading them keeps
    # the rows the database sorts and sends small.
    DEFERRED = ("description", "business_impact", "search_vector")

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*self.DEFERRED)


@admin.register(Case)
class CaseAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_label = "cases.case"
    audit_objects = True

    # The next due time (S-8) is a stored column: no per-row work.
    list_display = [
        "case_number",
        "organization_name",
        "subject",
        "priority_label",
        "sub_status_label",
        "next_due",
        "escalated",
        "owner_name",
        "modified_at",
    ]
    list_display_links = ["case_number", "subject"]
    list_select_related = ["organization", "owner"]
    list_filter = [
        QueueFilter,
        OrganizationFilter,
        "priority",
        "type",
        "status",
        "sub_status",
        OwnerFilter,
        "service",
        "product_group",
        ("opened_at", admin.DateFieldListFilter),
        ("modified_at", admin.DateFieldListFilter),
        ("closed_at", admin.DateFieldListFilter),
        # "Has date": escalated at least once (E-7); the stored time, no join.
        ("escalated_at", admin.DateFieldListFilter),
    ]
    # Shows the search box; get_search_results decides what a term matches.
    search_fields = ["subject", "organization__name"]
    search_help_text = (
        "A case number finds that case. Words find cases by their subject, description "
        "and public updates, or by the organization's name."
    )
    # Last modified first, as analysts work; the case_modified index serves it at any
    # table size (and case_owner_open_modified the "my open cases" queue).
    ordering = ["-modified_at", "-number"]
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CheapCountPaginator
    actions = ["assign_to_me", "assign_to_analyst", "change_priority", "request_info"]
    # The case's escalations, read-only, each linking to its review page (E-8).
    inlines = [CaseEscalationInline]

    fieldsets = [
        (
            None,
            {"fields": ["case_number", "state", "priority", "owner", "organization", "contact"]},
        ),
        (
            "Case",
            {
                "fields": [
                    "subject",
                    "type",
                    "sub_type",
                    "implementation_stage",
                    "deployment",
                    "service",
                    "product_group",
                    "description",
                    "business_impact",
                    "affected_count",
                    "external_reference",
                    "channel",
                ]
            },
        ),
        (
            "Dates",
            {
                "fields": [
                    "opened_at",
                    "first_response_at",
                    "modified_at",
                    "restored_at",
                    "rca_delivered_at",
                    "closed_at",
                    "closure_reason",
                ]
            },
        ),
        (
            "Service levels (S-1 … S-8)",
            {
                "fields": [
                    "sla_state",
                    "sla_next_due_at",
                    "response_due_at",
                    "response_met",
                    "resolution_due_at",
                    "resolution_met",
                    "sla_paused_since",
                    "restoration_due_at",
                    "rca_due_at",
                ]
            },
        ),
    ]
    readonly_fields = [f for _, options in fieldsets for f in options["fields"]]

    # -- permissions: case work is for analysts and managers (T-5) --

    def has_view_permission(self, request, obj=None) -> bool:
        return policy.is_care(request.user) and super().has_view_permission(request, obj)

    def has_work_permission(self, request) -> bool:
        return policy.is_care(request.user) and request.user.has_perm("cases.change_case")

    def has_change_permission(self, request, obj=None) -> bool:
        # The model form never saves a case: changes are the actions below.
        return False

    def has_add_permission(self, request) -> bool:
        return False  # customers open cases (C-2)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # cases are kept for ever (C-12, C-16)

    # -- the list --

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Cases", **(extra_context or {})})

    def get_queryset(self, request):
        return visible_cases(request.user).annotate(priority_rank=PRIORITY_ORDER)

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_search_results(self, request, queryset, search_term):
        """A number finds that case. Words find cases by their text (C-14's search: the
        full-text index on PostgreSQL, so a million cases are not read one by one) or by
        their organization's name."""
        term = " ".join(search_term.replace('"', " ").split())[:200]
        if not term:
            return queryset, False
        if parse_case_number(term) is not None:
            return search_cases(queryset, term), False
        organizations = Organization.objects.filter(name__icontains=term).values("pk")
        by_text = search_cases(queryset, term)
        return by_text | queryset.filter(organization_id__in=organizations), False

    @admin.display(description="Number", ordering="number")
    def case_number(self, obj: Case) -> str:
        return obj.display_number

    @admin.display(description="Organization", ordering="organization__name")
    def organization_name(self, obj: Case) -> str:
        return obj.organization.name

    @admin.display(description="Priority", ordering="priority_rank")
    def priority_label(self, obj: Case) -> str:
        label = obj.get_priority_display()
        if obj.priority == Priority.CRITICAL:
            return format_html('<strong class="case-critical">{}</strong>', label)
        return label

    @admin.display(description="Sub-status", ordering="sub_status")
    def sub_status_label(self, obj: Case) -> str:
        return obj.get_sub_status_display()

    @admin.display(description="Next due", ordering="sla_next_due_at")
    def next_due(self, obj: Case) -> str:
        if obj.sla_next_due_at is None:
            return "—"
        when = date_format(timezone.localtime(obj.sla_next_due_at), "j M H:i")
        if obj.sla_state == SlaState.BREACHED:
            return format_html('<strong class="case-critical">{} · breached</strong>', when)
        if obj.sla_state == SlaState.AT_RISK:
            return format_html("<strong>{} · at risk</strong>", when)
        return when

    @admin.display(description="Escalated")
    def escalated(self, obj: Case) -> str:
        """When the customer last asked for an escalation (E-7): a stored column."""
        if obj.escalated_at is None:
            return ""
        when = date_format(timezone.localtime(obj.escalated_at), "j M")
        return format_html(
            '<span class="case-escalated" data-testid="case-escalated">{}</span>', when
        )

    def get_ordering(self, request):
        # A queue worked in due order is shown in that order, until a header sorts it.
        key = request.GET.get("queue")
        if key and ORDER_VAR not in request.GET:
            queue = {q.key: q for q in queues([])}.get(key)
            if queue is not None and queue.ordering:
                # Copies: the ordering expressions are shared by every request.
                return [o.copy() if hasattr(o, "copy") else o for o in queue.ordering]
        return super().get_ordering(request)

    @admin.display(description="Owner", ordering="owner__display_name")
    def owner_name(self, obj: Case) -> str:
        return obj.owner.get_full_name() if obj.owner_id else "—"

    @admin.display(description="Status")
    def state(self, obj: Case) -> str:
        return f"{obj.get_status_display()} · {obj.get_sub_status_display()}"

    # -- the case page --

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "organization", "deployment", "service", "product_group", "contact", "owner"
        )
        try:
            return queryset.get(pk=int(object_id))
        except (ValueError, TypeError, Case.DoesNotExist):
            return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._work_context(request, obj, context.get("work_bound") or {}))
            context["title"] = f"Case {obj.display_number}"
            context["subtitle"] = obj.subject
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _work_context(self, request, case: Case, bound: dict[str, forms.Form]) -> dict:
        user = request.user
        can_work = self.has_work_permission(request)
        allowed = policy.available_actions(user, case, timezone.now()) if can_work else []
        panels: dict[str, list[dict]] = {"status": [], "fields": [], "compose": []}
        for name in allowed:
            action = CASE_ACTIONS.get(name)
            if action is None:
                continue
            form = bound.get(name) or action.form(
                initial=_initial(action, case), auto_id=_auto_id(name)
            )
            panels[action.group].append(
                {
                    "action": action,
                    "form": form,
                    "failed": name in bound,
                    "multipart": any(isinstance(f, forms.FileField) for f in form.fields.values()),
                    "url": reverse("admin:cases_case_act", args=[case.pk, name]),
                }
            )
        feed = list(case_feed(user=user, case=case))
        history = list(case_history(user=user, case=case))
        people = self._people(history)
        return {
            "case": case,
            "status_panel": panels["status"],
            "fields_panel": panels["fields"],
            "compose_panel": panels["compose"],
            "feed": feed,
            "history": [self._describe_event(e, people) for e in history],
            "can_work": can_work,
        }

    @staticmethod
    def _people(events: list[CaseEvent]) -> dict[int, str]:
        """Names of the owners that owner-change events mention (one query)."""
        ids = set()
        for event in events:
            if event.kind in (CaseEvent.Kind.OWNER, CaseEvent.Kind.ESCALATION):
                ids |= {v for v in (event.before.get("owner"), event.after.get("owner")) if v}
        if not ids:
            return {}
        return {u.pk: u.get_full_name() for u in User.objects.filter(pk__in=ids)}

    @staticmethod
    def _describe_event(event: CaseEvent, people: dict[int, str]) -> dict:
        """An event's changes as "field: before → after" in words, not stored values."""
        shown = {
            "sub_status": lambda v: Case(sub_status=v).get_sub_status_display(),
            "priority": lambda v: Priority(v).label if v in Priority.values else v,
            "owner": lambda v: people.get(v, f"user #{v}"),
            "type": lambda v: Case(type=v).get_type_display(),
            "sub_type": lambda v: Case(sub_type=v).get_sub_type_display(),
            "state": lambda v: EscalationState(v).label if v in EscalationState.values else v,
            "reason": lambda v: EscalationReason(v).label if v in EscalationReason.values else v,
            "escalation": lambda v: f"#{v}",
        }
        changes = []
        for key in sorted((set(event.before) | set(event.after)) - {"status", "update"}):
            show = shown.get(key, str)

            def word(values: dict, key: str = key, show: Callable = show) -> str | None:
                if key not in values:
                    return None
                value = values[key]
                return "—" if value in (None, "") else show(value)

            changes.append(
                {
                    "field": key.replace("_", " "),
                    "before": word(event.before),
                    "after": word(event.after),
                }
            )
        return {"event": event, "changes": changes}

    # -- the action views --

    def extra_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("home/", view(self.home_view), name="cases_case_home"),
            path(
                "service-levels/",
                view(partial(sla_report_view, self)),
                name="cases_case_sla_report",
            ),
            path(
                "service-levels/export.xlsx",
                view(partial(sla_report_export, self)),
                name="cases_case_sla_report_export",
            ),
            path("<path:object_id>/act/<slug:action>/", view(self.act_view), name="cases_case_act"),
            path(
                "<path:object_id>/attachments/<str:token>/",
                view(self.attachment_view),
                name="cases_case_attachment",
            ),
        ]

    def _case_or_404(self, request, object_id) -> Case:
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404("No such case.")
        return case

    def act_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if request.method != "POST":
            return redirect("admin:cases_case_change", object_id)
        # A forged POST by anyone but an analyst or manager stops here (T-5).
        if not self.has_work_permission(request):
            raise PermissionDenied
        spec = CASE_ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        case = self._case_or_404(request, object_id)
        now = timezone.now()
        form = spec.form(request.POST, request.FILES, auto_id=_auto_id(action))
        if action not in policy.available_actions(request.user, case, now):
            messages.error(
                request,
                f"“{spec.label}” is not possible for a case in "
                f"“{case.get_sub_status_display()}”. Nothing was changed.",
            )
            return self._case_page(request, case, {action: form}, status=409)
        if not form.is_valid():
            messages.error(request, f"{spec.label}: {_form_errors(form)} Nothing was changed.")
            return self._case_page(request, case, {action: form}, status=400)
        try:
            spec.run(case, request.user, form.cleaned_data, now)
        except DomainError as exc:
            messages.error(request, f"{spec.label}: {exc.message} Nothing was changed.")
            return self._case_page(request, case, {action: form}, status=exc.status_code)
        messages.success(request, spec.done)
        return redirect("admin:cases_case_change", case.pk)

    def _case_page(self, request, case: Case, bound: dict, status: int) -> HttpResponse:
        """The case page again, with the failed form filled in as it was sent."""
        as_get = copy.copy(request)
        as_get.method = "GET"
        response = self.change_view(as_get, str(case.pk), extra_context={"work_bound": bound})
        response.status_code = status
        return response

    def attachment_view(self, request: HttpRequest, object_id: str, token: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = (
            Attachment.objects.select_related("case")
            .filter(case_id=self._case_or_404(request, object_id).pk, token=token)
            .first()
        )
        if attachment is None:
            raise Http404("No such file.")
        audit_staff_access(request, attachment, action="download")
        return attachment_response(attachment)

    # -- the analyst's home --

    def home_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = request.user
        groups = _product_groups()
        all_queues = queues(groups)
        changelist = reverse("admin:cases_case_changelist")
        rows = []
        for queue in all_queues:
            # One small capped count per queue: each stops at the cap and can use the
            # indexes of its own filter, where one aggregate would read every open case.
            count, capped = capped_count(
                visible_cases(user).filter(queue.condition(user)), CheapCountPaginator.cap
            )
            rows.append(
                {
                    "queue": queue,
                    "count": f"{CheapCountPaginator.cap}+" if capped else count,
                    "url": f"{changelist}?queue={queue.key}",
                }
            )
        mine = list(
            visible_cases(user)
            .filter(my_open_cases_condition(user))
            .select_related("organization")
            .defer(*CaseChangeList.DEFERRED)
            .order_by(F("sla_next_due_at").asc(nulls_last=True), "-modified_at", "-number")[:25]
        )
        audit_staff_access(request, "cases.case home")
        context = {
            **self.admin_site.each_context(request),
            "title": "Your work",
            "opts": self.opts,
            "queues": rows,
            "my_cases": mine,
            "my_queue_url": f"{changelist}?queue=mine",
        }
        return TemplateResponse(request, "admin/cases/case/home.html", context)

    # -- bulk actions --

    def _bulk(
        self,
        request,
        queryset: QuerySet[Case],
        run: Callable[[Case, Any], Any],
        done: str,
    ) -> None:
        cases = list(queryset.select_related(None).order_by("number")[: BULK_MAX + 1])
        if len(cases) > BULK_MAX:
            self.message_user(
                request,
                f"Select at most {BULK_MAX} cases at a time; nothing was changed.",
                messages.ERROR,
            )
            return
        now = timezone.now()
        succeeded, failed = 0, []
        for case in cases:
            try:
                run(case, now)
            except DomainError as exc:
                failed.append(f"{case.display_number}: {exc.message}")
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} case(s) {done}.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"{len(failed)} case(s) not changed — " + "; ".join(failed),
                messages.WARNING,
            )

    def _intermediate(
        self, request, queryset, form: forms.Form, action: str, title: str, button: str
    ) -> TemplateResponse:
        selected = list(queryset.order_by("number")[: BULK_MAX + 1])
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "action": action,
            "button": button,
            "cases": selected[:BULK_MAX],
            "too_many": len(selected) > BULK_MAX,
            "bulk_max": BULK_MAX,
            "selected_ids": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/cases/case/bulk_action.html", context)

    @admin.action(description="Assign the selected cases to me", permissions=["work"])
    def assign_to_me(self, request, queryset):
        self._bulk(
            request,
            queryset,
            lambda case, now: services.case_assign(
                case=case, actor=request.user, owner=request.user, channel=CHANNEL, now=now
            ),
            "assigned to you",
        )

    @admin.action(description="Assign the selected cases to an analyst…", permissions=["work"])
    def assign_to_analyst(self, request, queryset):
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            owner = form.cleaned_data["owner"]
            self._bulk(
                request,
                queryset,
                lambda case, now: services.case_assign(
                    case=case, actor=request.user, owner=owner, channel=CHANNEL, now=now
                ),
                f"assigned to {owner.get_full_name()}",
            )
            return None
        return self._intermediate(
            request, queryset, form, "assign_to_analyst", "Assign cases to an analyst", "Assign"
        )

    @admin.action(description="Change the priority of the selected cases…", permissions=["work"])
    def change_priority(self, request, queryset):
        form = BulkPriorityForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            priority, body = form.cleaned_data["priority"], form.cleaned_data["body"]
            self._bulk(
                request,
                queryset,
                lambda case, now: services.case_change_priority(
                    case=case,
                    actor=request.user,
                    priority=priority,
                    body=body,
                    channel=CHANNEL,
                    now=now,
                ),
                f"changed to {Priority(priority).label}",
            )
            return None
        return self._intermediate(
            request, queryset, form, "change_priority", "Change priority", "Change priority"
        )

    @admin.action(
        description="Request information on the selected cases (one message)…",
        permissions=["work"],
    )
    def request_info(self, request, queryset):
        form = BulkRequestInfoForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            body = form.cleaned_data["body"]
            self._bulk(
                request,
                queryset,
                lambda case, now: services.case_request_info(
                    case=case, actor=request.user, body=body, channel=CHANNEL, now=now
                ),
                "now await the customer's information",
            )
            return None
        return self._intermediate(
            request, queryset, form, "request_info", "Request information", "Request info"
        )


# --- catalogue: cloud services and product groups (T-3) ----------------------------------


class CloudServiceAdminForm(forms.ModelForm):
    class Meta:
        model = CloudService
        fields = ["name", "slug", "product_group", "checklist", "is_active"]
        widgets = {"checklist": forms.Textarea(attrs={"rows": 16, "cols": 90})}
        help_texts = {
            "checklist": "The intake checklist pre-filled in the description of a new case "
            "for this service (T-3, C-4).",
        }


@admin.register(CloudService)
class CloudServiceAdmin(CareAdminMixin, admin.ModelAdmin):
    form = CloudServiceAdminForm
    list_display = ["name", "slug", "product_group", "is_active"]
    list_filter = ["product_group", "is_active"]
    list_select_related = ["product_group"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None) -> bool:
        # Cases point at services; retire one with "active" instead.
        return request.user.is_superuser and super().has_delete_permission(request, obj)


class CloudServiceInline(admin.TabularInline):
    model = CloudService
    extra = 0
    fields = ["name", "slug", "is_active"]
    readonly_fields = ["name", "slug", "is_active"]
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ProductGroup)
class ProductGroupAdmin(CareAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "service_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CloudServiceInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(service_total=Count("services", distinct=True))
        )

    @admin.display(description="Services", ordering="service_total")
    def service_count(self, obj: ProductGroup) -> int:
        return obj.service_total

    def get_list_display(self, request):
        # The link to the group's queue only for those who work cases.
        if policy.is_care(request.user):
            return [*self.list_display, "open_cases"]
        return self.list_display

    @admin.display(description="Queue")
    def open_cases(self, obj: ProductGroup) -> str:
        url = reverse("admin:cases_case_changelist") + f"?queue=group-{obj.slug}"
        return format_html('<a href="{}">Open cases</a>', url)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)
