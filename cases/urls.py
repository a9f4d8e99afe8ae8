"""Customer portal URLs for cases, under /cases/. A case's URL carries its number as shown,
8 digits (C-1), the same as ``cases.links.case_path``."""

from django.urls import include, path, register_converter

from cases import report_views, views


class CaseNumberConverter:
    """Accepts the number with or without leading zeros; writes it zero-padded to 8."""

    regex = "[0-9]{1,12}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return f"{int(value):08d}"


register_converter(CaseNumberConverter, "case_number")

app_name = "cases"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.my_cases, name="mine"),
    path("mine/export.xlsx", views.my_cases_export, name="mine-export"),
    path("all/", views.all_cases, name="all"),
    path("all/export.xlsx", views.all_cases_export, name="all-export"),
    path("new/", views.case_new, name="new"),
    path("search/", views.search, name="search"),
    path("reports/service-levels/", report_views.sla_report_page, name="sla-report"),
    path(
        "reports/service-levels/export.xlsx",
        report_views.sla_report_export,
        name="sla-report-export",
    ),
    path("files/<str:token>/", views.attachment_download, name="attachment"),
    path("<case_number:number>/", views.case_detail, name="detail"),
    path("<case_number:number>/update/", views.case_update, name="update"),
    path("<case_number:number>/confirm/", views.case_confirm, name="confirm"),
    path("<case_number:number>/close/", views.case_close_view, name="close"),
    path("<case_number:number>/reopen/", views.case_reopen_view, name="reopen"),
    # Escalations of the case (E-1 … E-9): the form, the escalation and its feed.
    path("<case_number:number>/", include("escalations.urls")),
]
