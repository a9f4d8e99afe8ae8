"""Site-wide pages: the home page (dashboard), help, health and error pages."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.models import AccessLevel, BusinessCalendar, Deployment, Organization
from accounts.selectors import (
    access_levels,
    display_zone,
    organizations_short_of_designated_contacts,
)
from cases.selectors import my_open_cases
from cases.web import portal_access
from web.guidance import WHAT_TO_DO


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "web/landing.html", {"tips": WHAT_TO_DO})
    if user.is_staff:
        return render(request, "web/staff_home.html")
    levels = access_levels(user)
    organizations = list(Organization.objects.filter(pk__in=levels).order_by("name"))
    deployments: dict[int, list[Deployment]] = {}
    for deployment in Deployment.objects.filter(is_active=True).order_by("name"):
        deployments.setdefault(deployment.organization_id, []).append(deployment)
    calendars = {c.organization_id: c for c in BusinessCalendar.objects.all()}
    short = set(
        organizations_short_of_designated_contacts(
            Organization.objects.filter(pk__in=levels)
        ).values_list("pk", flat=True)
    )
    access = portal_access(user)
    open_cases, more_open_cases = [], False
    if access["mine"]:
        first = list(my_open_cases(user=user)[:6])
        open_cases, more_open_cases = first[:5], len(first) > 5
    rows = [
        {
            "organization": org,
            "access_level": AccessLevel(levels[org.pk]),
            "deployments": deployments.get(org.pk, []),
            "calendar": calendars.get(org.pk),
            "short_of_contacts": org.pk in short,
        }
        for org in organizations
    ]
    context = {
        "rows": rows,
        "tips": WHAT_TO_DO,
        "has_orgs": bool(rows),
        "access": access,
        "open_cases": open_cases,
        "more_open_cases": more_open_cases,
    }
    with timezone.override(display_zone(user)):
        return render(request, "web/dashboard.html", context)


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/help.html", {"tips": WHAT_TO_DO})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability for load balancers and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the error may be the database itself.
    return HttpResponse(loader.get_template("500.html").render(), status=500)
