"""REST API v1 routes, the OpenAPI schema and the docs page (included at /api/)."""

from django.urls import path, re_path, register_converter

from accounts import api as accounts_api
from cases import api as cases_api
from core import api
from escalations import api as escalations_api


class CaseNumberConverter:
    """A case number as shown (8 digits) or without its leading zeros; at most 12 digits, so
    an absurdly long number is a plain 404, not a database overflow."""

    regex = "[0-9]{1,12}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str | int) -> str:
        return f"{int(value):08d}"


register_converter(CaseNumberConverter, "api_case_number")

app_name = "api"

urlpatterns = [
    path("schema/", api.schema_view, name="schema"),
    path("docs/", api.docs, name="docs"),
    path("v1/auth/token/", accounts_api.TokenView.as_view(), name="auth-token"),
    path("v1/me/", accounts_api.MeView.as_view(), name="me"),
    path(
        "v1/organizations/", accounts_api.OrganizationListView.as_view(), name="organization-list"
    ),
    path("v1/services/", cases_api.ServiceListView.as_view(), name="service-list"),
    path("v1/cases/", cases_api.CaseListView.as_view(), name="case-list"),
    path("v1/cases/export.xlsx", cases_api.CaseExportView.as_view(), name="case-export"),
    path(
        "v1/cases/<api_case_number:number>/", cases_api.CaseDetailView.as_view(), name="case-detail"
    ),
    path(
        "v1/cases/<api_case_number:number>/updates/",
        cases_api.CaseUpdatesView.as_view(),
        name="case-updates",
    ),
    path(
        "v1/cases/<api_case_number:number>/history/",
        cases_api.CaseHistoryView.as_view(),
        name="case-history",
    ),
    path(
        "v1/cases/<api_case_number:number>/escalations/",
        escalations_api.CaseEscalationsView.as_view(),
        name="case-escalations",
    ),
    *(
        path(
            f"v1/cases/<api_case_number:number>/{name}/",
            view.as_view(),
            name=f"case-{name}",
        )
        for name, view in cases_api.ACTION_VIEWS.items()
    ),
    path(
        "v1/attachments/<str:token>/",
        cases_api.AttachmentDownloadView.as_view(),
        name="attachment-download",
    ),
    path(
        "v1/escalations/<int:id>/",
        escalations_api.EscalationDetailView.as_view(),
        name="escalation-detail",
    ),
    path(
        "v1/escalations/<int:id>/messages/",
        escalations_api.EscalationMessagesView.as_view(),
        name="escalation-messages",
    ),
    path(
        "v1/escalations/<int:id>/accept/",
        escalations_api.EscalationAcceptView.as_view(),
        name="escalation-accept",
    ),
    path(
        "v1/escalations/<int:id>/reject/",
        escalations_api.EscalationRejectView.as_view(),
        name="escalation-reject",
    ),
    path(
        "v1/escalations/<int:id>/resolve/",
        escalations_api.EscalationResolveView.as_view(),
        name="escalation-resolve",
    ),
    re_path(r"^v1/", api.not_found, name="not-found"),
]
