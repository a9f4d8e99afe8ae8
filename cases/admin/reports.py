"""The service-level report in the care workspace (S-6): every organization, filtered by
organization and month, on screen and as .xlsx. Care analysts and managers only; each look
is recorded in the staff access audit log (it spans tenants)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization
from cases.reports import Period, report_period, report_xlsx_response, sla_report
from cases.selectors import visible_cases
from core.audit.services import audit_staff_access
from core.errors import InvalidInput

# The organization picker lists this many by name; any other is reached by its id.
ORGANIZATION_CHOICES = 500


def _organization(request: HttpRequest) -> tuple[Organization | None, str]:
    value = (request.GET.get("organization") or "").strip()
    if not value:
        return None, ""
    organization = Organization.objects.filter(pk=int(value)).first() if value.isdigit() else None
    if organization is None:
        return None, "Choose an organization from the list."
    return organization, ""


def _filters(request: HttpRequest) -> tuple[Organization | None, Period | None, dict]:
    organization, error = _organization(request)
    errors = {"organization": error} if error else {}
    period = None
    try:
        period = report_period(request.GET.get("month"), now=timezone.now())
    except InvalidInput as exc:
        errors["month"] = exc.message
    return organization, period, errors


def _rows(request: HttpRequest, organization: Organization | None, period: Period):
    cases = visible_cases(request.user)
    if organization is not None:
        cases = cases.filter(organization_id=organization.pk)
    return sla_report(cases=cases, period=period)


def sla_report_view(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    organization, period, errors = _filters(request)
    rows = _rows(request, organization, period) if period and not errors else []
    audit_staff_access(
        request, "cases.sla_report", organization_id=organization.pk if organization else None
    )
    choices = list(
        Organization.objects.order_by("name").values_list("pk", "name")[:ORGANIZATION_CHOICES]
    )
    if organization is not None and organization.pk not in {pk for pk, _ in choices}:
        choices.append((organization.pk, organization.name))
    query = request.GET.urlencode()
    export_url = reverse("admin:cases_case_sla_report_export") + (f"?{query}" if query else "")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Service levels",
        "opts": model_admin.opts,
        "rows": rows,
        "period": period,
        "errors": errors,
        "organization": organization,
        "organization_choices": choices,
        "month": (request.GET.get("month") or "").strip(),
        "export_url": export_url,
    }
    return TemplateResponse(
        request, "admin/cases/case/sla_report.html", context, status=400 if errors else 200
    )


def sla_report_export(model_admin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    organization, period, errors = _filters(request)
    if errors or period is None:
        return HttpResponse(
            " ".join(errors.values()), status=400, content_type="text/plain; charset=utf-8"
        )
    audit_staff_access(
        request,
        "cases.sla_report",
        action="download",
        organization_id=organization.pk if organization else None,
    )
    rows = _rows(request, organization, period)
    stem = f"service-levels-{organization.slug if organization else 'all'}-"
    stem += period.month or "last-12-months"
    return report_xlsx_response(rows, filename=stem)
