"""Care's changes to an organization's set-up beyond its members: its deployments (T-2), its
email domains (T-9) and its links with reseller partners (T-8).

Each service checks the actor's permission, the model's own checks, locks the row it changes
and writes one ``OrganizationChange`` row per organization concerned in the same
transaction. A reseller link concerns two organizations, so it is written to the history of
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from django.db import models, transaction

from accounts.models import (
    Deployment,
    EmailDomain,
    Organization,
    OrganizationChange,
    ResellerLink,
    User,
)
from accounts.services.history import organization_change_record, require_permission, validated
from core.errors import InvalidInput, NotFound

# What care edits on a deployment and on an email domain.
DEPLOYMENT_FIELDS = ("code", "name", "is_active")
EMAIL_DOMAIN_FIELDS = ("domain", "verified_at")
DEPLOYMENT = OrganizationChange.Kind.DEPLOYMENT
EMAIL_DOMAIN = OrganizationChange.Kind.EMAIL_DOMAIN


ModelT = TypeVar("ModelT", bound=models.Model)


# --- what adding, changing and removing a set-up row share ----------------------------------
# A deployment and an email domain are both rows of one organization that care adds, edits
# and removes, each change with one history row of its kind.


def _snapshot(row: models.Model, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(row, f) for f in fields}


def _locked(row: ModelT, missing: str) -> ModelT:
    model = type(row)
    try:
        return model._base_manager.select_for_update().get(pk=row.pk)
    except model.DoesNotExist as exc:
        raise NotFound(missing) from exc


def _insert(
    row: ModelT, *, kind: str, fields: tuple[str, ...], actor: User, now: datetime
) -> ModelT:
    validated(row)
    row.save(force_insert=True)
    organization_change_record(
        organization_id=row.organization_id,
        actor=actor,
        kind=kind,
        now=now,
        after=_snapshot(row, fields),
    )
    return row


def _update(
    row: models.Model,
    *,
    changes: Mapping[str, Any],
    fields: tuple[str, ...],
    key: str,
    kind: str,
    what: str,
    actor: User,
    now: datetime,
) -> OrganizationChange | None:
    """Apply the changes that differ to the locked ``row``, save them and record them, the
    history's before and after both naming the row by ``key`` (its code, its domain); None
    when nothing differs."""
    unknown = sorted(set(changes) - set(fields))
    if unknown:
        raise InvalidInput(f"Not a detail of {what}: {', '.join(unknown)}.")
    before = {f: getattr(row, f) for f, v in changes.items() if getattr(row, f) != v}
    if not before:
        return None
    named_before = {key: getattr(row, key), **before}
    for field in before:
        setattr(row, field, changes[field])
    validated(row)
    row.save(update_fields=sorted(before))
    return organization_change_record(
        organization_id=row.organization_id,
        actor=actor,
        kind=kind,
        now=now,
        before=named_before,
        after={key: getattr(row, key), **{f: changes[f] for f in before}},
    )


def _delete(
    row: models.Model, *, kind: str, fields: tuple[str, ...], actor: User, now: datetime
) -> OrganizationChange:
    before = _snapshot(row, fields)
    row.delete()
    return organization_change_record(
        organization_id=row.organization_id, actor=actor, kind=kind, now=now, before=before
    )


# --- deployments (T-2) ----------------------------------------------------------------------


def deployment_removal_refused(deployment: Deployment) -> str | None:
    """Why the deployment cannot be removed, or None.

    Cases name their deployment and keep it (T-2): a deployment in use is made inactive, not
    removed. The rows that keep it belong to higher layers, so they are found through the
    model's relations rather than imported."""
    for relation in Deployment._meta.get_fields():
        if not (relation.auto_created and not relation.concrete and relation.one_to_many):
            continue
        if relation.on_delete is not models.PROTECT:
            continue
        rows = relation.related_model._base_manager.filter(**{relation.field.name: deployment.pk})
        if rows.exists():
            plural = relation.related_model._meta.verbose_name_plural
            return f"Deployment {deployment.code} has {plural}: make it inactive instead."
    return None


@transaction.atomic
def deployment_add(
    *,
    organization: Organization,
    code: str,
    name: str,
    is_active: bool = True,
    actor: User,
    now: datetime,
) -> Deployment:
    """Add a deployment (an account/deployment code) to the organization (T-2)."""
    require_permission(actor, "accounts.add_deployment")
    deployment = Deployment(organization=organization, code=code, name=name, is_active=is_active)
    return _insert(deployment, kind=DEPLOYMENT, fields=DEPLOYMENT_FIELDS, actor=actor, now=now)


@transaction.atomic
def deployment_update(
    *, deployment: Deployment, actor: User, changes: Mapping[str, Any], now: datetime
) -> OrganizationChange | None:
    """Change a deployment's code, name or whether customers may still open cases on it
    (T-2); returns the history row, or None if nothing changed."""
    require_permission(actor, "accounts.change_deployment")
    return _update(
        _locked(deployment, "No such deployment."),
        changes=changes,
        fields=DEPLOYMENT_FIELDS,
        key="code",
        kind=DEPLOYMENT,
        what="a deployment",
        actor=actor,
        now=now,
    )


@transaction.atomic
def deployment_remove(*, deployment: Deployment, actor: User, now: datetime) -> OrganizationChange:
    """Remove a deployment no case names (T-2); one that cases name is made inactive instead.

    The deployment stays locked from the check to the removal. A case being opened on it at
    that moment is not visible to the check; the database refuses that case when it commits
    (its foreign key), so no case ever names a removed deployment."""
    require_permission(actor, "accounts.delete_deployment")
    deployment = _locked(deployment, "No such deployment.")
    refusal = deployment_removal_refused(deployment)
    if refusal:
        raise InvalidInput(refusal)
    return _delete(deployment, kind=DEPLOYMENT, fields=DEPLOYMENT_FIELDS, actor=actor, now=now)


# --- email domains (T-9) --------------------------------------------------------------------


@transaction.atomic
def email_domain_add(
    *,
    organization: Organization,
    domain: str,
    verified_at: datetime | None = None,
    actor: User,
    now: datetime,
) -> EmailDomain:
    """Add a corporate email domain that identifies the organization (T-9). A domain
    belongs to one organization only."""
    require_permission(actor, "accounts.add_emaildomain")
    email_domain = EmailDomain(organization=organization, domain=domain, verified_at=verified_at)
    return _insert(
        email_domain, kind=EMAIL_DOMAIN, fields=EMAIL_DOMAIN_FIELDS, actor=actor, now=now
    )


@transaction.atomic
def email_domain_update(
    *, email_domain: EmailDomain, actor: User, changes: Mapping[str, Any], now: datetime
) -> OrganizationChange | None:
    """Change an email domain or when it was verified (T-9); returns the history row, or
    None if nothing changed."""
    require_permission(actor, "accounts.change_emaildomain")
    return _update(
        _locked(email_domain, "No such email domain."),
        changes=changes,
        fields=EMAIL_DOMAIN_FIELDS,
        key="domain",
        kind=EMAIL_DOMAIN,
        what="an email domain",
        actor=actor,
        now=now,
    )


@transaction.atomic
def email_domain_remove(
    *, email_domain: EmailDomain, actor: User, now: datetime
) -> OrganizationChange:
    """The domain no longer identifies the organization (T-9)."""
    require_permission(actor, "accounts.delete_emaildomain")
    return _delete(
        _locked(email_domain, "No such email domain."),
        kind=EMAIL_DOMAIN,
        fields=EMAIL_DOMAIN_FIELDS,
        actor=actor,
        now=now,
    )


# --- reseller partner links (T-8) -----------------------------------------------------------


def _link(link: ResellerLink) -> dict[str, Any]:
    # The names as they were, so the history reads without looking the organizations up.
    return {
        "reseller": link.reseller_id,
        "reseller_name": link.reseller.name,
        "end_user": link.end_user_id,
        "end_user_name": link.end_user.name,
    }


def _record_link(
    link: ResellerLink,
    *,
    actor: User,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> list[OrganizationChange]:
    """One history row for each of the two organizations the link joins."""
    return [
        organization_change_record(
            organization_id=organization_id,
            actor=actor,
            kind=OrganizationChange.Kind.RESELLER_LINK,
            now=now,
            before=before,
            after=after,
        )
        for organization_id in (link.reseller_id, link.end_user_id)
    ]


@transaction.atomic
def reseller_link_add(
    *, reseller: Organization, end_user: Organization, actor: User, now: datetime
) -> ResellerLink:
    """Let a reseller partner manage the cases of a customer organization (T-8)."""
    require_permission(actor, "accounts.add_resellerlink")
    if reseller.pk == end_user.pk:
        message = "An organization cannot be its own end user."
        raise InvalidInput(message, {"end_user": [message]})
    link = ResellerLink(reseller=reseller, end_user=end_user, created_at=now)
    validated(link)
    link.save(force_insert=True)
    _record_link(link, actor=actor, now=now, after=_link(link))
    return link


@transaction.atomic
def reseller_link_remove(
    *, link: ResellerLink, actor: User, now: datetime
) -> list[OrganizationChange]:
    """The reseller partner no longer manages the customer's cases (T-8); returns the
    history rows of both organizations."""
    require_permission(actor, "accounts.delete_resellerlink")
    try:
        link = (
            ResellerLink.objects.select_for_update(of=("self",))
            .select_related("reseller", "end_user")
            .get(pk=link.pk)
        )
    except ResellerLink.DoesNotExist as exc:
        raise NotFound("No such reseller partner link.") from exc
    before = _link(link)
    link.delete()
    return _record_link(link, actor=actor, now=now, before=before)
