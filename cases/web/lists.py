"""My Cases, All Cases, their exports and the search box (C-13, C-14).

Rows are read as plain values (``ROW_FIELDS``), never as model instances, a page at a time
with one extra row to know whether more follow."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.selectors import display_zone
from cases.filters import CaseFilterSet, case_filterset_for
from cases.reports.export import LIST_COLUMNS, cases_xlsx_response
from cases.search import parse_case_number, search_cases
from cases.selectors import case_get_for_user, case_list_for_user, my_open_cases
from cases.web.access import portal_access, require_case_pages
from cases.web.display import case_rows
from cases.web.filters import FILTER_LABELS, filter_choices, filter_options, selected
from cases.web.responses import render_page, render_partial
from core.errors import NotFound

PAGE_SIZE = 25  # All Cases
MY_PAGE_SIZE = 5  # My Cases: "5 at a time with Show more" (C-13)
MAX_PAGE = 10_000


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


# What a list row shows (``display.case_rows``): plain values of the row and the three related
# rows' columns, which cost far less to fetch and build than model instances.
ROW_FIELDS = (
    "number",
    "subject",
    "status",
    "sub_status",
    "priority",
    "type",
    "opened_at",
    "modified_at",
    "deployment__code",
    "deployment__name",
    "service__name",
    "contact__display_name",
    "contact__email",
)


def _slice(
    queryset: QuerySet, *, offset: int, limit: int, ids_first: bool = False
) -> tuple[list[dict], bool]:
    """``limit`` rows (dicts of ROW_FIELDS) and whether more follow: one query with one extra
    row, instead of a COUNT that is slow on a large organization.

    With ``ids_first`` the page's case ids are chosen first and only those rows are joined to
    their deployment, service and contact. For a filtered or searched list PostgreSQL sorts
    every matching case of the organization: joining before the sort, as one statement
    makes it, hashes every deployment and every user for rows it then throws away."""
    if not ids_first:
        rows = list(queryset.select_related(None).values(*ROW_FIELDS)[offset : offset + limit + 1])
        return rows[:limit], len(rows) > limit
    ids = list(
        queryset.select_related(None).values_list("pk", flat=True)[offset : offset + limit + 1]
    )
    page = ids[:limit]
    if not page:
        return [], False
    # The ids come from the visibility-filtered query: reading them again needs no tenant
    # condition (which only made PostgreSQL intersect with the organization's index).
    found = {
        row.pop("pk"): row
        for row in queryset.model.unscoped.filter(pk__in=page).values("pk", *ROW_FIELDS)
    }
    return [found[pk] for pk in page if pk in found], len(ids) > limit


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str = ""  # the ``ordering`` value of the column ("" when not sortable)
    newest_first: bool = False  # the first click sorts descending


COLUMNS = {
    column.key: column
    for column in (
        Column("number", "Case", "number", newest_first=True),
        Column("subject", "Subject", "subject"),
        Column("status", "Status", "status"),
        Column("sub_status", "Sub-status"),
        Column("priority", "Priority", "priority"),
        Column("type", "Type"),
        Column("deployment", "Account/Depl"),
        Column("service", "Cloud service"),
        Column("contact", "Contact"),
        Column("opened_at", "Opened", "opened_at", newest_first=True),
        Column("modified_at", "Last updated", "modified_at", newest_first=True),
    )
}


def _headers(ordering: str) -> list[dict]:
    """Column headers with their sort link and state (for aria-sort)."""
    headers = []
    for key in LIST_COLUMNS:
        column = COLUMNS[key]
        state, next_value = "", ""
        if column.sort:
            if ordering == column.sort:
                state, next_value = "ascending", f"-{column.sort}"
            elif ordering == f"-{column.sort}":
                state, next_value = "descending", column.sort
            else:
                next_value = f"-{column.sort}" if column.newest_first else column.sort
        headers.append({"column": column, "state": state, "next": next_value})
    return headers


def _filtered_cases(request: HttpRequest) -> tuple[CaseFilterSet | None, QuerySet | None]:
    """All Cases with the request's filters and sort (C-13); None when a filter is wrong.

    Without any filter or sort the filter set would change nothing, and building and
    validating its form costs more than the page's SQL: the list is the selector's."""
    if all(key == "page" for key in request.GET):
        return None, case_list_for_user(user=request.user)
    if all(key in ("q", "page") for key in request.GET):
        # Only keywords (the search box): what the filter set would do with them, without
        # building and validating its form. A value its form would refuse (too long, a
        # null character, repeated) takes the filter set's way, with its message.
        values = request.GET.getlist("q")
        if len(values) == 1 and len(values[0].strip()) <= 200 and "\x00" not in values[0]:
            return None, search_cases(case_list_for_user(user=request.user), values[0])
    filterset = case_filterset_for(request.GET)(
        request.GET, queryset=case_list_for_user(user=request.user), request=request
    )
    if not filterset.is_valid():
        return filterset, None
    queryset = filterset.qs
    order = [str(o) for o in queryset.query.order_by]
    if order and not any(o.lstrip("-") == "number" for o in order):
        # A sort on a column with equal values still pages through the rows in a fixed order.
        queryset = queryset.order_by(*order, "-number")
    return filterset, queryset


# --- My Cases and All Cases (C-13) -------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return redirect("cases:all")


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """My non-closed cases, last updated first, 5 at a time. "Show more" appends the next 5
    with htmx; without JavaScript ``?page=n`` shows the first n × 5."""
    require_case_pages(request)
    page = _page_number(request)
    queryset = my_open_cases(user=request.user)
    zone = display_zone(request.user)
    if request.htmx and page > 1:
        rows, has_more = _slice(queryset, offset=(page - 1) * MY_PAGE_SIZE, limit=MY_PAGE_SIZE)
        template = "cases/_my_cases_rows.html"
    else:
        rows, has_more = _slice(queryset, offset=0, limit=page * MY_PAGE_SIZE)
        template = "cases/my_cases.html"
    context = {
        "cases": rows,
        # Appended rows take the focus from the "Show more" link they replace.
        "case_rows": render_partial(
            "cases/_case_rows.jinja",
            {"rows": case_rows(rows, zone, appended=template == "cases/_my_cases_rows.html")},
        ),
        "has_more": has_more,
        "next_page": page + 1,
        "headers": _headers(""),
        "access": portal_access(request.user),
    }
    return render_page(request, template, context, zone=zone)


@login_required
@require_GET
def all_cases(request: HttpRequest) -> HttpResponse:
    """Every case the user may see, filtered, sorted and paged; wrong filter values are
    explained next to the filters and show no rows."""
    require_case_pages(request)
    filterset, queryset = _filtered_cases(request)
    return _all_cases_page(request, filterset, queryset)


def _all_cases_page(
    request: HttpRequest,
    filterset: CaseFilterSet | None,
    queryset: QuerySet | None,
    status: int = 200,
) -> HttpResponse:
    page = _page_number(request)
    rows, has_next = [], False
    if queryset is not None:
        # A customer's keyword search matches few cases, found through the tenant's search
        # index: one statement joins them. Other lists pick the page's ids first.
        searching = bool(request.GET.get("q", "").strip()) and bool(
            getattr(request, "organization_ids", None)
        )
        rows, has_next = _slice(
            queryset, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, ids_first=not searching
        )
    ordering = request.GET.get("ordering", "")
    errors = filterset.form.errors if queryset is None and filterset is not None else {}
    zone = display_zone(request.user)
    chosen = selected(request)
    options = filter_options(request)
    headers = _headers(ordering)
    for header in headers:
        if header["column"].sort:
            header["href"] = _query_with(chosen, ordering=header["next"], page="")
    context = {
        "cases": rows,
        "case_rows": render_partial("cases/_case_rows.jinja", {"rows": case_rows(rows, zone)}),
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "filter_errors": errors,
        "filter_error_list": [(FILTER_LABELS.get(k, k), v) for k, v in errors.items()],
        # Every filter's errors and first value by name: a name the template looks up and
        # does not find costs the template engine three exceptions and a dir() (about 13 us,
        # 21 times a page).
        "field_errors": {name: errors.get(name, []) for name in FILTER_LABELS},
        "selected_value": {
            name: (chosen.get(name) or [""])[0]
            for name in ("organization", "opened_after", "opened_before")
        },
        "headers": headers,
        "ordering": ordering,
        "q": request.GET.get("q", ""),
        "filtered": any(k not in ("page", "ordering") for k in request.GET),
        "access": portal_access(request.user),
        "links": {
            "first": _query_with(chosen, page=""),
            "previous": _query_with(chosen, page=page - 1),
            "next": _query_with(chosen, page=page + 1),
        },
        "care": options["care"],
        "several_organizations": options["several_organizations"],
        "deployments": options["deployments"],
        "contacts": options["contacts"],
        "choices": filter_choices(options, chosen),
        "all_url": reverse("cases:all"),
    }
    context["filter_form"] = render_partial("cases/_filter_form.jinja", context)
    return render_page(request, "cases/all_cases.html", context, zone=zone, status=status)


def _query_with(params: dict[str, list[str]], **changes) -> str:
    """The list's query string with some parameters replaced ("" removes one): sort links
    and pages keep every filter, repeated ones too (status=open&status=closed)."""
    merged = dict(params)
    for key, value in changes.items():
        if value in (None, ""):
            merged.pop(key, None)
        else:
            merged[key] = [str(value)]
    encoded = urlencode([(key, value) for key, values in merged.items() for value in values])
    return f"?{encoded}" if encoded else "?"


def _export_name(request: HttpRequest, stem: str) -> str:
    today = timezone.localdate(timezone.now(), display_zone(request.user))
    return f"{stem}-{today:%Y-%m-%d}.xlsx"


@login_required
@require_GET
def my_cases_export(request: HttpRequest) -> HttpResponse:
    """My Cases as .xlsx: every row of the list (all pages), its columns, its order."""
    require_case_pages(request)
    return cases_xlsx_response(
        queryset=my_open_cases(user=request.user),
        columns=LIST_COLUMNS,
        filename=_export_name(request, "my-cases"),
    )


@login_required
@require_GET
def all_cases_export(request: HttpRequest) -> HttpResponse:
    """All Cases as .xlsx with the same filters and sort as the list (C-13)."""
    require_case_pages(request)
    filterset, queryset = _filtered_cases(request)
    if queryset is None:
        return _all_cases_page(request, filterset, None, status=400)
    return cases_xlsx_response(
        queryset=queryset, columns=LIST_COLUMNS, filename=_export_name(request, "cases")
    )


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The search box (C-14): a case number opens that case if the user may see it;
    keywords list the matching visible cases in All Cases."""
    require_case_pages(request)
    query = " ".join((request.GET.get("q") or "").split())[:200]
    if not query:
        return redirect("cases:all")
    number = parse_case_number(query)
    if number is not None:
        try:
            case = case_get_for_user(user=request.user, number=number)
        except NotFound:
            # The same answer for a missing case and another organization's (T-6).
            messages.error(request, f"There is no case {number:08d} that you can see.")
        else:
            return redirect("cases:detail", case.number)
    return redirect(f"{reverse('cases:all')}?{urlencode({'q': query})}")
