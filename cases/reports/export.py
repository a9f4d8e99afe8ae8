"""Excel export of case lists (C-13): exactly the rows and columns of the list it came from.

Memory stays flat however many rows there are: rows are read from the database in chunks
as plain tuples (no model instances, no per-row queries) and written by XlsxWriter in
``constant_memory`` mode, which flushes each row to disk as soon as the next one starts.
The finished workbook is a temporary file that the response streams and then deletes.

Text from customers is never interpreted by a spreadsheet (``cases.reports.spreadsheet``).

Times are real Excel date-times in UTC (the column headers say so), so they sort and filter
as dates in any spreadsheet, independent of the viewer's time zone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import xlsxwriter
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse

from cases.models import CaseType, Priority, Status, SubStatus
from cases.reports.spreadsheet import (
    CONTENT_TYPE,
    TEXT_ONLY,
    private_download,
    safe_filename,
    write_text,
)

CHUNK_SIZE = 2000
# The workbook is built in memory up to this size, then rolls over to a file on disk.
SPOOL_MAX_BYTES = 4 * 1024 * 1024
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    label: str
    fields: tuple[str, ...]  # what the column reads with values_list
    render: Callable[..., Any]  # fields' values -> cell value (str, datetime or None)
    width: int
    is_datetime: bool = False


def _labels(choices) -> Callable[[str | None], str]:
    labels = dict(choices)
    return lambda value: labels.get(value, value or "")


def _deployment(code: str | None, name: str | None) -> str:
    return f"{code} / {name}" if code else (name or "")


def _contact(name: str | None, email: str | None) -> str:
    if name and email:
        return f"{name} <{email}>"
    return name or email or ""


COLUMNS: dict[str, Column] = {
    "number": Column("Case number", ("number",), lambda n: f"{n:08d}", 12),
    "subject": Column("Subject", ("subject",), lambda s: s or "", 60),
    "status": Column("Status", ("status",), _labels(Status.choices), 18),
    "sub_status": Column("Sub-status", ("sub_status",), _labels(SubStatus.choices), 26),
    "priority": Column("Priority", ("priority",), _labels(Priority.choices), 10),
    "type": Column("Type", ("type",), _labels(CaseType.choices), 20),
    "deployment": Column(
        "Account/Deployment", ("deployment__code", "deployment__name"), _deployment, 30
    ),
    "service": Column("Cloud service", ("service__name",), lambda s: s or "", 26),
    "contact": Column("Contact", ("contact__display_name", "contact__email"), _contact, 36),
    "opened_at": Column("Opened (UTC)", ("opened_at",), lambda d: d, 17, is_datetime=True),
    "modified_at": Column(
        "Last updated (UTC)", ("modified_at",), lambda d: d, 17, is_datetime=True
    ),
}

# The portal lists' columns, in their order; keys are the list's column keys.
LIST_COLUMNS = [
    "number",
    "subject",
    "status",
    "sub_status",
    "priority",
    "type",
    "deployment",
    "service",
    "contact",
    "opened_at",
    "modified_at",
]
HEADERS: dict[str, str] = {key: column.label for key, column in COLUMNS.items()}


def _utc_naive(value: datetime) -> datetime:
    # Excel date-times carry no zone: store the UTC wall time.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def write_cases_xlsx(*, rows: Iterable[tuple], columns: list[str], target: str | IO[bytes]) -> int:
    """Write the rows (tuples of the columns' ``fields``, in order) to ``target`` (a path or a
    binary file object). Returns the number of data rows written."""
    specs = [COLUMNS[key] for key in columns]
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, **TEXT_ONLY},
    )
    try:
        sheet = workbook.add_worksheet("Cases")
        bold = workbook.add_format({"bold": True})
        as_text = workbook.add_format({"quote_prefix": True})
        as_datetime = workbook.add_format({"num_format": DATETIME_FORMAT})
        for col, spec in enumerate(specs):
            sheet.set_column(col, col, spec.width, as_datetime if spec.is_datetime else None)
            sheet.write_string(0, col, spec.label, bold)
        sheet.freeze_panes(1, 0)

        # Where each column's values sit in a row tuple.
        slices = []
        start = 0
        for spec in specs:
            slices.append((start, start + len(spec.fields)))
            start += len(spec.fields)

        count = 0
        for count, row in enumerate(rows, start=1):
            for col, spec in enumerate(specs):
                begin, end = slices[col]
                value = spec.render(*row[begin:end])
                if value is None:
                    continue
                if spec.is_datetime:
                    sheet.write_datetime(count, col, _utc_naive(value), as_datetime)
                    continue
                write_text(sheet, count, col, str(value), as_text)
        if count:
            sheet.autofilter(0, 0, count, len(specs) - 1)
        return count
    finally:
        workbook.close()


def export_rows(queryset: QuerySet, columns: list[str]) -> Iterable[tuple]:
    """The queryset's rows, in its order, as tuples of the columns' fields: one query, read
    in chunks (a server-side cursor on PostgreSQL)."""
    fields: list[str] = []
    for key in columns:
        fields.extend(COLUMNS[key].fields)
    return queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def cases_xlsx_response(*, queryset: QuerySet, columns: list[str], filename: str) -> HttpResponse:
    """An .xlsx download of exactly these rows (in the queryset's order) and columns."""
    unknown = [key for key in columns if key not in COLUMNS]
    if unknown or not columns:
        raise ValueError(f"Unknown export columns: {', '.join(unknown) or '(none given)'}.")
    # Not a with-block: the response owns the file and closes it after sending.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES, suffix=".xlsx")  # noqa: SIM115
    try:
        write_cases_xlsx(rows=export_rows(queryset, columns), columns=columns, target=spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    # FileResponse closes (and so deletes) the spooled file once it has been sent.
    response = FileResponse(
        spool,
        as_attachment=True,
        filename=safe_filename(filename),
        content_type=CONTENT_TYPE,
    )
    return private_download(response)
