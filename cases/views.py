"""The customer portal's case pages (C-4 … C-16, T-4 … T-7).

Thin edges: reads start from ``cases.selectors`` (visibility), writes go through
``cases.services``, and the services' domain errors become what a person sees: field
errors next to the fields (InvalidInput), a message (Conflict), the "not allowed" page
(NotAllowed) or "not found" (NotFound: another tenant's case looks exactly like a missing
one, T-6). Times are shown in the user's time zone, else the organization's (B-5).
"""

from __future__ import annotations

import hashlib
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import NamedTuple
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import AccessLevel, BusinessCalendar, Deployment, Organization, User
from accounts.selectors import access_levels, visible_organizations
from cases import policy
from cases.attachments import validate_uploads
from cases.downloads import attachment_response
from cases.emails import NEXT_STEP
from cases.export import LIST_COLUMNS, cases_xlsx_response
from cases.filters import CaseFilterSet, case_filterset_for
from cases.forms import CaseCommentForm, CaseOpenForm, CaseReopenForm, CaseUpdateForm
from cases.links import case_path
from cases.models import (
    CUSTOMER_TYPES,
    Case,
    CaseEvent,
    CaseType,
    CaseUpdate,
    Channel,
    CloudService,
    Priority,
    Stage,
    Status,
    SubStatus,
    SubType,
)
from cases.search import parse_case_number, search_cases
from cases.selectors import (
    CASE_LEVELS,
    attachment_get_for_user,
    case_feed,
    case_get_for_user,
    case_history,
    case_list_for_user,
    my_open_cases,
)
from cases.services import (
    case_close,
    case_confirm_solution,
    case_open,
    case_post_update,
    case_reopen,
    validate_case_input,
)
from core.audit.services import audit_staff_access
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from escalations import rules as escalation_rules
from escalations.models import Reason as EscalationReason
from escalations.selectors import case_escalations

PAGE_SIZE = 25  # All Cases
MY_PAGE_SIZE = 5  # My Cases: "5 at a time with Show more" (C-13)
MAX_PAGE = 10_000
UTC = zoneinfo.ZoneInfo("UTC")


# --- who sees what -----------------------------------------------------------------------


def portal_access(user: User) -> dict[str, bool]:
    """What the portal offers this user (T-4, T-5): ``view`` All Cases and search, ``mine``
    My Cases, ``open`` a new case; ``care`` for Customer Care analysts and managers."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return {"view": False, "mine": False, "open": False, "care": False}
    if user.is_staff:
        care = policy.is_care(user)
        return {"view": care, "mine": False, "open": False, "care": care}
    levels = set(access_levels(user).values())
    sees_cases = bool(levels & set(CASE_LEVELS))
    return {
        "view": sees_cases,
        "mine": sees_cases,
        "open": AccessLevel.DESIGNATED_CONTACT in levels,
        "care": False,
    }


def _require_case_pages(request: HttpRequest) -> None:
    """BASIC users and staff outside care have no case pages (T-4)."""
    if not portal_access(request.user)["view"]:
        raise PermissionDenied("Your access level does not include cases.")


def case_or_404(request: HttpRequest, number: int) -> Case:
    try:
        return case_get_for_user(user=request.user, number=number)
    except NotFound as exc:
        raise Http404("No such case.") from exc


# --- time zones (B-5) --------------------------------------------------------------------


def display_zone(user: User, organization_id: int | None = None) -> zoneinfo.ZoneInfo:
    """The user's time zone (profile); else the organization's calendar zone: the given
    organization's, or for lists the first of the user's organizations that has a calendar;
    else UTC."""
    name = getattr(user, "time_zone", "") or ""
    if not name and user.is_authenticated and organization_id is not None and not user.is_staff:
        # A customer's own organizations carry their calendar's zone already (the layout
        # read them): no query for the case page.
        for organization in visible_organizations(user):
            if organization.pk == organization_id:
                return _zone(organization.calendar_time_zone or "")
    if not name and user.is_authenticated and organization_id is None and not user.is_staff:
        # The layout loads the user's organizations by name, each with its calendar's zone.
        zones = (o.calendar_time_zone for o in visible_organizations(user))
        name = next((zone for zone in zones if zone is not None), "")
    elif not name and user.is_authenticated:
        calendars = BusinessCalendar.objects.all()
        if organization_id is not None:
            calendars = calendars.filter(organization_id=organization_id)
        elif user.is_staff:
            calendars = calendars.none()
        else:
            calendars = calendars.filter(organization_id__in=list(access_levels(user))).order_by(
                "organization__name"
            )
        name = calendars.values_list("time_zone", flat=True).first() or ""
    return _zone(name)


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    zone: zoneinfo.ZoneInfo,
    status: int = 200,
) -> HttpResponse:
    with timezone.override(zone):
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- list helpers ------------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    return min(max(page, 1), MAX_PAGE)


# What a list row shows (``_case_rows``): plain values of the row and the three related
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


_LABELS = {
    "status": dict(Status.choices),
    "sub_status": dict(SubStatus.choices),
    "priority": dict(Priority.choices),
    "type": dict(CaseType.choices),
}
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _list_time(value: datetime, zone: zoneinfo.ZoneInfo) -> tuple[str, str]:
    """(ISO 8601, "j M Y H:i T") in the display zone: what the ``date`` filter gives, without
    its per-call cost on every cell of a list."""
    local = value.astimezone(zone)
    # Like Django's format: no zone name for a wall time that a clock change makes ambiguous.
    ambiguous = zone.utcoffset(local.replace(fold=not local.fold)) != zone.utcoffset(local)
    name = "" if ambiguous else local.tzname()
    clock = f"{local.hour:02d}:{local.minute:02d}"  # strftime costs a third of the call
    text = f"{local.day} {_MONTHS[local.month]} {local.year} {clock} {name}"
    return local.isoformat(), text


def _case_rows(rows: list[dict], zone: zoneinfo.ZoneInfo, *, appended: bool = False) -> str:
    """The ``<tr>`` of each case of a list (All Cases, My Cases), built here rather than in a
    template: 25 rows of 11 cells are some 400 variable lookups, filters and escapes, which
    cost the template engine more than the page's SQL. Every value from the database is
    escaped; the first row's link takes the focus when rows are appended ("Show more").

    The row: number (link to the case), subject, status, sub-status, priority, type,
    Account/Depl ("code / name", as a deployment is shown everywhere), cloud service ("—"
    without one), contact (name, else email), opened and last updated (in the display zone,
    with the ISO time in ``<time datetime>``)."""
    html = []
    for index, row in enumerate(rows):
        number = f"{row['number']:08d}"
        focus = " autofocus" if appended and index == 0 else ""
        deployment = f"{row['deployment__code']} / {row['deployment__name']}"
        contact = row["contact__display_name"] or row["contact__email"]
        opened_iso, opened_text = _list_time(row["opened_at"], zone)
        modified_iso, modified_text = _list_time(row["modified_at"], zone)
        label = {f: str(names.get(row[f], row[f])) for f, names in _LABELS.items()}
        html.append(
            f'<tr data-case="{number}">\n'
            f'  <td><a href="{escape(case_path(row["number"]))}"{focus}>{number}</a></td>\n'
            f"  <td>{escape(row['subject'])}</td>\n"
            f'  <td><span class="status status-{escape(row["status"])}">'
            f"{escape(label['status'])}</span></td>\n"
            f"  <td>{escape(label['sub_status'])}</td>\n"
            f'  <td><span class="priority priority-{escape(row["priority"])}">'
            f"{escape(label['priority'])}</span></td>\n"
            f"  <td>{escape(label['type'])}</td>\n"
            f"  <td>{escape(deployment)}</td>\n"
            f"  <td>{escape(row['service__name'] or '—')}</td>\n"
            f"  <td>{escape(contact)}</td>\n"
            f'  <td class="nowrap"><time datetime="{opened_iso}">{escape(opened_text)}</time>'
            "</td>\n"
            f'  <td class="nowrap"><time datetime="{modified_iso}">{escape(modified_text)}</time>'
            "</td>\n"
            "</tr>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


_CHANNELS = dict(Channel.choices)
_PRIORITIES = dict(Priority.choices)


def _person(user: User | None) -> str:
    if user is None:
        return "System"
    return user.display_name or user.email


def _feed_items(feed: list[CaseUpdate], zone: zoneinfo.ZoneInfo) -> str:
    """The ``<li>`` of each entry of the case feed, built here for the same reason as the
    list rows: a long case has dozens of entries with a date, a channel and files each.
    Every value from the database is escaped; the body keeps its paragraphs and line breaks
    as the ``linebreaks`` filter gives them."""
    html = []
    for update in feed:
        classes = "feed-item" + (" by-care" if update.by_care else "")
        classes += " internal" if update.is_internal else ""
        iso, text = _list_time(update.created_at, zone)
        pills = ' <span class="pill subtle">Customer Care</span>' if update.by_care else ""
        if update.is_internal:
            pills += ' <span class="pill internal">Internal note</span>'
        channel = escape(str(_CHANNELS.get(update.channel, update.channel)))
        request = ""
        if update.requested_priority:
            label = _PRIORITIES.get(update.requested_priority, update.requested_priority)
            request = (
                f'<p class="small"><strong>Priority request:</strong> {escape(str(label))}</p>'
            )
        files = "".join(
            f'<li><a href="{escape(reverse("cases:attachment", args=[a.token]))}" download>'
            f"{escape(a.name)}</a> "
            f'<span class="muted small">({escape(filesizeformat(a.size))})</span></li>'
            for a in update.attachments.all()
        )
        html.append(
            f'<li class="{classes}">\n'
            f'  <p class="feed-meta"><strong>{escape(_person(update.author))}</strong>{pills}'
            f' <time datetime="{iso}">{escape(text)}</time>'
            f' <span class="muted small">via {channel}</span></p>\n'
            f"  {request}"
            f'<div class="feed-body">{linebreaks(update.body, autoescape=True)}</div>\n'
            + (f'  <ul class="files">{files}</ul>\n' if files else "")
            + "</li>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


def _history_items(history: list[tuple[CaseEvent, str]], zone: zoneinfo.ZoneInfo) -> str:
    """The ``<li>`` of each history event (C-16), escaped, in the display zone."""
    html = []
    for event, text in history:
        iso, when = _list_time(event.created_at, zone)
        channel = escape(str(_CHANNELS.get(event.channel, event.channel)))
        html.append(
            f'<li><time datetime="{iso}">{escape(when)}</time> {escape(text)}'
            f'<span class="muted small"> · {escape(_person(event.actor))} via {channel}</span>'
            "</li>\n"
        )
    return mark_safe("".join(html))  # noqa: S308 (every value above is escaped)


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


class FilterOption(NamedTuple):
    value: str
    label: str
    group: str = ""  # the organization of a deployment


FILTER_OPTIONS_SECONDS = 30
FILTER_OPTIONS_KEPT = 2000  # sets of organizations whose choices a process keeps at most
_filter_options_memo: dict[str, tuple[float, object]] = {}


def _memo(key: str, compute: Callable[[], object]) -> object:
    """The value for the key, computed at most once per FILTER_OPTIONS_SECONDS in this
    process. The choices may be that old anyway, and a lookup in process memory costs far
    less than a round trip to the shared cache on every list page."""
    now = time.monotonic()
    hit = _filter_options_memo.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = compute()
    if len(_filter_options_memo) >= FILTER_OPTIONS_KEPT:
        _filter_options_memo.clear()
    _filter_options_memo[key] = (now + FILTER_OPTIONS_SECONDS, value)
    return value


def _organization_options(org_ids: list[int]) -> dict[str, list[FilterOption]]:
    """Deployments and designated contacts of these organizations as filter choices."""
    deployments = (
        Deployment.objects.filter(organization_id__in=org_ids)
        .select_related("organization")
        .order_by("organization__name", "name")
        .only("code", "name", "organization__name")
    )
    contacts = (
        User.objects.filter(
            memberships__organization_id__in=org_ids,
            memberships__access_level=AccessLevel.DESIGNATED_CONTACT,
        )
        .distinct()
        .order_by("display_name", "email")
        .values_list("id", "display_name", "email")
    )
    return {
        "deployments": [FilterOption(str(d.pk), str(d), d.organization.name) for d in deployments],
        "contacts": [FilterOption(str(pk), name or email) for pk, name, email in contacts],
    }


def _cached_organization_options(organizations: list[Organization]) -> dict:
    """The choices change rarely but the list page shows them on every request, so they are
    kept for a short while per set of organizations. The key names each organization's id
    and creation time, so a different set (or a reused id) never meets another's choices."""
    if not organizations:
        return {"deployments": [], "contacts": []}
    fingerprint = ",".join(
        f"{o.pk}.{o.created_at.timestamp():f}" for o in sorted(organizations, key=lambda o: o.pk)
    )
    key = "cases:filter-options:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    return _memo(key, lambda: _organization_options([o.pk for o in organizations]))


def _service_options() -> list[FilterOption]:
    return _memo(
        "cases:filter-services",
        lambda: [
            FilterOption(slug, name)
            for slug, name in CloudService.objects.filter(is_active=True).values_list(
                "slug", "name"
            )
        ],
    )


def _filter_options(request: HttpRequest) -> dict:
    """Choices of the All Cases filters: only the user's own organizations' deployments and
    contacts. Care see every organization, so theirs narrow to the organizations typed in
    the organization filter instead of listing every tenant's."""
    user = request.user
    care = policy.is_care(user)
    if care:
        slugs = [s for s in request.GET.getlist("organization") if s][:20]
        organizations = list(Organization.objects.filter(slug__in=slugs).order_by("name"))
    else:
        levels = access_levels(user)
        # The layout lists the same organizations: one query serves both.
        organizations = [o for o in visible_organizations(user) if levels.get(o.pk) in CASE_LEVELS]
    return {
        "care": care,
        "organizations": organizations,
        "several_organizations": len(organizations) > 1,
        **_cached_organization_options(organizations),
        "services": _service_options(),
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "types": CaseType.choices,
    }


FILTER_LABELS = {
    "q": "Case number or keywords",
    "mine": "Only my cases",
    "status": "Status",
    "sub_status": "Sub-status",
    "priority": "Priority",
    "type": "Type",
    "organization": "Organization",
    "deployment": "Account/Depl",
    "service": "Cloud service",
    "contact": "Contact",
    "opened_after": "Opened on or after",
    "opened_before": "Opened on or before",
    "ordering": "Sort",
}


def _selected(request: HttpRequest) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


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
    _require_case_pages(request)
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
        "case_rows": _case_rows(rows, zone, appended=template == "cases/_my_cases_rows.html"),
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
    _require_case_pages(request)
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
    selected = _selected(request)
    options = _filter_options(request)
    headers = _headers(ordering)
    for header in headers:
        if header["column"].sort:
            header["href"] = _query_with(selected, ordering=header["next"], page="")
    context = {
        "cases": rows,
        "case_rows": _case_rows(rows, zone),
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
            name: (selected.get(name) or [""])[0]
            for name in ("organization", "opened_after", "opened_before")
        },
        "headers": headers,
        "ordering": ordering,
        "selected": selected,
        "q": request.GET.get("q", ""),
        "filtered": any(k not in ("page", "ordering") for k in request.GET),
        "access": portal_access(request.user),
        "links": {
            "first": _query_with(selected, page=""),
            "previous": _query_with(selected, page=page - 1),
            "next": _query_with(selected, page=page + 1),
        },
        **options,
        "choices": _filter_choices(options, selected),
    }
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


def _option_tags(options, chosen: list[str], *, grouped: bool = False) -> str:
    """``<option>`` elements of a filter's select, the chosen ones selected."""
    tags = []
    for option in options:
        label = f"{option.group}: {option.label}" if grouped else option.label
        mark = " selected" if option.value in chosen else ""
        tags.append(f'<option value="{escape(option.value)}"{mark}>{escape(str(label))}</option>')
    return mark_safe("".join(tags))  # noqa: S308 (values and labels are escaped)


def _check_tags(name: str, choices, chosen: list[str]) -> str:
    """The checkboxes of a filter's choices, the chosen ones checked."""
    tags = []
    for value, label in choices:
        mark = " checked" if value in chosen else ""
        tags.append(
            f'<label class="check"><input type="checkbox" name="{name}" '
            f'value="{escape(value)}"{mark}> {escape(str(label))}</label>'
        )
    return mark_safe("\n  ".join(tags))  # noqa: S308 (values and labels are escaped)


def _filter_choices(options: dict, selected: dict[str, list[str]]) -> dict[str, str]:
    """The choices of the filter form as markup: with a dozen services and the statuses,
    priorities and types, the form's options are most of what the page's template would
    otherwise look up one by one."""
    return {
        "organizations": _option_tags(
            [FilterOption(o.slug, o.name) for o in options["organizations"]],
            selected.get("organization", []),
        ),
        "deployments": _option_tags(
            options["deployments"],
            selected.get("deployment", []),
            grouped=options["several_organizations"],
        ),
        "services": _option_tags(options["services"], selected.get("service", [])),
        "contacts": _option_tags(options["contacts"], selected.get("contact", [])),
        "statuses": _check_tags("status", options["statuses"], selected.get("status", [])),
        "priorities": _check_tags("priority", options["priorities"], selected.get("priority", [])),
        "types": _check_tags("type", options["types"], selected.get("type", [])),
    }


def _export_name(request: HttpRequest, stem: str) -> str:
    today = timezone.localdate(timezone.now(), display_zone(request.user))
    return f"{stem}-{today:%Y-%m-%d}.xlsx"


@login_required
@require_GET
def my_cases_export(request: HttpRequest) -> HttpResponse:
    """My Cases as .xlsx: every row of the list (all pages), its columns, its order."""
    _require_case_pages(request)
    return cases_xlsx_response(
        queryset=my_open_cases(user=request.user),
        columns=LIST_COLUMNS,
        filename=_export_name(request, "my-cases"),
    )


@login_required
@require_GET
def all_cases_export(request: HttpRequest) -> HttpResponse:
    """All Cases as .xlsx with the same filters and sort as the list (C-13)."""
    _require_case_pages(request)
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
    _require_case_pages(request)
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


# --- Open a case (C-4, C-5, C-15) --------------------------------------------------------


def _dc_organizations(user: User) -> list[Organization]:
    """Where the user may open cases: organizations where they are a designated contact,
    including a reseller partner's end users (T-8)."""
    if user.is_staff:
        return []
    ids = [
        pk for pk, level in access_levels(user).items() if level == AccessLevel.DESIGNATED_CONTACT
    ]
    return list(Organization.objects.filter(pk__in=ids, is_active=True).order_by("name"))


def _normalised(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _refreshed(
    values, organizations: list[Organization], services: dict[str, CloudService], *, fresh: bool
) -> dict[str, str]:
    """The form's values after the person changed a choice: the organization falls back to
    the first, sub-type, stage, service and affected count follow the type, and the
    description becomes the chosen service's checklist unless the person has written their
    own text. A fresh form starts as a Support case in Production."""
    initial = {name: str(values.get(name, "")) for name in CaseOpenForm.base_fields}
    del initial["attachments"]
    slugs = [o.slug for o in organizations]
    if initial["organization"] not in slugs:
        initial["organization"] = slugs[0]
    if fresh and not initial["type"]:
        initial["type"] = CaseType.SUPPORT
        initial["implementation_stage"] = initial["implementation_stage"] or Stage.PRODUCTION
    case_type = initial["type"]
    if case_type in CUSTOMER_TYPES:
        if initial["sub_type"] not in CUSTOMER_TYPES[case_type]:
            initial["sub_type"] = ""
        if case_type != CaseType.SUPPORT:
            initial["implementation_stage"] = ""
        if case_type == CaseType.ADMIN:
            initial["service"] = ""
    if initial["sub_type"] not in ("", SubType.PROBLEM):
        initial["affected_count"] = ""
    current = _normalised(initial["description"])
    filled_with = services.get(initial["checklist_of"])
    untouched = not current or (
        filled_with is not None and current == _normalised(filled_with.checklist)
    )
    if untouched:
        chosen = services.get(initial["service"])
        initial["description"] = chosen.checklist if chosen else ""
        initial["checklist_of"] = chosen.slug if chosen else ""
    return initial


def _new_case_form(request: HttpRequest, organizations: list[Organization], *, bound: bool):
    services = {s.slug: s for s in CloudService.objects.filter(is_active=True).order_by("name")}
    if bound:
        slug = request.POST.get("organization", "")
        kwargs = {"data": request.POST, "files": request.FILES}
    else:
        fresh = request.method == "GET"
        values = request.GET if fresh else request.POST
        initial = _refreshed(values, organizations, services, fresh=fresh)
        slug = initial["organization"]
        kwargs = {"initial": initial}
    organization = next((o for o in organizations if o.slug == slug), organizations[0])
    deployments = list(
        Deployment.objects.filter(organization=organization, is_active=True).order_by("name")
    )
    if not bound and not kwargs["initial"].get("deployment") and len(deployments) == 1:
        kwargs["initial"]["deployment"] = str(deployments[0].pk)
    return CaseOpenForm(
        organizations=organizations,
        deployments=deployments,
        services=list(services.values()),
        refresh_url=reverse("cases:new"),
        **kwargs,
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    """Open a case. A POST with ``action=refresh`` (htmx when a choice changes, or the
    button shown without JavaScript) re-renders the form for the new choices and saves
    nothing; ``?service=<slug>`` starts with that service's checklist."""
    organizations = _dc_organizations(request.user)
    if not organizations:
        raise PermissionDenied("Only designated contacts can open cases.")
    submitted = request.method == "POST" and request.POST.get("action") != "refresh"
    form = _new_case_form(request, organizations, bound=submitted)
    if submitted:
        case = _open_case(request, form)
        if case is not None:
            messages.success(
                request,
                f"Case {case.display_number} is open. Customer Care will review it; you get "
                "an email for every update.",
            )
            return redirect("cases:detail", case.number)
    context = {"form": form, "several_organizations": len(organizations) > 1}
    return render_page(request, "cases/new.html", context, zone=display_zone(request.user))


def _open_case(request: HttpRequest, form: CaseOpenForm) -> Case | None:
    """Opens the case, or puts every reason why not next to the fields."""
    valid = form.is_valid()
    data = form.case_input() if "organization" in form.cleaned_data else None
    uploads = form.cleaned_data.get("attachments") or []
    if data is None:
        return None
    try:
        if not valid:
            # Still say everything else that is wrong, not one field at a time.
            validate_case_input(data)
            validate_uploads(uploads)
            return None
        return case_open(
            actor=request.user,
            data=data,
            channel=Channel.PORTAL,
            now=timezone.now(),
            uploads=uploads,
        )
    except InvalidInput as exc:
        form.add_service_errors(exc.errors, skip_known=True)
        if not exc.errors:
            form.add_error(None, exc.message)
        if "attachments" not in exc.errors and uploads:
            try:
                validate_uploads(uploads)
            except InvalidInput as upload_error:
                form.add_service_errors(upload_error.errors)
    except (NotAllowed, NotFound) as exc:
        form.add_error("organization", exc.message)
    if uploads:
        form.add_error(
            "attachments", "Choose the files again: a browser cannot keep them after an error."
        )
    return None


# --- the case page -----------------------------------------------------------------------


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return str(value or "—")


def describe_event(event: CaseEvent) -> str:
    """One line of history in words (C-16)."""
    before, after = event.before or {}, event.after or {}
    kind = event.kind
    if kind == CaseEvent.Kind.OPENED:
        parts = [_label(CaseType, after.get("type"))]
        if after.get("sub_type"):
            parts.append(_label(SubType, after["sub_type"]))
        priority = _label(Priority, after.get("priority"))
        return f"Opened as {' / '.join(parts)}, priority {priority}"
    if kind == CaseEvent.Kind.TRANSITION and "sub_status" in after:
        return (
            f"Status: {_label(SubStatus, before.get('sub_status'))} → "
            f"{_label(SubStatus, after['sub_status'])}"
        )
    if kind == CaseEvent.Kind.PRIORITY and "priority" in after:
        return (
            f"Priority: {_label(Priority, before.get('priority'))} → "
            f"{_label(Priority, after['priority'])}"
        )
    if kind == CaseEvent.Kind.PRIORITY_REQUEST and "requested_priority" in after:
        return f"Asked for priority {_label(Priority, after['requested_priority'])}"
    if kind == CaseEvent.Kind.TYPE and "type" in after:
        return f"Type: {_label(CaseType, before.get('type'))} → {_label(CaseType, after['type'])}"
    if kind == CaseEvent.Kind.ESCALATION:
        return _describe_escalation(after)
    return event.get_kind_display()


ESCALATION_STEPS = {
    "requested": "Escalation requested",
    "accepted": "Escalation accepted",
    "rejected": "Escalation not accepted",
    "resolved": "Escalation resolved",
}


def _describe_escalation(after: dict) -> str:
    """A step of an escalation in the case history (E-7, E-8); what was said stays in the
    escalation itself."""
    state = after.get("state")
    if state == "requested" and after.get("reason"):
        return f"Escalation requested: {_label(EscalationReason, after['reason'])}"
    if state in ESCALATION_STEPS:
        return ESCALATION_STEPS[state]
    if "owner" in after:
        return "Escalation owner changed"
    return "Escalation"


def _care_workspace_url(case: Case) -> str:
    try:
        return reverse("admin:cases_case_change", args=[case.pk])
    except NoReverseMatch:
        return reverse("admin:index")


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    now: datetime,
    forms: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    care = policy.is_care(user)
    feed = list(case_feed(user=user, case=case))
    history = [(event, describe_event(event)) for event in case_history(user=user, case=case)]
    zone = display_zone(user, case.organization_id)
    actions = [] if care else policy.available_actions(user, case, now)
    forms = forms or {}
    is_dc = not care and policy.is_designated_contact(user, case)
    # The escalation panel (E-1 … E-7): everyone who sees the case sees its escalations;
    # only a designated contact gets the button, disabled with the reason when refused.
    escalations = list(case_escalations(user=user, case=case))
    escalation_check = (
        escalation_rules.eligibility(user, case, now, escalations=escalations, with_reasons=False)
        if is_dc
        else None
    )
    context = {
        "case": case,
        "feed": feed,
        "files": [a for update in feed for a in update.attachments.all()],
        "history": history,
        "feed_items": _feed_items(feed, zone),
        "history_items": _history_items(history, zone),
        "actions": actions,
        "care": care,
        "is_dc": is_dc,
        "next_step": NEXT_STEP.get(case.sub_status, ""),
        "reopen_deadline": policy.reopen_deadline(case),
        "reopen_expired": case.is_closed and is_dc and "reopen" not in actions,
        "workspace_url": _care_workspace_url(case) if care else "",
        "update_form": forms.get("update") or CaseUpdateForm(case=case, prefix="update"),
        "confirm_form": forms.get("confirm") or CaseCommentForm(prefix="confirm"),
        "close_form": forms.get("close") or CaseCommentForm(prefix="close"),
        "reopen_form": forms.get("reopen") or CaseReopenForm(prefix="reopen"),
        "access": portal_access(user),
        "priority_low": case.priority == Priority.LOW,
        "escalations": escalations,
        "escalation_check": escalation_check,
    }
    return render_page(request, "cases/detail.html", context, zone=zone, status=status)


@login_required
@require_GET
def case_detail(request: HttpRequest, number: int) -> HttpResponse:
    """The case page: header, public feed newest first, files, history, and the actions the
    user may take now (C-8 … C-12). READ_ONLY users see everything and no actions."""
    case = case_or_404(request, number)
    audit_staff_access(request, case)
    return _render_case(request, case, now=timezone.now())


def run_form_action(
    request: HttpRequest, form, run, *, done: str, success_url: str, conflict_url: str
) -> HttpResponse | None:
    """Run a service with a valid form's data and answer as the portal does: success and a
    refused state change (Conflict) are a message and a redirect; bad input puts the errors
    next to the fields and returns None, for the caller to render the page again; NotAllowed
    is the "not allowed" page, NotFound "not found". Nothing changes on any refusal."""
    if not form.is_valid():
        return None
    try:
        run(form.cleaned_data)
    except InvalidInput as exc:
        form.add_service_errors(exc.errors)
        if not exc.errors:
            form.add_error(None, exc.message)
        return None
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect(conflict_url)
    messages.success(request, done)
    return redirect(success_url)


def _act(request: HttpRequest, case: Case, *, form, run, done: str) -> HttpResponse:
    """Run a customer action on the case. Bad input re-renders the page with the errors
    next to the fields; a refused state change is a message; nothing changes either way."""
    now = timezone.now()
    url = case_path(case.number)
    answer = run_form_action(
        request,
        form,
        lambda data: run(case, data, now),
        done=done,
        success_url=url,
        conflict_url=url,
    )
    return answer or _render_case(request, case, now=now, forms={form.prefix: form})


@login_required
@require_POST
def case_update(request: HttpRequest, number: int) -> HttpResponse:
    """Post a public update with files and, on a Low case, a request for Medium (C-6)."""
    case = case_or_404(request, number)
    form = CaseUpdateForm(request.POST, request.FILES, case=case, prefix="update")
    requested = form.data.get("update-requested_priority") or ""

    def run(case: Case, data: dict, now: datetime) -> None:
        case_post_update(
            case=case,
            actor=request.user,
            body=data["body"],
            requested_priority=data.get("requested_priority") or "",
            uploads=data["attachments"],
            channel=Channel.PORTAL,
            now=now,
        )

    done = "Your update is posted."
    if requested:
        done = "Your update is posted with your priority request; Customer Care decides."
    return _act(request, case, form=form, run=run, done=done)


@login_required
@require_POST
def case_confirm(request: HttpRequest, number: int) -> HttpResponse:
    """Confirm the proposed solution (C-8)."""
    case = case_or_404(request, number)
    form = CaseCommentForm(request.POST, prefix="confirm")

    def run(case: Case, data: dict, now: datetime) -> None:
        case_confirm_solution(
            case=case, actor=request.user, body=data["body"], channel=Channel.PORTAL, now=now
        )

    return _act(request, case, form=form, run=run, done="Thank you: the solution is confirmed.")


@login_required
@require_POST
def case_close_view(request: HttpRequest, number: int) -> HttpResponse:
    """Close Case (C-11)."""
    case = case_or_404(request, number)
    form = CaseCommentForm(request.POST, prefix="close")

    def run(case: Case, data: dict, now: datetime) -> None:
        case_close(
            case=case, actor=request.user, body=data["body"], channel=Channel.PORTAL, now=now
        )

    return _act(
        request,
        case,
        form=form,
        run=run,
        done="The case is closed. You can reopen it within 30 days.",
    )


@login_required
@require_POST
def case_reopen_view(request: HttpRequest, number: int) -> HttpResponse:
    """Reopen within 30 days of closure, with the reason as a public update (C-12)."""
    case = case_or_404(request, number)
    form = CaseReopenForm(request.POST, prefix="reopen")

    def run(case: Case, data: dict, now: datetime) -> None:
        case_reopen(
            case=case, actor=request.user, reason=data["reason"], channel=Channel.PORTAL, now=now
        )

    return _act(
        request,
        case,
        form=form,
        run=run,
        done="The case is reopened. Customer Care will review your information.",
    )


# --- attachments (C-10) ------------------------------------------------------------------


@login_required
@require_GET
def attachment_download(request: HttpRequest, token: str) -> HttpResponse:
    """A file of a case the user may see, always as a download with the stored type and
    the sanitised name; any other token (another tenant's, an internal note's for a
    customer) is not found."""
    try:
        attachment = attachment_get_for_user(user=request.user, token=token)
    except NotFound as exc:
        raise Http404("No such file.") from exc
    audit_staff_access(request, attachment, action="download")
    return attachment_response(attachment)
