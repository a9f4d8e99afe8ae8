"""The audit log in the care workspace: read-only, for care managers."""

from django.contrib import admin

from core.audit.models import AuditLogEntry
from core.care_admin import CareAdminMixin, CheapCountPaginator


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(CareAdminMixin, admin.ModelAdmin):
    """Who looked at what (read-only; care managers only, by the migration's permission)."""

    list_display = ["created_at", "actor", "action", "model", "object_repr", "organization", "path"]
    list_filter = ["action", "model", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=object_repr", "actor__email", "organization__name"]
    list_select_related = ["actor", "organization"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CheapCountPaginator
    list_per_page = 100
    readonly_fields = [
        "created_at",
        "actor",
        "action",
        "model",
        "object_id",
        "object_repr",
        "organization",
        "path",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
