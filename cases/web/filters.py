"""The All Cases filter form (C-13): its choices, the values chosen and the filters' names.

The filtering itself is ``cases.filters.CaseFilterSet``, shared with the API and exports."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.cache import caches
from django.http import HttpRequest

from accounts.models import AccessLevel, Deployment, Organization, User
from accounts.selectors import access_levels, visible_organizations
from cases import policy
from cases.models import CaseType, CloudService, Priority, Status
from cases.selectors import CASE_LEVELS


class FilterOption(NamedTuple):
    value: str
    label: str
    group: str = ""  # the organization of a deployment


# The choices change rarely but the list page shows them on every request: each process
# keeps them for a short while in its local-memory cache, which costs far less per page than
# a round trip to the shared cache. They may be that old anyway.
FILTER_OPTIONS_SECONDS = 30


def _kept(key: str, compute: Callable[[], Any]) -> Any:
    return caches["local"].get_or_set(key, compute, FILTER_OPTIONS_SECONDS)


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
    """The deployments and contacts of a set of organizations, kept for a short while. The
    key names each organization's id and creation time, so a different set (or a reused id)
    never meets another's choices."""
    if not organizations:
        return {"deployments": [], "contacts": []}
    fingerprint = ",".join(
        f"{o.pk}.{o.created_at.timestamp():f}" for o in sorted(organizations, key=lambda o: o.pk)
    )
    key = "cases:filter-options:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    return _kept(key, lambda: _organization_options([o.pk for o in organizations]))


def _service_options() -> list[FilterOption]:
    return _kept(
        "cases:filter-services",
        lambda: [
            FilterOption(slug, name)
            for slug, name in CloudService.objects.filter(is_active=True).values_list(
                "slug", "name"
            )
        ],
    )


def filter_options(request: HttpRequest) -> dict:
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


def selected(request: HttpRequest) -> dict[str, list[str]]:
    """Every value of every parameter of the request's query string."""
    return {key: request.GET.getlist(key) for key in request.GET}


def _choices(options, chosen: list[str], *, grouped: bool = False) -> list[dict]:
    """A filter's choices as its select or checkboxes show them, the chosen ones marked.
    (Dicts: the cheapest lookup for the template engine, 60 choices a page.)"""
    return [
        {
            "value": option.value,
            "label": f"{option.group}: {option.label}" if grouped else option.label,
            "selected": option.value in chosen,
        }
        for option in options
    ]


def filter_choices(options: dict, chosen: dict[str, list[str]]) -> dict[str, list[dict]]:
    """Every choice of the filter form, by filter, the chosen ones marked."""

    def pairs(choices) -> list[FilterOption]:
        return [FilterOption(value, str(label)) for value, label in choices]

    return {
        "organizations": _choices(
            [FilterOption(o.slug, o.name) for o in options["organizations"]],
            chosen.get("organization", []),
        ),
        "deployments": _choices(
            options["deployments"],
            chosen.get("deployment", []),
            grouped=options["several_organizations"],
        ),
        "services": _choices(options["services"], chosen.get("service", [])),
        "contacts": _choices(options["contacts"], chosen.get("contact", [])),
        "statuses": _choices(pairs(options["statuses"]), chosen.get("status", [])),
        "priorities": _choices(pairs(options["priorities"]), chosen.get("priority", [])),
        "types": _choices(pairs(options["types"]), chosen.get("type", [])),
    }
