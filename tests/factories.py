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
