"""The case page (C-8 … C-12, C-16) and what a customer does on it: post an update,
confirm the solution, close, reopen; and a case's files as downloads (C-10)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import display_zone
from cases import policy
from cases.actions import available_actions
from cases.downloads import attachment_response
from cases.emails import NEXT_STEP
from cases.history_display import event_summary
from cases.links import case_path
from cases.models import Case, Channel
from cases.selectors import attachment_get_for_user, case_feed, case_history
from cases.services import case_close, case_confirm_solution, case_post_update, case_reopen
from cases.web.access import case_or_404
from cases.web.display import feed_entries, history_lines
from cases.web.forms import CaseCommentForm, CaseReopenForm, CaseUpdateForm
from cases.web.responses import render_page, render_partial, run_form_action
from core.audit.services import audit_staff_access
from core.errors import NotFound


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
    history = [(event, event_summary(event)) for event in case_history(user=user, case=case)]
    zone = display_zone(user, case.organization_id)
    actions = [] if care else available_actions(user, case, now)
    forms = forms or {}
    is_dc = not care and policy.is_designated_contact(user, case)
    context = {
        "case": case,
        "feed": feed,
        "files": [a for update in feed for a in update.attachments.all()],
        "history": history,
        "feed_items": render_partial("cases/_feed.jinja", {"entries": feed_entries(feed, zone)}),
        "history_items": render_partial(
            "cases/_history.jinja", {"lines": history_lines(history, zone)}
        ),
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
