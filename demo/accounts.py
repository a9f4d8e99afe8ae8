"""Demo organizations, people and calendars: what `seed_demo` creates (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.auth.models import Group
from django.db import transaction

from accounts import roles
from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    Deployment,
    EmailDomain,
    Membership,
    Organization,
    ResellerLink,
    SupportLevel,
    User,
)
from accounts.services import calendar_snapshot_holidays, snapshot_years
from core.tenancy import scopes_disabled


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    kind: str
    support_level: str
    time_zone: str
    country: str
    subdivision: str
    deployments: tuple[tuple[str, str], ...]
    people: tuple[tuple[str, str], ...]  # (local part of the email, access level)


CUSTOMER_PEOPLE = (
    ("dc1", AccessLevel.DESIGNATED_CONTACT),
    ("dc2", AccessLevel.DESIGNATED_CONTACT),
    ("ro", AccessLevel.READ_ONLY),
    ("basic", AccessLevel.BASIC),
)

DEMO_ORGS = (
    DemoOrg(
        "acme",
        "Acme Corporation",
        Organization.Kind.CUSTOMER,
        SupportLevel.BUSINESS_CARE,
        "America/New_York",
        "US",
        "",
        (("ACME-PRD", "Acme Production"), ("ACME-UAT", "Acme Test Lab")),
        CUSTOMER_PEOPLE,
    ),
    DemoOrg(
        "globex",
        "Globex GmbH",
        Organization.Kind.CUSTOMER,
        SupportLevel.BUSINESS_CARE,
        "Europe/Berlin",
        "DE",
        "BY",
        (("GLX-MUC", "Globex Munich Contact Center"), ("GLX-UAT", "Globex Staging")),
        CUSTOMER_PEOPLE,
    ),
    DemoOrg(
        "northwind",
        "Northwind Partners",
        Organization.Kind.RESELLER,
        SupportLevel.BUSINESS_CARE_PLUS,
        "America/Chicago",
        "US",
        "",
        (("NW-OPS", "Northwind Operations"),),
        (("dc1", AccessLevel.DESIGNATED_CONTACT),),
    ),
    DemoOrg(
        "initech",
        "Initech",
        Organization.Kind.CUSTOMER,
        SupportLevel.BUSINESS_CARE,
        "America/Chicago",
        "US",
        "TX",
        (("INI-PRD", "Initech Production"),),
        CUSTOMER_PEOPLE,
    ),
)

RESELLER_LINKS = (("northwind", "initech"),)

STAFF = (
    ("analyst@care.example", "Alex Analyst", roles.CARE_ANALYST),
    ("manager@care.example", "Morgan Manager", roles.CARE_MANAGER),
    ("pm@care.example", "Pat Product", roles.PRODUCT_MANAGER),
)


# Realistic names so screens read like a real portal; one set per organization.
PERSON_NAMES = {
    "acme": {"dc1": "Alice Carter", "dc2": "Brian Diaz", "ro": "Rita Owens", "basic": "Ben Adler"},
    "globex": {
        "dc1": "Greta Vogel",
        "dc2": "Lukas Brandt",
        "ro": "Anna Roth",
        "basic": "Jonas Weber",
    },
    "northwind": {"dc1": "Nora West"},
    "initech": {
        "dc1": "Peter Gibbons",
        "dc2": "Joanna Cole",
        "ro": "Samir Nayar",
        "basic": "Milton Waddams",
    },
}


def _person_name(org: DemoOrg, local: str) -> str:
    return PERSON_NAMES.get(org.slug, {}).get(local) or f"{org.name} {local}"


def _ensure_user(email: str, display_name: str, password: str, *, staff: bool) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, display_name=display_name, is_staff=staff)
        user.set_password(password)
        user.save()
    return user


@transaction.atomic
def seed_people_and_organizations(*, password: str, now: datetime) -> dict[str, int]:
    """Creates what is missing; running it again changes nothing."""
    created = {"organizations": 0, "users": 0}
    with scopes_disabled():
        orgs: dict[str, Organization] = {}
        for spec in DEMO_ORGS:
            org, was_created = Organization.objects.get_or_create(
                slug=spec.slug,
                defaults={
                    "name": spec.name,
                    "kind": spec.kind,
                    "support_level": spec.support_level,
                    "distribution_list": f"it-ops@{spec.slug}.example",
                },
            )
            created["organizations"] += was_created
            orgs[spec.slug] = org
            EmailDomain.objects.get_or_create(
                domain=f"{spec.slug}.example", defaults={"organization": org, "verified_at": now}
            )
            for code, name in spec.deployments:
                Deployment.objects.get_or_create(
                    organization=org, code=code, defaults={"name": name}
                )
            calendar, _ = BusinessCalendar.objects.get_or_create(
                organization=org,
                defaults={
                    "time_zone": spec.time_zone,
                    "working_days": [0, 1, 2, 3, 4],
                    "opens": time(9),
                    "closes": time(17),
                    "holiday_country": spec.country,
                    "holiday_subdivision": spec.subdivision,
                },
            )
            calendar_snapshot_holidays(calendar=calendar, years=snapshot_years(now))
            for local, level in spec.people:
                email = f"{local}@{spec.slug}.example"
                existed = User.objects.filter(email__iexact=email).exists()
                user = _ensure_user(email, _person_name(spec, local), password, staff=False)
                created["users"] += not existed
                Membership.objects.get_or_create(
                    user=user, organization=org, defaults={"access_level": level}
                )
        for reseller, end_user in RESELLER_LINKS:
            ResellerLink.objects.get_or_create(reseller=orgs[reseller], end_user=orgs[end_user])
        for email, name, role in STAFF:
            existed = User.objects.filter(email__iexact=email).exists()
            user = _ensure_user(email, name, password, staff=True)
            created["users"] += not existed
            user.groups.add(Group.objects.get(name=role))
    return created


DEMO_LOGINS = (
    ("dc1@acme.example", "designated contact of Acme"),
    ("ro@acme.example", "read-only user of Acme"),
    ("basic@acme.example", "basic user of Acme"),
    ("dc1@globex.example", "designated contact of Globex"),
    ("dc1@northwind.example", "reseller partner, manages Initech"),
    ("analyst@care.example", "care analyst"),
    ("manager@care.example", "care manager"),
    ("pm@care.example", "product manager"),
)
