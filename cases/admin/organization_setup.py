"""The set-up rows of an organization's page in the care workspace: deployments (T-2),
email domains (T-9) and reseller partner links (T-8).

The inline forms check the input; the rows are saved through ``accounts.services`` (like the
members, ``accounts.admin.save_memberships``), so each added, changed or removed row is
checked against the actor's role and leaves a row in the organization's history.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Deployment, EmailDomain, ResellerLink
from accounts.services import (
    deployment_add,
    deployment_removal_refused,
    deployment_remove,
    deployment_update,
    email_domain_add,
    email_domain_remove,
    email_domain_update,
    reseller_link_add,
    reseller_link_remove,
)
from accounts.services.setup import DEPLOYMENT_FIELDS, EMAIL_DOMAIN_FIELDS


class DeploymentFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        # A deployment that cases name is made inactive, not removed (T-2). Checked before
        # Django's own check, which would list every one of its cases.
        refusals = [
            refusal
            for form in self.forms
            if self.can_delete
            and getattr(form, "cleaned_data", {}).get(DELETION_FIELD_NAME)
            and form.instance.pk is not None
            and (refusal := deployment_removal_refused(form.instance))
        ]
        if refusals:
            raise ValidationError(refusals)
        super().clean()


class DeploymentInline(admin.TabularInline):
    model = Deployment
    formset = DeploymentFormSet
    extra = 0
    fields = ["code", "name", "is_active"]
    verbose_name_plural = "deployments (Account/Depl, T-2)"


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 0
    fields = ["domain", "verified_at"]
    verbose_name_plural = "email domains (T-9)"


class EndUserLinkInline(admin.TabularInline):
    """On a reseller partner: the end-user organizations it manages cases for (T-8)."""

    model = ResellerLink
    fk_name = "reseller"
    extra = 0
    autocomplete_fields = ["end_user"]
    fields = ["end_user", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "end-user organization"
    verbose_name_plural = "end-user organizations (T-8)"


class ResellerPartnerInline(admin.TabularInline):
    """On a customer: the reseller partners that manage its cases (T-8)."""

    model = ResellerLink
    fk_name = "end_user"
    extra = 0
    autocomplete_fields = ["reseller"]
    fields = ["reseller", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name = "reseller partner"
    verbose_name_plural = "reseller partners (T-8)"


def save_deployments(request: HttpRequest, formset: BaseInlineFormSet) -> None:
    """Save a deployment inline's rows through the deployment services (T-2)."""
    now = timezone.now()
    actor = request.user
    formset.save(commit=False)  # lists what changed (the change message reads it); saves nothing
    # Removals first, so a code given up by one row may be taken by a new one.
    for deployment in formset.deleted_objects:
        deployment_remove(deployment=deployment, actor=actor, now=now)
    for deployment, fields in formset.changed_objects:
        changes = {f: getattr(deployment, f) for f in fields if f in DEPLOYMENT_FIELDS}
        deployment_update(deployment=deployment, actor=actor, changes=changes, now=now)
    for deployment in formset.new_objects:
        deployment_add(
            organization=deployment.organization,
            code=deployment.code,
            name=deployment.name,
            is_active=deployment.is_active,
            actor=actor,
            now=now,
        )


def save_email_domains(request: HttpRequest, formset: BaseInlineFormSet) -> None:
    """Save an email domain inline's rows through the email domain services (T-9)."""
    now = timezone.now()
    actor = request.user
    formset.save(commit=False)
    for email_domain in formset.deleted_objects:
        email_domain_remove(email_domain=email_domain, actor=actor, now=now)
    for email_domain, fields in formset.changed_objects:
        changes = {f: getattr(email_domain, f) for f in fields if f in EMAIL_DOMAIN_FIELDS}
        email_domain_update(email_domain=email_domain, actor=actor, changes=changes, now=now)
    for email_domain in formset.new_objects:
        email_domain_add(
            organization=email_domain.organization,
            domain=email_domain.domain,
            verified_at=email_domain.verified_at,
            actor=actor,
            now=now,
        )


def save_reseller_links(request: HttpRequest, formset: BaseInlineFormSet) -> None:
    """Save a reseller link inline's rows through the reseller link services (T-8). A row
    that now names another organization ends the old link and starts the new one."""
    now = timezone.now()
    actor = request.user
    formset.save(commit=False)
    for link in formset.deleted_objects:
        reseller_link_remove(link=link, actor=actor, now=now)
    for link, fields in formset.changed_objects:
        if {"reseller", "end_user"} & set(fields):
            reseller_link_remove(link=link, actor=actor, now=now)
            reseller_link_add(reseller=link.reseller, end_user=link.end_user, actor=actor, now=now)
    for link in formset.new_objects:
        reseller_link_add(reseller=link.reseller, end_user=link.end_user, actor=actor, now=now)


# Which inline rows each saver handles, for the organization page's save_formset.
SETUP_SAVERS = {
    Deployment: save_deployments,
    EmailDomain: save_email_domains,
    ResellerLink: save_reseller_links,
}
