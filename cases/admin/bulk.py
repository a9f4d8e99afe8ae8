"""Bulk actions on the case list of the care workspace (C-5, C-7, C-8): assign, change the
priority, request information. Each runs the case action of the registry
(``cases.actions``) once per case, in its own transaction, and reports which cases it could
not change and why."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils import timezone

from cases.actions import CASE_ACTIONS
from cases.admin.forms import BulkAssignForm, BulkPriorityForm, BulkRequestInfoForm
from cases.models import Case, Channel, Priority
from core.errors import DomainError

CHANNEL = Channel.ADMIN
# Bulk actions call a service per case, each in its own transaction; a selection larger
# than this is almost certainly a mistake ("select all" on a whole queue).
BULK_MAX = 500


class BulkActionsMixin:
    """The bulk actions of the case admin; only those with the "work" permission see them."""

    actions = ["assign_to_me", "assign_to_analyst", "change_priority", "request_info"]

    def _bulk(
        self,
        request,
        queryset: QuerySet[Case],
        action: str,
        data: dict,
        done: str,
    ) -> None:
        run = CASE_ACTIONS[action].run
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
                run(case=case, actor=request.user, data=data, channel=CHANNEL, now=now)
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
        self._bulk(request, queryset, "assign", {"owner": request.user}, "assigned to you")

    @admin.action(description="Assign the selected cases to an analyst…", permissions=["work"])
    def assign_to_analyst(self, request, queryset):
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            owner = form.cleaned_data["owner"]
            self._bulk(
                request,
                queryset,
                "assign",
                {"owner": owner},
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
            priority = form.cleaned_data["priority"]
            self._bulk(
                request,
                queryset,
                "set-priority",
                form.cleaned_data,
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
            self._bulk(
                request,
                queryset,
                "request-info",
                form.cleaned_data,
                "now await the customer's information",
            )
            return None
        return self._intermediate(
            request, queryset, form, "request_info", "Request information", "Request info"
        )
