"""Open a case (C-4, C-5, C-15): the form narrows its choices to what the person picked,
and the service explains every refusal next to the fields."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.models import AccessLevel, Deployment, Organization, User
from accounts.selectors import access_levels, display_zone
from cases.attachments import validate_uploads
from cases.models import CUSTOMER_TYPES, Case, CaseType, Channel, CloudService, Stage, SubType
from cases.services import case_open, validate_case_input
from cases.web.forms import CaseOpenForm
from cases.web.responses import render_page
from core.errors import InvalidInput, NotAllowed, NotFound


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
