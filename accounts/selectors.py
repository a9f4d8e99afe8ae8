"""Reads about people and tenants. Visibility is decided here (T-4 … T-8)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import AccessLevel, BusinessCalendar, Membership, Organization, User
from portal import business_time
from portal.tenancy import scopes_disabled

_LEVEL_RANK = {level: rank for rank, level in enumerate(AccessLevel.values)}


def _memberships(user: User) -> list[tuple[int, str, str]]:
    """(organization id, kind, access level) for each membership; cached on the user."""
    cached = getattr(user, "_membership_cache", None)
    if cached is None:
        with scopes_disabled():
            cached = list(
                Membership.objects.filter(user=user, organization__is_active=True).values_list(
                    "organization_id", "organization__kind", "access_level"
                )
            )
        user._membership_cache = cached
    return cached


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
    """A customer's organizations by name (name, slug and creation time loaded), for the
    layout and the list filters of one request: cached on the user object, which lives only
    as long as the request, like the access levels."""
    cached = getattr(user, "_visible_organizations_cache", None)
    if cached is None:
        cached = list(
            organizations_for_user(user).only("name", "slug", "created_at").order_by("name")
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


def business_calendar_for(organization: Organization) -> business_time.Calendar:
    """The organization's calendar for deadline arithmetic: holidays snapshot plus closures.

    Without a configured calendar the defaults of B-1 apply in UTC with no holidays.
    """
    with scopes_disabled():
        calendar = (
            BusinessCalendar.objects.filter(organization=organization)
            .prefetch_related("closures")
            .first()
        )
    if calendar is None:
        return business_time.Calendar(tz="UTC")
    closed = calendar.snapshot_holidays() | {c.day for c in calendar.closures.all()}
    return business_time.Calendar(
        tz=calendar.time_zone,
        working_days=frozenset(calendar.working_days),
        opens=calendar.opens,
        closes=calendar.closes,
        closed_dates=frozenset(closed),
    )


def get_visible_organization_or_404(user: User, slug: str) -> Organization:
    """The organization if the user is a member (directly or through a reseller), else 404."""
    from django.http import Http404

    organization = Organization.objects.filter(
        slug=slug, pk__in=visible_organization_ids(user), is_active=True
    ).first()
    if organization is None:
        raise Http404("No such organization.")
    return organization
