"""The care workspace for cases (T-5, C-5, C-7, C-8, C-9, C-16): the case list, the case page
with its transitions, composer, feed and history, and the analyst's home.

The admin never writes a case itself. The case page is read-only as a model form (no
change permission on the form, so a POST to it is refused); every change is a POST to one
of the case's action URLs, which checks the user's role and the case's state on the server
and runs the action of the registry (``cases.actions``): its service, with channel
"admin". The services check again and record the history. django-fsm-2's admin
integration is not used: it lets anyone with the change permission fire any transition.
"""

from __future__ import annotations

import copy
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Organization
from cases import policy
from cases.actions import CASE_ACTIONS, Who, available_actions
from cases.admin.bulk import BulkActionsMixin
from cases.admin.forms import action_form, bound_action_form, form_errors
from cases.admin.queues import (
    OrganizationFilter,
    OwnerFilter,
    QueueFilter,
    my_open_cases_condition,
    product_groups,
    queue_ordering,
    queues,
)
from cases.admin.reports import sla_report_export, sla_report_view
from cases.downloads import attachment_response
from cases.filters import PRIORITY_ORDER
from cases.history_display import describe_events
from cases.models import Attachment, Case, Channel, Priority, SlaState
from cases.search import parse_case_number, search_cases
from cases.selectors import case_feed, case_history, visible_cases
from core.audit.services import audit_staff_access
from core.care_admin import CareAdminMixin, CheapCountPaginator, capped_count
from core.errors import DomainError

CHANNEL = Channel.ADMIN

# --- the model admin ---------------------------------------------------------------------

# The list columns that mark a value (a critical priority, a due time at risk, an escalation).
COLUMNS = {
    name: f"admin/cases/case/columns/{name}.html" for name in ("priority", "next_due", "escalated")
}


class CaseChangeList(ChangeList):
    # The long texts and the search document are not list columns: not reading them keeps
    # the rows the database sorts and sends small.
    DEFERRED = ("description", "business_impact", "search_vector")

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*self.DEFERRED)


@admin.register(Case)
class CaseAdmin(BulkActionsMixin, CareAdminMixin, admin.ModelAdmin):
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
            return render_to_string(COLUMNS["priority"], {"label": label})
        return label

    @admin.display(description="Sub-status", ordering="sub_status")
    def sub_status_label(self, obj: Case) -> str:
        return obj.get_sub_status_display()

    @admin.display(description="Next due", ordering="sla_next_due_at")
    def next_due(self, obj: Case) -> str:
        if obj.sla_next_due_at is None:
            return "—"
        when = date_format(timezone.localtime(obj.sla_next_due_at), "j M H:i")
        if obj.sla_state in (SlaState.BREACHED, SlaState.AT_RISK):
            breached = obj.sla_state == SlaState.BREACHED
            return render_to_string(COLUMNS["next_due"], {"when": when, "breached": breached})
        return when

    @admin.display(description="Escalated")
    def escalated(self, obj: Case) -> str:
        """When the customer last asked for an escalation (E-7): a stored column."""
        if obj.escalated_at is None:
            return ""
        when = date_format(timezone.localtime(obj.escalated_at), "j M")
        return render_to_string(COLUMNS["escalated"], {"when": when})

    def get_ordering(self, request):
        # A queue worked in due order is shown in that order, until a header sorts it.
        if ORDER_VAR not in request.GET:
            ordering = queue_ordering(request.GET.get("queue"))
            if ordering is not None:
                return ordering
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
        allowed = available_actions(user, case, timezone.now()) if can_work else []
        panels: dict[str, list[dict]] = {"status": [], "fields": [], "compose": []}
        for name in allowed:
            action = CASE_ACTIONS[name]
            form = bound.get(name) or action_form(action, case)
            panels[action.panel].append(
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
        return {
            "case": case,
            "status_panel": panels["status"],
            "fields_panel": panels["fields"],
            "compose_panel": panels["compose"],
            "feed": feed,
            "history": describe_events(history),
            "can_work": can_work,
        }

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
        if spec is None or Who.CARE not in spec.who:
            raise Http404("No such action.")
        case = self._case_or_404(request, object_id)
        now = timezone.now()
        form = bound_action_form(spec, request)
        if action not in available_actions(request.user, case, now):
            messages.error(
                request,
                f"“{spec.label}” is not possible for a case in "
                f"“{case.get_sub_status_display()}”. Nothing was changed.",
            )
            return self._case_page(request, case, {action: form}, status=409)
        if not form.is_valid():
            messages.error(request, f"{spec.label}: {form_errors(form)} Nothing was changed.")
            return self._case_page(request, case, {action: form}, status=400)
        try:
            spec.run(
                case=case, actor=request.user, data=form.cleaned_data, channel=CHANNEL, now=now
            )
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
        groups = product_groups()
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
