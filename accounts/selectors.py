"""Reads about people and tenants. Visibility is decided here (T-4 … T-8)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models, router
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from accounts.models import AccessLevel, BusinessCalendar, Membership, Organization, User
from core import business_time
from core.tenancy import scopes_disabled

_LEVEL_RANK = {level: rank for rank, level in enumerate(AccessLevel.values)}
UTC = zoneinfo.ZoneInfo("UTC")
ModelT = TypeVar("ModelT", bound=models.Model)


def _member_organizations(user: User) -> list[Organization]:
    """The active organizations the user is a member of, by name, each with
    ``membership_level`` (the user's access level there) and ``calendar_time_zone`` (its
    business calendar's zone, None without one); cached on the user. This one query serves
    the tenant scope and, unless a reseller's links add organizations, every other use of
    the user's organizations in the request (the layout, the lists, opening a case)."""
    cached = getattr(user, "_member_organizations_cache", None)
    if cached is None:
        with scopes_disabled():
            cached = list(
                Organization.objects.filter(membership__user=user, is_active=True)
                .annotate(
                    membership_level=F("membership__access_level"),
                    calendar_time_zone=F("businesscalendar__time_zone"),
                )
                .order_by("name")
            )
        user._member_organizations_cache = cached
    return cached


def _memberships(user: User) -> list[tuple[int, str, str]]:
    """(organization id, kind, access level) for each membership."""
    return [(o.pk, o.kind, o.membership_level) for o in _member_organizations(user)]


def access_levels(user: User) -> dict[int, str]:
    """Each visible organization's id and the user's access level in it.

    A reseller partner's members reach the partner's linked end-user organizations with
    their partner access level (T-8); a direct membership of the end user wins if higher.
    """
    if not user.is_authenticated or user.is_staff or not user.is_active:
        return {}
    cached = getattr(user, "_access_level_cache", None)
    if cached is not None:
        return cached
    levels: dict[int, str] = {}

    def grant(org_id: int, level: str) -> None:
        if org_id not in levels or _LEVEL_RANK[level] > _LEVEL_RANK[levels[org_id]]:
            levels[org_id] = level

    reseller_levels: dict[int, str] = {}
    for org_id, kind, level in _memberships(user):
        grant(org_id, level)
        if kind == Organization.Kind.RESELLER:
            reseller_levels[org_id] = level
    if reseller_levels:
        links = Organization.objects.filter(
            is_active=True, reseller_links__reseller_id__in=reseller_levels
        ).values_list("id", "reseller_links__reseller_id")
        for end_user_id, reseller_id in links:
            grant(end_user_id, reseller_levels[reseller_id])
    user._access_level_cache = levels
    return levels


def access_levels_in(organization_id: int, user_ids: Iterable[int]) -> dict[int, str]:
    """Each of these users' access level in one organization, for those who may see it, by
    the same rules as ``access_levels`` (T-4, T-8): an active, non-staff user; the
    organization active; a direct membership, or a membership of an active reseller partner
    linked to it (the higher level wins). One query, however many users: what an email's
    recipients are checked with (N-1)."""
    user_ids = set(user_ids)
    if not user_ids:
        return {}
    with scopes_disabled():
        rows = Membership.objects.filter(
            Q(organization_id=organization_id, organization__is_active=True)
            | Q(
                organization__kind=Organization.Kind.RESELLER,
                organization__is_active=True,
                organization__end_user_links__end_user_id=organization_id,
                organization__end_user_links__end_user__is_active=True,
            ),
            user_id__in=user_ids,
            user__is_active=True,
            user__is_staff=False,
        ).values_list("user_id", "access_level")
        levels: dict[int, str] = {}
        for user_id, level in rows.order_by():
            if user_id not in levels or _LEVEL_RANK[level] > _LEVEL_RANK[levels[user_id]]:
                levels[user_id] = level
    return levels


def access_levels_of(organization_id: int, users: Iterable[User]) -> dict[int, str]:
    """``access_levels_in`` for user objects: a user whose access levels this request has
    read already (the signed-in user, through the tenant scope) costs no query."""
    levels: dict[int, str] = {}
    unknown: list[int] = []
    for user in users:
        if getattr(user, "_access_level_cache", None) is None:
            unknown.append(user.pk)
        elif (level := access_levels(user).get(organization_id)) is not None:
            levels[user.pk] = level
    levels.update(access_levels_in(organization_id, unknown))
    return levels


def visible_organization_ids(user: User) -> tuple[int, ...]:
    """The request's tenant scope: every organization the user may see (T-6)."""
    return tuple(sorted(access_levels(user)))


def access_level_for(user: User, organization: Organization | int) -> str | None:
    org_id = organization if isinstance(organization, int) else organization.pk
    return access_levels(user).get(org_id)


def organizations_for_user(user: User) -> QuerySet[Organization]:
    if user.is_staff:
        return Organization.objects.filter(is_active=True)
    return Organization.objects.filter(pk__in=visible_organization_ids(user))


def visible_organizations(user: User) -> list[Organization]:
    """A customer's organizations by name (with ``calendar_time_zone``: their business
    calendar's zone, None without one), for the layout, the list filters, the lists' display
    zone and opening a case in one request: cached on the user object, which lives only as
    long as the request, like the access levels.

    Unless a reseller's links add organizations, they are the organizations of the user's
    memberships, which the tenant scope has read already: no query of their own."""
    cached = getattr(user, "_visible_organizations_cache", None)
    if cached is None:
        if user.is_staff:
            cached = None
        elif not (levels := access_levels(user)):
            cached = []
        else:
            members = _member_organizations(user)
            cached = members if {o.pk for o in members} == set(levels) else None
        if cached is None:
            cached = list(
                organizations_for_user(user)
                .annotate(calendar_time_zone=F("businesscalendar__time_zone"))
                .order_by("name")
            )
        user._visible_organizations_cache = cached
    return cached


def organizations_short_of_designated_contacts(
    organizations: QuerySet[Organization] | None = None, minimum: int = 2
) -> QuerySet[Organization]:
    """Organizations with fewer than ``minimum`` active designated contacts (T-7)."""
    organizations = organizations if organizations is not None else Organization.objects.all()
    return organizations.annotate(
        dc_count=Count(
            "membership",
            filter=Q(
                membership__access_level=AccessLevel.DESIGNATED_CONTACT,
                membership__user__is_active=True,
            ),
        )
    ).filter(dc_count__lt=minimum, is_active=True)


def _instance(model: type[ModelT], values: dict[str, Any]) -> ModelT:
    """A model instance from some of its columns as read from the database; the others are
    deferred (loaded if ever used), as with ``only()``. ``from_db`` takes the values in the
    order of the model's fields."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(router.db_for_read(model), names, [values[n] for n in names])


def business_calendar_for(organization: Organization | int) -> business_time.Calendar:
    """The organization's calendar for deadline arithmetic: holidays snapshot plus closures.

    Without a configured calendar the defaults of B-1 apply in UTC with no holidays.
    """
    # One query: the calendar's row once per closure (a LEFT JOIN; closures are few).
    fields = ("time_zone", "working_days", "opens", "closes", "holiday_snapshot")
    with scopes_disabled():
        rows = list(
            BusinessCalendar.objects.filter(organization=organization).values_list(
                *fields, "closures__day"
            )
        )
    if not rows:
        return business_time.Calendar(tz="UTC")
    calendar = _instance(BusinessCalendar, dict(zip(fields, rows[0], strict=False)))
    closed = calendar.snapshot_holidays() | {row[-1] for row in rows if row[-1] is not None}
    return business_time.Calendar(
        tz=calendar.time_zone,
        working_days=frozenset(calendar.working_days),
        opens=calendar.opens,
        closes=calendar.closes,
        closed_dates=frozenset(closed),
    )


def get_visible_organization_or_404(user: User, slug: str) -> Organization:
    """The organization if the user is a member (directly or through a reseller), else 404."""
    organization = Organization.objects.filter(
        slug=slug, pk__in=visible_organization_ids(user), is_active=True
    ).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization


def display_zone(user: User, organization_id: int | None = None) -> zoneinfo.ZoneInfo:
    """The zone a page shows times in (B-5): the user's own (profile); else the organization's
    calendar zone: the given organization's, or for lists the first of the user's
    organizations (by name) that has a calendar; else UTC."""
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
