"""Reports and downloads of cases: the service-level report (S-6) in ``service_levels``, the
Excel export of case lists (C-13) in ``export``, and the spreadsheet cells both write safely
in ``spreadsheet``. The service-level report's names are importable from ``cases.reports``."""

from cases.reports.service_levels import (
    Period,
    ReportRow,
    report_period,
    report_xlsx_response,
    sla_report,
    write_report_xlsx,
)

__all__ = [
    "Period",
    "ReportRow",
    "report_period",
    "report_xlsx_response",
    "sla_report",
    "write_report_xlsx",
]
