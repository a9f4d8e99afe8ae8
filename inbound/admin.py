"""Received email in the care workspace (N-3, N-4): what came in, what became of it, and why.

Read-only for everyone: a message is a record of what was received, changed by nobody. The
list never reads the raw bytes; the message page shows the text as plain text (never the
message's own HTML) and, for care managers (``inbound.download_raw_inboundmessage``), a
download of the raw message. Each look is recorded in the staff access audit log.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.text import Truncator

from cases import policy
from cases.attachments import human_size
from cases.models import Case
from cases.search import parse_case_number
from core.audit.services import audit_staff_access
from core.care_admin import CareAdminMixin, CheapCountPaginator
from inbound.models import InboundMessage
from inbound.selectors import inbound_message_content, inbound_message_raw, inbound_messages

DOWNLOAD_RAW = "inbound.download_raw_inboundmessage"


class CaseFilter(admin.SimpleListFilter):
    """The messages of one case (the case page links here). Shown only while it filters:
    a list of every case would be useless in a sidebar."""

    title = "case"
    parameter_name = "case"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value or not value.isdigit():
            return []
        numbers = Case.unscoped.filter(pk=int(value)).values_list("pk", "number")
        return [(str(pk), f"Case {number:08d}") for pk, number in numbers]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters("Unknown case.")
        return queryset.filter(case_id=int(value))


@admin.register(InboundMessage)
class InboundMessageAdmin(CareAdminMixin, admin.ModelAdmin):
    audit_label = "inbound.inboundmessage"
    audit_objects = True

    list_display = ["received_at", "sender", "subject", "outcome", "case_link", "reason_short"]
    list_display_links = ["received_at", "subject"]
    list_filter = [
        "outcome",
        "transport",
        CaseFilter,
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = ["sender", "subject"]
    search_help_text = "A case number finds its messages; other words, the sender or subject."
    ordering = ["-received_at", "-id"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = CheapCountPaginator

    fieldsets = [
        (None, {"fields": ["received_at", "transport", "outcome", "reason", "case_link"]}),
        ("Message", {"fields": ["sender", "subject", "message_id", "size_shown"]}),
        (
            "Handling",
            {
                "fields": [
                    "handled_at",
                    "organization",
                    "update",
                    "bounced_email",
                    "answered_at",
                    "attempts",
                    "last_error",
                ]
            },
        ),
    ]
    readonly_fields = [f for _, options in fieldsets for f in options["fields"]]

    # -- permissions: care reads; nobody writes --

    def has_view_permission(self, request, obj=None) -> bool:
        return policy.is_care(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def can_download_raw(self, request) -> bool:
        return self.has_view_permission(request) and request.user.has_perm(DOWNLOAD_RAW)

    # -- the list --

    def get_queryset(self, request):
        return inbound_messages()

    def get_search_results(self, request, queryset, search_term):
        number = parse_case_number(search_term)
        if number is not None:
            return queryset.filter(case__number=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Case", ordering="case__number")
    def case_link(self, obj: InboundMessage) -> str:
        if obj.case_id is None:
            return "—"
        return render_to_string(
            "admin/inbound/inboundmessage/case_link.html",
            {
                "url": reverse("admin:cases_case_change", args=[obj.case_id]),
                "number": obj.case.display_number,
            },
        )

    @admin.display(description="Why")
    def reason_short(self, obj: InboundMessage) -> str:
        return Truncator(obj.reason).chars(90)

    @admin.display(description="Size")
    def size_shown(self, obj: InboundMessage) -> str:
        return human_size(obj.size)

    # -- the message page --

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["content"] = inbound_message_content(message=obj)
            context["can_download_raw"] = self.can_download_raw(request)
            context["raw_url"] = reverse("admin:inbound_inboundmessage_raw", args=[obj.pk])
            context["title"] = f"Email from {obj.sender or 'an unknown sender'}"
            context["subtitle"] = obj.subject
        return super().render_change_form(request, context, add, change, form_url, obj)

    def extra_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/raw/", view(self.raw_view), name="inbound_inboundmessage_raw"),
        ]

    def raw_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The message as received, as a download: a mail client opens it, a browser never
        renders it (its HTML could be anything)."""
        if not self.can_download_raw(request):
            raise PermissionDenied
        message = self.get_object(request, unquote(object_id))
        if message is None:
            raise Http404("No such message.")
        audit_staff_access(request, message, action="download")
        response = HttpResponse(inbound_message_raw(message=message), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{message.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
