"""How the portal answers: a page in the user's time zone, its hot partials, and a form
action's outcome."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    zone: zoneinfo.ZoneInfo,
    status: int = 200,
) -> HttpResponse:
    """The page with its times in ``zone``; it varies with htmx (a partial or the page)."""
    with timezone.override(zone):
        response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def run_form_action(
    request: HttpRequest,
    form,
    run: Callable[[dict], object],
    *,
    done: str,
    success_url: str,
    conflict_url: str,
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


def render_partial(template_name: str, context: dict) -> SafeString:
    """A hot partial (``*.jinja``: list rows, the case feed, its history) rendered by the
    Jinja2 engine, for the page's Django template to place as it is.

    Django's Jinja2 backend returns the output as a plain ``str``, which the page would escape
    again; it is a template's output, every value in it escaped exactly as the Django
    templates escape (config/jinja2.py), so it is safe as it is, as Django's own widgets
    treat what their template renderer returns."""
    return SafeString(engines["jinja2"].get_template(template_name).render(context))
