"""Tenant scoping that fails closed.

Every tenant-owned model carries a direct ``organization`` foreign key and uses
``TenantManager`` as its default manager. The manager filters by the organizations of the
active scope and raises ``ScopeError`` when no scope is active, so a forgotten filter is an
error, never a leak. The scope state is django-scopes' (``scope`` / ``scopes_disabled``);
the manager is our own because django-scopes' disabled queryset still lets some methods
(``exists()``, ``explain()``) run unfiltered.

A request enters its user's scope in ``accounts.middleware`` (the API's base views do the
same after DRF has authenticated, through the ``TENANT_SCOPE_FOR_USER`` setting, so this
floor never imports the accounts app); staff views, the admin and sweeps that work across
tenants disable it explicitly with ``scopes_disabled()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import models
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

__all__ = [
    "ScopeError",
    "TenantManager",
    "TenantModel",
    "scopes_disabled",
    "tenant_scope",
]

DIMENSION = "organization"


@contextmanager
def tenant_scope(organization_ids: Iterable[int]) -> Iterator[None]:
    """Run the block with queries limited to these organizations (empty: nothing visible)."""
    with scope(**{DIMENSION: tuple(sorted(set(organization_ids)))}):
        yield


def current_scope_organization_ids() -> tuple[int, ...] | None:
    """The organizations of the active scope; None when scoping is disabled."""
    state = get_scope()
    if not state.get("_enabled", True):
        return None
    if DIMENSION not in state:
        raise ScopeError("No tenant scope is active.")
    return state[DIMENSION]


class TenantManager(models.Manager):
    """Default manager of tenant-owned models: scoped, and raising outside any scope."""

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        state = get_scope()
        if not state.get("_enabled", True):
            return queryset
        organization_ids = state.get(DIMENSION)
        if not isinstance(organization_ids, tuple):
            raise ScopeError(
                f"No tenant scope is active: a query of {self.model.__name__} must run inside "
                "tenant_scope() or, for staff and sweeps, scopes_disabled()."
            )
        return queryset.filter(organization_id__in=organization_ids)


class TenantModel(models.Model):
    """Base of every tenant-owned model (T-1)."""

    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        related_query_name="%(class)s",
    )

    objects = TenantManager()
    unscoped = models.Manager()  # noqa: DJ012  (plain manager for code that disabled scoping)

    class Meta:
        abstract = True
