"""The customer portal's escalation pages (E-1 … E-9).

Thin edges like the case pages: the escalation is found through the case the user can see
(another tenant's, or another case's, is not found: T-6), the rules say before anyone types
whether and why a case cannot be escalated, and every write goes through
``escalations.services``, whose domain errors become field errors, a message, the "not
allowed" page or "not found".
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import display_zone
from cases.links import case_path
from cases.models import Case, Channel
from cases.web import case_or_404, render_page, run_form_action
from core.audit.services import audit_staff_access
from core.errors import NotFound
from escalations import rules, services
from escalations.forms import EscalationMessageForm, EscalationRequestForm
from escalations.links import escalation_path
from escalations.models import Escalation, State
from escalations.selectors import escalation_feed, escalation_get_for_user

REQUESTED = (
    "Your escalation is requested. A Customer Care manager will review it; you get an email "
    "with the decision."
)


def _escalation_or_404(request: HttpRequest, case: Case, escalation_id: int) -> Escalation:
    """The escalation of this case, if the user can see it; one of another case answers
    404 like a missing one."""
    try:
        escalation = escalation_get_for_user(user=request.user, escalation_id=escalation_id)
    except NotFound as exc:
        raise Http404("No such escalation.") from exc
    if escalation.case_id != case.pk:
        raise Http404("No such escalation.")
    return escalation


# --- asking for an escalation (E-1 … E-7) ------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def escalation_new(request: HttpRequest, number: int) -> HttpResponse:
    """The escalation form. Before anyone types it says whether the case can be escalated
    (E-1 … E-3), which reasons do not apply now and why (E-5, E-6), that a change of urgency
    or impact is a priority request (E-4), and Customer Care's phone numbers (C-5)."""
    case = case_or_404(request, number)
    now = timezone.now()
    eligibility = rules.eligibility(request.user, case, now)
    if eligibility.refusal is not None and eligibility.refusal.rule == "T-4":
        raise PermissionDenied(eligibility.refusal.message)
    form = EscalationRequestForm(
        request.POST if request.method == "POST" else None, refusals=eligibility.reasons
    )
    if request.method == "POST":
        answer = run_form_action(
            request,
            form,
            lambda data: services.escalation_request(
                case=case,
                actor=request.user,
                reason=data["reason"],
                details=data["details"],
                channel=Channel.PORTAL,
                now=now,
            ),
            done=REQUESTED,
            success_url=case_path(case.number),
            conflict_url=case_path(case.number),
        )
        if answer is not None:
            return answer
        # The case may have changed since the form was shown: explain it as it is now.
        eligibility = rules.eligibility(request.user, case, now)
        form.refusals = eligibility.reasons
    context = {
        "case": case,
        "form": form,
        "refusal": eligibility.refusal,
        "active": eligibility.active,
        "priority_change_advice": rules.PRIORITY_CHANGE_ADVICE,
        "care_phone_numbers": settings.PORTAL["CARE_PHONE_NUMBERS"],
    }
    zone = display_zone(request.user, case.organization_id)
    return render_page(request, "escalations/request.html", context, zone=zone)


# --- the escalation and its feed (E-8, E-9) ----------------------------------------------


def author_label(message, escalation: Escalation) -> str:
    """Who wrote a feed message, as the customer sees it: care managers write as the
    escalation owner or as Customer Care."""
    author = message.author
    if message.by_care:
        if author is not None and author.pk == escalation.owner_id:
            return f"Escalation owner ({author.display_name or 'Customer Care'})"
        return "Customer Care"
    if author is None:
        return "System"
    return author.display_name or author.email


def _render_escalation(
    request: HttpRequest,
    case: Case,
    escalation: Escalation,
    *,
    form: EscalationMessageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    feed = [
        (message, author_label(message, escalation))
        for message in escalation_feed(escalation=escalation)
    ]
    can_write = services.can_write_message(user, escalation)
    context = {
        "case": case,
        "escalation": escalation,
        "feed": feed,
        "can_write": can_write,
        "message_form": form or EscalationMessageForm(prefix="message"),
        "is_rejected": escalation.state == State.REJECTED,
        "is_accepted": escalation.state == State.ACCEPTED,
        "is_resolved": escalation.state == State.RESOLVED,
    }
    zone = display_zone(user, case.organization_id)
    return render_page(request, "escalations/detail.html", context, zone=zone, status=status)


@login_required
@require_http_methods(["GET"])
def escalation_detail(request: HttpRequest, number: int, escalation_id: int) -> HttpResponse:
    """The escalation: what was asked, the decision and its explanation or summary, and
    its own feed between the customer and the escalation owner (E-8, E-9)."""
    case = case_or_404(request, number)
    escalation = _escalation_or_404(request, case, escalation_id)
    audit_staff_access(request, escalation)
    return _render_escalation(request, case, escalation)


@login_required
@require_POST
def escalation_message(request: HttpRequest, number: int, escalation_id: int) -> HttpResponse:
    """Write in the escalation feed (E-9): designated contacts of the organization while
    the escalation is active."""
    case = case_or_404(request, number)
    escalation = _escalation_or_404(request, case, escalation_id)
    form = EscalationMessageForm(request.POST, prefix="message")
    answer = run_form_action(
        request,
        form,
        lambda data: services.escalation_post_message(
            escalation=escalation,
            actor=request.user,
            body=data["body"],
            channel=Channel.PORTAL,
            now=timezone.now(),
        ),
        done="Your message is posted.",
        success_url=f"{escalation_path(escalation)}#escalation-feed",
        conflict_url=escalation_path(escalation),
    )
    if answer is not None:
        return answer
    return _render_escalation(request, case, escalation, form=form)
