"""Follow-up timers in the care workspace: read-only, for answering "why did the customer
get this reminder" and "when will this case close". Timers change only through the case
services and the sweep."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.care_admin import CareAdminMixin, CheapCountPaginator
from followups.models import FollowUpStep, FollowUpTimer


class ActiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("running", "Running"), ("stopped", "Stopped")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "running":
            return queryset.filter(stopped_at__isnull=True)
        if self.value() == "stopped":
            return queryset.filter(stopped_at__isnull=False)
        return queryset


class FollowUpStepInline(admin.TabularInline):
    model = FollowUpStep
    extra = 0
    can_delete = False
    fields = ["step", "due_at", "done_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FollowUpTimer)
class FollowUpTimerAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_label = "followups.followuptimer"
    audit_objects = True
    list_display = [
        "case_number",
        "organization",
        "reason",
        "started_at",
        "steps_done",
        "next_due_at",
        "stopped_at",
        "stop_reason",
    ]
    list_filter = [ActiveFilter, "reason", "steps_done", "stop_reason"]
    list_select_related = ["case", "organization"]
    search_fields = ["=case__number"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CheapCountPaginator
    ordering = ["-started_at", "-id"]
    inlines = [FollowUpStepInline]
    readonly_fields = [
        "organization",
        "case",
        "reason",
        "started_at",
        "reminder1_due_at",
        "reminder2_due_at",
        "close_due_at",
        "next_due_at",
        "steps_done",
        "stopped_at",
        "stop_reason",
        "created_at",
    ]

    @admin.display(description="Case", ordering="case__number")
    def case_number(self, obj: FollowUpTimer) -> str:
        return obj.case.display_number

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
