"""Service-level reports (S-6): per organization and month, the share of cases that met
their response and resolution targets against the goal, and the open cases at risk or
breached.

One aggregate query per report, whatever the number of organizations and months: the rows
are grouped by organization and month in the database. Cases count in the month they were
opened (UTC months). A target counts once it is decided (met or missed); cases still
running are in "cases with a target" only. The at-risk and breached counts are the cases
of that month that are open now and in that state (S-6: under 25% of the target left, or
past the due time).

The spreadsheet writes its cells as the case export does (``cases.reports.spreadsheet``):
text is never a formula, numbers are numbers and months are dates.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO

import xlsxwriter
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import HttpResponse

from cases.models import Case, SlaState, Status
from cases.reports.spreadsheet import (
    CONTENT_TYPE,
    TEXT_ONLY,
    private_download,
    safe_filename,
    write_text,
)
from cases.sla import GOAL_SHARE, TARGET_TYPES
from core.errors import InvalidInput

DEFAULT_MONTHS = 12
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class ReportRow:
    organization_id: int
    organization: str
    month: date
    cases: int  # cases with a target
    response_measured: int
    response_met: int
    resolution_measured: int
    resolution_met: int
    at_risk: int  # open now, at risk
    breached: int  # open now, breached

    @property
    def response_share(self) -> float | None:
        return _share(self.response_met, self.response_measured)

    @property
    def resolution_share(self) -> float | None:
        return _share(self.resolution_met, self.resolution_measured)

    @property
    def response_goal_met(self) -> bool | None:
        return _goal(self.response_share)

    @property
    def resolution_goal_met(self) -> bool | None:
        return _goal(self.resolution_share)


def _share(met: int, measured: int) -> float | None:
    return met / measured if measured else None


def _goal(share: float | None) -> bool | None:
    # S-6: "over 80%": exactly 80% does not meet the goal.
    return None if share is None else share > GOAL_SHARE


@dataclass(frozen=True)
class Period:
    """A range of whole UTC months: [start, end)."""

    start: datetime
    end: datetime
    month: str  # "YYYY-MM" when one month was asked for, else ""

    @property
    def label(self) -> str:
        if self.month:
            return f"{self.start:%B %Y}"
        last = _add_months(self.end, -1)
        return f"{self.start:%B %Y} to {last:%B %Y}"


def _first_of_month(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def _add_months(value: datetime, months: int) -> datetime:
    index = value.year * 12 + value.month - 1 + months
    return value.replace(year=index // 12, month=index % 12 + 1, day=1)


def report_period(month: str | None, *, now: datetime, months: int = DEFAULT_MONTHS) -> Period:
    """One month ("YYYY-MM"), or without one the last ``months`` months up to now's.

    Raises InvalidInput with a message for anything else."""
    month = (month or "").strip()
    if not month:
        end = _add_months(_first_of_month(now), 1)
        return Period(start=_add_months(end, -months), end=end, month="")
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2999:
        message = "Give the month as YYYY-MM, for example 2026-03."
        raise InvalidInput(message, {"month": [message]})
    start = datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)
    return Period(start=start, end=_add_months(start, 1), month=month)


def sla_report(*, cases: QuerySet[Case], period: Period) -> list[ReportRow]:
    """The report over ``cases`` (already limited to what the reader may see), in one
    query: a row per organization and month that has cases with a target."""
    open_now = ~Q(status=Status.CLOSED)
    rows = (
        cases.filter(type__in=TARGET_TYPES, opened_at__gte=period.start, opened_at__lt=period.end)
        .annotate(month=TruncMonth("opened_at", tzinfo=UTC))
        .values("organization_id", "organization__name", "month")
        .annotate(
            total=Count("pk"),
            response_measured=Count("pk", filter=Q(response_met__isnull=False)),
            response_met_count=Count("pk", filter=Q(response_met=True)),
            resolution_measured=Count("pk", filter=Q(resolution_met__isnull=False)),
            resolution_met_count=Count("pk", filter=Q(resolution_met=True)),
            at_risk=Count("pk", filter=open_now & Q(sla_state=SlaState.AT_RISK)),
            breached=Count("pk", filter=open_now & Q(sla_state=SlaState.BREACHED)),
        )
        .order_by("organization__name", "organization_id", "month")
    )
    return [
        ReportRow(
            organization_id=row["organization_id"],
            organization=row["organization__name"],
            month=_month_of(row["month"]),
            cases=row["total"],
            response_measured=row["response_measured"],
            response_met=row["response_met_count"],
            resolution_measured=row["resolution_measured"],
            resolution_met=row["resolution_met_count"],
            at_risk=row["at_risk"],
            breached=row["breached"],
        )
        for row in rows
    ]


def _month_of(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().replace(day=1)
    return value.replace(day=1)


# --- the spreadsheet -------------------------------------------------------------------------

HEADERS = (
    ("Organization", 30),
    ("Month", 10),
    ("Cases with a target", 12),
    ("Responses measured", 12),
    ("Responses in time", 12),
    ("Response share", 10),
    ("Response goal (over 80%)", 14),
    ("Resolutions measured", 12),
    ("Resolutions in time", 12),
    ("Resolution share", 10),
    ("Resolution goal (over 80%)", 14),
    ("Open at risk", 10),
    ("Open breached", 10),
)


def _goal_text(value: bool | None) -> str:
    return "" if value is None else ("Met" if value else "Not met")


def write_report_xlsx(rows: list[ReportRow], target: str | IO[bytes]) -> None:
    workbook = xlsxwriter.Workbook(target, TEXT_ONLY)
    try:
        sheet = workbook.add_worksheet("Service levels")
        bold = workbook.add_format({"bold": True})
        as_text = workbook.add_format({"quote_prefix": True})
        as_month = workbook.add_format({"num_format": "yyyy-mm"})
        as_share = workbook.add_format({"num_format": "0.0%"})
        for col, (label, width) in enumerate(HEADERS):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, label, bold)
        sheet.freeze_panes(1, 1)
        for r, row in enumerate(rows, start=1):
            write_text(sheet, r, 0, row.organization, as_text)
            sheet.write_datetime(r, 1, datetime.combine(row.month, datetime.min.time()), as_month)
            values = (
                row.cases,
                row.response_measured,
                row.response_met,
                row.response_share,
                _goal_text(row.response_goal_met),
                row.resolution_measured,
                row.resolution_met,
                row.resolution_share,
                _goal_text(row.resolution_goal_met),
                row.at_risk,
                row.breached,
            )
            for col, value in enumerate(values, start=2):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    write_text(sheet, r, col, value, as_text)
                elif isinstance(value, float):
                    sheet.write_number(r, col, value, as_share)
                else:
                    sheet.write_number(r, col, value)
        if rows:
            sheet.autofilter(0, 0, len(rows), len(HEADERS) - 1)
    finally:
        workbook.close()


def report_xlsx_response(rows: list[ReportRow], *, filename: str) -> HttpResponse:
    buffer = io.BytesIO()
    write_report_xlsx(rows, buffer)
    response = HttpResponse(buffer.getvalue(), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return private_download(response)
