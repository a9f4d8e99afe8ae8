"""The case page of the care workspace, with what the escalations app adds to it (E-7, E-8):
the case's escalations, read-only, each linking to its review page. (The history names an
escalation's steps in words through ``cases.history_display``, which this app's ``ready``
tells the words for its states and reasons.)

The escalations app sits above cases, so it extends the case admin here rather than the case
admin reaching up for it.
"""

from __future__ import annotations

from django.contrib import admin

from cases import policy
from cases.admin import CaseAdmin as BaseCaseAdmin
from cases.models import Case
from escalations.models import Escalation


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


class CaseAdmin(BaseCaseAdmin):
    inlines = [*BaseCaseAdmin.inlines, CaseEscalationInline]


admin.site.unregister(Case)
admin.site.register(Case, CaseAdmin)
