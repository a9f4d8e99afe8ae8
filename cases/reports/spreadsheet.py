"""What every spreadsheet download of cases shares: cells that a spreadsheet never reads as a
formula, a safe file name and the download's headers.

Text from customers is never interpreted by a spreadsheet: every text cell is written with
``write_string`` (so ``=1+1`` is the text "=1+1", not a formula), the workbook refuses to
turn strings into formulas, numbers or links, and cells that a spreadsheet would treat as a
formula once edited (starting with ``=``, ``+``, ``-``, ``@``, tab or CR) also carry Excel's
"quote prefix" so that re-typing the cell keeps it text.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from django.http.response import HttpResponseBase

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_CHARS = 32_767  # Excel's limit for a cell's text
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# XlsxWriter options: strings stay strings.
TEXT_ONLY: dict[str, bool] = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

Response = TypeVar("Response", bound=HttpResponseBase)

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(filename: str) -> str:
    """A plain ASCII file name ending in .xlsx (no paths, quotes or header tricks)."""
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if stem.lower().endswith(".xlsx"):
        stem = stem[:-5]
    stem = _UNSAFE_FILENAME.sub("-", stem).strip(".-")[:100] or "cases"
    return f"{stem}.xlsx"


def write_text(sheet: Any, row: int, col: int, text: str, as_text: Any) -> None:
    """Write ``text`` as text, whatever it looks like; ``as_text`` is the workbook's
    quote-prefix format."""
    text = text[:MAX_CELL_CHARS]
    if not text:
        return
    cell_format = as_text if text.startswith(FORMULA_TRIGGERS) else None
    if text.startswith("<r>") and text.endswith("</r>"):
        # In constant-memory mode XlsxWriter copies a string shaped like "<r>…</r>" into the
        # sheet's XML verbatim (it takes it for pre-built rich text). Writing it as a real
        # rich string (which needs three or more parts) escapes it like any other text.
        parts = [text[:1], text[1:3], text[3:]] + ([cell_format] if cell_format else [])
        sheet.write_rich_string(row, col, *parts)
        return
    sheet.write_string(row, col, text, cell_format)


def private_download(response: Response) -> Response:
    """A download that browsers never sniff and caches never keep."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
