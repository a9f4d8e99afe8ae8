"""Customer portal URLs for cases, under /cases/. A case's URL carries its number as shown,
8 digits (C-1), the same as ``cases.links.case_path``.

``config.urls`` includes these in the ``cases`` namespace, together with the escalation
pages under a case (``escalations.urls``), which sit above this layer."""

from django.urls import path, register_converter

from cases.web import detail, lists, new, reports


class CaseNumberConverter:
    """Accepts the number with or without leading zeros; writes it zero-padded to 8."""

    regex = "[0-9]{1,12}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return f"{int(value):08d}"


register_converter(CaseNumberConverter, "case_number")

urlpatterns = [
    path("", lists.index, name="index"),
    path("mine/", lists.my_cases, name="mine"),
    path("mine/export.xlsx", lists.my_cases_export, name="mine-export"),
    path("all/", lists.all_cases, name="all"),
    path("all/export.xlsx", lists.all_cases_export, name="all-export"),
    path("new/", new.case_new, name="new"),
    path("search/", lists.search, name="search"),
    path("reports/service-levels/", reports.sla_report_page, name="sla-report"),
    path(
        "reports/service-levels/export.xlsx",
        reports.sla_report_export,
        name="sla-report-export",
    ),
    path("files/<str:token>/", detail.attachment_download, name="attachment"),
    path("<case_number:number>/", detail.case_detail, name="detail"),
    path("<case_number:number>/update/", detail.case_update, name="update"),
    path("<case_number:number>/confirm/", detail.case_confirm, name="confirm"),
    path("<case_number:number>/close/", detail.case_close_view, name="close"),
    path("<case_number:number>/reopen/", detail.case_reopen_view, name="reopen"),
]
