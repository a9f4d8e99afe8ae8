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
from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone

from cases import policy
from cases.links import case_path
from cases.search import parse_case_number
from core.care_admin import CareAdminMixin, CheapCountPaginator
from core.errors import DomainError, InvalidInput
from escalations import services
from escalations.admin.actions import (
    ACTIONS,
    EscalationAction,
    auto_id,
    form_errors,
    initial,
    not_possible,
)
from escalations.admin.queues import CLOSED_STATES, OLDEST_FIRST, QueueFilter, queue_named
from escalations.links import escalation_path
from escalations.models import Escalation
from escalations.selectors import escalation_feed


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
        return render_to_string(
            "admin/escalations/escalation/case_link.html",
            {"url": url, "number": obj.case.display_number},
        )

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
                initial=initial(action, escalation, user), auto_id=auto_id(name)
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
        form = spec.form(request.POST, auto_id=auto_id(action))
        if escalation.state not in spec.states:
            messages.error(request, not_possible(spec, escalation))
            return self._review_page(request, escalation, {}, status=409)
        if not form.is_valid():
            messages.error(request, f"{spec.label}: {form_errors(form)} Nothing was changed.")
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
