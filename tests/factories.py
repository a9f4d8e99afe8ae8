"""factory-boy factories. They write through the plain manager: tests build tenants' data
outside any request scope, the way seeding and sweeps do."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import (
    AccessLevel,
    BusinessCalendar,
    Deployment,
    Membership,
    Organization,
    ResellerLink,
    User,
)

DEFAULT_PASSWORD = "correct-horse-battery"


class UnscopedFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class):
        return model_class._base_manager


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class DeploymentFactory(UnscopedFactory):
    class Meta:
        model = Deployment

    organization = factory.SubFactory(OrganizationFactory)
    code = factory.Sequence(lambda n: f"DEP-{n}")
    name = factory.Sequence(lambda n: f"Deployment {n}")


class MembershipFactory(UnscopedFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    access_level = AccessLevel.DESIGNATED_CONTACT


class ResellerLinkFactory(DjangoModelFactory):
    class Meta:
        model = ResellerLink

    reseller = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.RESELLER)
    end_user = factory.SubFactory(OrganizationFactory)


class BusinessCalendarFactory(UnscopedFactory):
    class Meta:
        model = BusinessCalendar

    organization = factory.SubFactory(OrganizationFactory)
    time_zone = "Europe/Berlin"
    working_days = factory.LazyFunction(lambda: [0, 1, 2, 3, 4])
    holiday_country = "DE"
    holiday_subdivision = "BY"


def member_of(organization: Organization, access_level: str, email: str) -> User:
    """A new user with the given access level in the organization."""
    user = UserFactory(email=email)
    MembershipFactory(user=user, organization=organization, access_level=access_level)
    return user


# --- cases -------------------------------------------------------------------------------


def _first_deployment(case) -> Deployment:
    from core.tenancy import scopes_disabled

    with scopes_disabled():
        deployment = Deployment.objects.filter(organization=case.organization).first()
    return deployment or DeploymentFactory(organization=case.organization)


def _service(slug: str = "routing"):
    from cases.models import CloudService, ProductGroup

    # Seeded by a migration; a transactional test's flush removes the seed, so recreate it.
    service = CloudService.objects.filter(slug=slug).first()
    if service is None:
        group, _ = ProductGroup.objects.get_or_create(
            slug="routing-self-service", defaults={"name": "Routing and Self-Service"}
        )
        service = CloudService.objects.create(
            slug=slug, name=slug.replace("-", " ").title(), product_group=group, checklist="-"
        )
    return service


def _next_number() -> int:
    from cases.numbering import next_case_number

    return next_case_number()


def _status_of(case) -> str:
    from cases.models import STATUS_OF

    return STATUS_OF[case.sub_status]


def _now():
    from django.utils import timezone

    return timezone.now()


def _closed_at(case):
    from cases.models import CLOSED_SUB_STATUSES

    return case.modified_at if case.sub_status in CLOSED_SUB_STATUSES else None


class CaseFactory(UnscopedFactory):
    """A valid Support/Problem case written straight to the table (no service, no history,
    no email). Pass ``sub_status=`` to start in any state; status and closed_at follow."""

    class Meta:
        model = "cases.Case"

    organization = factory.SubFactory(OrganizationFactory)
    number = factory.LazyFunction(_next_number)
    deployment = factory.LazyAttribute(_first_deployment)
    service = factory.LazyFunction(_service)
    product_group = factory.LazyAttribute(lambda o: o.service.product_group if o.service else None)
    type = "support"
    sub_type = "problem"
    implementation_stage = "production"
    subject = factory.Sequence(lambda n: f"Calls drop after transfer #{n}")
    description = "Calls drop after a blind transfer to the billing queue."
    priority = "medium"
    business_impact = "Agents have to call customers back."
    contact = factory.SubFactory(UserFactory)
    sub_status = "new"
    status = factory.LazyAttribute(_status_of)
    opened_at = factory.LazyFunction(_now)
    modified_at = factory.LazyAttribute(lambda o: o.opened_at)
    closed_at = factory.LazyAttribute(_closed_at)


def case_input(organization: Organization, **overrides):
    """A valid ``CaseInput`` for a Support/Problem case; override any field."""
    from cases.services import CaseInput
    from core.tenancy import scopes_disabled

    if "deployment_id" not in overrides:
        with scopes_disabled():
            overrides["deployment_id"] = (
                Deployment.objects.filter(organization=organization, is_active=True)
                .values_list("pk", flat=True)
                .first()
            )
    if "service_slug" not in overrides:
        overrides["service_slug"] = _service().slug
    fields = {
        "organization": organization,
        "type": "support",
        "sub_type": "problem",
        "implementation_stage": "production",
        "subject": "Calls drop after transfer",
        "description": "Calls drop after a blind transfer to the billing queue.",
        "priority": "medium",
        "business_impact": "Agents have to call customers back.",
        **overrides,
    }
    return CaseInput(**fields)


def open_case(actor: User, organization: Organization, **overrides):
    """Open a case through ``cases.services.case_open`` as the portal does: inside the
    actor's tenant scope. ``now``, ``channel`` and ``uploads`` go to the service; every
    other keyword overrides a ``CaseInput`` field."""
    from django.utils import timezone

    from accounts.selectors import visible_organization_ids
    from cases.services import case_open
    from core.tenancy import tenant_scope

    service_kwargs = {
        key: overrides.pop(key) for key in ("now", "channel", "uploads") if key in overrides
    }
    service_kwargs.setdefault("now", timezone.now())
    data = case_input(organization, **overrides)
    with tenant_scope(visible_organization_ids(actor)):
        return case_open(actor=actor, data=data, **service_kwargs)
