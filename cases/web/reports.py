"""The service-level report in the customer portal (S-6): for designated contacts, over the
organizations where they are designated contacts (a reseller partner's end users included,
T-8).

Another organization's slug answers 404 (T-6); an organization the user sees with a lower
level, or a user who is a designated contact nowhere, gets 403 (T-4). Care staff see every
organization's report in the care workspace and are sent there.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import AccessLevel, Organization, User
from accounts.selectors import access_levels
from cases import policy
from cases.reports import Period, report_period, report_xlsx_response, sla_report
from cases.selectors import visible_cases
from core.errors import InvalidInput


def _report_organizations(request: HttpRequest) -> tuple[list[Organization], Organization | None]:
    """The organizations the user may report on, and the one asked for (None: all)."""
    user: User = request.user
    levels = access_levels(user)
    dc_ids = [pk for pk, level in levels.items() if level == AccessLevel.DESIGNATED_CONTACT]
    if not dc_ids:
        raise PermissionDenied("Service-level reports are for designated contacts.")
    organizations = list(
        Organization.objects.filter(pk__in=dc_ids, is_active=True).order_by("name")
    )
    slug = (request.GET.get("organization") or "").strip()
    if not slug:
        return organizations, None
    chosen = Organization.objects.filter(slug=slug, pk__in=list(levels), is_active=True).first()
    if chosen is None:
        raise Http404("No such organization.")
    if chosen.pk not in dc_ids:
        raise PermissionDenied("Service-level reports are for designated contacts.")
    return organizations, chosen


def _cases(organizations: list[Organization], chosen: Organization | None, user: User):
    ids = [chosen.pk] if chosen else [o.pk for o in organizations]
    return visible_cases(user).filter(organization_id__in=ids)


def _care_redirect(request: HttpRequest) -> HttpResponse | None:
    if request.user.is_staff:
        if policy.is_care(request.user):
            return redirect("admin:cases_case_sla_report")
        raise PermissionDenied("Service-level reports are for designated contacts and care.")
    return None


@login_required
@require_GET
def sla_report_page(request: HttpRequest) -> HttpResponse:
    elsewhere = _care_redirect(request)
    if elsewhere is not None:
        return elsewhere
    organizations, chosen = _report_organizations(request)
    now = timezone.now()
    context = {
        "organizations": organizations,
        "chosen": chosen,
        "month": (request.GET.get("month") or "").strip(),
        "rows": [],
        "error": "",
        "period": None,
        "export_url": "",
    }
    status = 200
    try:
        period: Period = report_period(request.GET.get("month"), now=now)
    except InvalidInput as exc:
        context["error"] = exc.message
        status = 400
    else:
        context["period"] = period
        context["rows"] = sla_report(
            cases=_cases(organizations, chosen, request.user), period=period
        )
        query = request.GET.urlencode()
        context["export_url"] = reverse("cases:sla-report-export") + (f"?{query}" if query else "")
    # Months are UTC months and nothing else on the page is a time: no zone to apply.
    return render(request, "cases/report_sla.html", context, status=status)


@login_required
@require_GET
def sla_report_export(request: HttpRequest) -> HttpResponse:
    elsewhere = _care_redirect(request)
    if elsewhere is not None:
        return elsewhere
    organizations, chosen = _report_organizations(request)
    now = timezone.now()
    try:
        period = report_period(request.GET.get("month"), now=now)
    except InvalidInput as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    rows = sla_report(cases=_cases(organizations, chosen, request.user), period=period)
    stem = f"service-levels-{chosen.slug if chosen else 'all'}-{period.month or 'last-12-months'}"
    return report_xlsx_response(rows, filename=stem)
