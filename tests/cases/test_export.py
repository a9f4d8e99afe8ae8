"""Excel export (C-13 export, issue 3): exact rows and columns, formula-proof text, flat
memory. The workbook is read back with the standard library: an .xlsx is a zip of XML."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from accounts.models import AccessLevel
from cases.models import Case, CloudService
from cases.reports.export import HEADERS, LIST_COLUMNS, cases_xlsx_response, write_cases_xlsx
from cases.reports.spreadsheet import CONTENT_TYPE, safe_filename
from cases.selectors import case_list_for_user
from core.tenancy import scopes_disabled, tenant_scope
from tests.factories import CaseFactory, member_of

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
EXCEL_EPOCH = datetime(1899, 12, 30)


def _column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)
    index = 0
    for letter in letters:
        index = index * 26 + (ord(letter) - 64)
    return index - 1


def _text(element: ElementTree.Element) -> str:
    """A string cell's text as Excel shows it: XML control-character escapes (_xHHHH_)
    decoded."""
    raw = "".join(t.text or "" for t in element.iter(f"{{{NS['m']}}}t"))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), raw)


def read_sheet(content: bytes) -> tuple[list[list], list[ElementTree.Element], bytes]:
    """Rows of the first sheet as lists of cell values (strings as text, numbers as float),
    the raw <c> elements, and the sheet's XML."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            root = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))  # noqa: S314
            for si in root.findall("m:si", NS):
                shared.append(_text(si))
    root = ElementTree.fromstring(sheet_xml)  # noqa: S314 (our own output)
    rows: list[list] = []
    cells: list[ElementTree.Element] = []
    for row in root.find("m:sheetData", NS).findall("m:row", NS):
        values: list = []
        for cell in row.findall("m:c", NS):
            cells.append(cell)
            col = _column_index(cell.get("r"))
            while len(values) < col:
                values.append(None)
            kind = cell.get("t")
            if kind == "inlineStr":
                values.append(_text(cell))
            elif kind == "s":
                values.append(shared[int(cell.find("m:v", NS).text)])
            else:
                values.append(float(cell.find("m:v", NS).text))
        rows.append(values)
    return rows, cells, sheet_xml


def response_bytes(response) -> bytes:
    return b"".join(response.streaming_content)


def excel_datetime(serial: float) -> datetime:
    return EXCEL_EPOCH + timedelta(days=serial)


def export_for(user, columns=LIST_COLUMNS, filename="cases.xlsx"):
    """Export the user's All Cases list inside their tenant scope, as a request does."""
    from accounts.selectors import visible_organization_ids

    with tenant_scope(visible_organization_ids(user)):
        return cases_xlsx_response(
            queryset=case_list_for_user(user=user), columns=columns, filename=filename
        )


@pytest.mark.django_db
def test_export_writes_exactly_the_rows_in_order_with_every_list_column(org_a, dc_a):
    # DOMAIN C-13
    # given 500 cases of org A with distinct modification times
    base = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with scopes_disabled():
        for i in range(500):
            CaseFactory(
                organization=org_a,
                contact=dc_a,
                subject=f"Case subject {i:03d}",
                opened_at=base + timedelta(minutes=i),
                modified_at=base + timedelta(minutes=i, seconds=30),
            )
    # when the All Cases list is exported
    with tenant_scope([org_a.pk]):
        queryset = case_list_for_user(user=dc_a)
        expected = list(queryset.values_list("number", "subject", "opened_at"))
    response = export_for(dc_a)
    rows, _, _ = read_sheet(response_bytes(response))
    # then the header names the list columns and the rows are the list's, in its order
    assert rows[0] == [HEADERS[key] for key in LIST_COLUMNS]
    assert "Opened (UTC)" in rows[0]
    body = rows[1:]
    assert len(body) == 500
    assert [r[0] for r in body] == [f"{n:08d}" for n, _, _ in expected]
    assert [r[1] for r in body] == [s for _, s, _ in expected]
    first = body[0]
    assert first[2:6] == ["Open", "New", "Medium", "Support"]
    assert first[6] == "A-PRD / A Production"
    assert first[7] == CloudService.objects.get(slug="routing").name
    assert first[8] == f"{dc_a.display_name} <{dc_a.email}>"
    # and times are Excel date-times in UTC
    opened = excel_datetime(first[9])
    assert abs(opened - expected[0][2].replace(tzinfo=None)) < timedelta(seconds=1)
    modified = excel_datetime(first[10])
    assert abs(modified - (expected[0][2] + timedelta(seconds=30)).replace(tzinfo=None)) < (
        timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_export_has_download_headers(org_a, dc_a):
    # given a case
    with scopes_disabled():
        CaseFactory(organization=org_a, contact=dc_a)
    # when exported
    response = export_for(dc_a, filename="all cases.xlsx")
    content = response_bytes(response)
    # then it is an attachment of the xlsx type that browsers must not sniff
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="all-cases.xlsx"'
    assert int(response["Content-Length"]) == len(content)
    assert zipfile.is_zipfile(io.BytesIO(content))


FORMULA_LIKE = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


@pytest.mark.django_db
@pytest.mark.parametrize("text", FORMULA_LIKE)
def test_formula_like_text_is_written_as_text_never_as_formula(org_a, dc_a, text):
    # DOMAIN C-13 (export: cells starting with = + - @ tab CR are text)
    # given a case whose subject and contact name look like formulas
    dc_a.display_name = text
    dc_a.save(update_fields=["display_name"])
    with scopes_disabled():
        CaseFactory(organization=org_a, contact=dc_a, subject=text)
    # when exported
    response = export_for(dc_a)
    rows, cells, sheet_xml = read_sheet(response_bytes(response))
    # then no cell is a formula and the text is kept as it was, as a string cell
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    assert all(cell.find("m:f", NS) is None for cell in cells)
    assert rows[1][1] == text
    # A name is one line, stored without leading white space (T-11): "\tx" is "x".
    assert rows[1][8].startswith(" ".join(text.split()))
    subject_cell = next(c for c in cells if c.get("r") == "B2")
    assert subject_cell.get("t") in ("inlineStr", "s")


@pytest.mark.django_db
def test_text_shaped_like_spreadsheet_xml_is_escaped(org_a, dc_a):
    # given a subject crafted to look like pre-built rich text with a formula cell inside
    evil = '<r><t>x</t></r></is></c><c r="Z9"><f>CMD()</f></c><c t="inlineStr"><is><r></r>'
    with scopes_disabled():
        CaseFactory(organization=org_a, contact=dc_a, subject=evil)
    # when exported
    rows, cells, sheet_xml = read_sheet(response_bytes(export_for(dc_a)))
    # then the subject is plain text and no formula got into the sheet
    assert rows[1][1] == evil
    assert all(cell.find("m:f", NS) is None for cell in cells)
    assert b"CMD()</f>" not in sheet_xml


@pytest.mark.django_db
def test_export_only_the_requested_columns(org_a, dc_a):
    # given a case
    with scopes_disabled():
        case = CaseFactory(organization=org_a, contact=dc_a, subject="Only these")
    # when exported with two columns
    response = export_for(dc_a, columns=["subject", "number"])
    rows, _, _ = read_sheet(response_bytes(response))
    # then exactly those columns appear, in that order
    assert rows == [["Subject", "Case number"], ["Only these", case.display_number]]


@pytest.mark.django_db
def test_export_of_another_tenant_scope_has_no_rows(org_a, org_b, dc_a, dc_b):
    # DOMAIN T-6
    # given a case in each organization
    with scopes_disabled():
        CaseFactory(organization=org_a, contact=dc_a, subject="Mine")
        CaseFactory(organization=org_b, contact=dc_b, subject="Theirs")
    # when A's contact exports
    rows, _, _ = read_sheet(response_bytes(export_for(dc_a)))
    # then only A's case is there
    assert [r[1] for r in rows[1:]] == ["Mine"]


@pytest.mark.django_db
def test_export_of_an_empty_list_has_just_the_header(org_a, dc_a):
    rows, _, _ = read_sheet(response_bytes(export_for(dc_a)))
    assert rows == [[HEADERS[key] for key in LIST_COLUMNS]]


@pytest.mark.django_db
def test_export_runs_one_query_however_many_rows(org_a, dc_a, django_assert_num_queries):
    # given 60 cases with different contacts, deployments and services
    other = member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "other@org-a.example")
    with scopes_disabled():
        for i in range(60):
            CaseFactory(organization=org_a, contact=dc_a if i % 2 else other)
        queryset = Case.objects.filter(organization=org_a).order_by("-number")
        # when exported, then the rows come from a single query (no per-row lookups)
        with django_assert_num_queries(1):
            response = cases_xlsx_response(
                queryset=queryset, columns=LIST_COLUMNS, filename="x.xlsx"
            )
    rows, _, _ = read_sheet(response_bytes(response))
    assert len(rows) == 61


def test_unknown_columns_are_refused():
    with pytest.raises(ValueError, match="owner_secret"):
        cases_xlsx_response(
            queryset=Case.unscoped.none(), columns=["number", "owner_secret"], filename="x"
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cases.xlsx", "cases.xlsx"),
        ("../../etc/passwd", "passwd.xlsx"),
        ('my "cases"\r\nX-Evil: 1', "my-cases-X-Evil-1.xlsx"),
        ("", "cases.xlsx"),
        ("Fälle.XLSX", "F-lle.xlsx"),
    ],
)
def test_file_names_are_plain(given, expected):
    assert safe_filename(given) == expected


def test_writer_keeps_memory_flat_by_streaming_rows_to_disk(tmp_path):
    # given a generator of 20,000 rows (never a list in memory)
    when = datetime(2024, 1, 1, tzinfo=UTC)

    def rows():
        for i in range(20_000):
            yield (i, f"Subject {i}", "open", "new", "low", "support", "C", "D", "S", "N", "e",
                   when, when)  # fmt: skip

    # when written in constant-memory mode
    target = tmp_path / "big.xlsx"
    written = write_cases_xlsx(rows=rows(), columns=LIST_COLUMNS, target=str(target))
    # then every row is there
    assert written == 20_000
    with zipfile.ZipFile(target) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert sheet.count(b"<row ") == 20_001
