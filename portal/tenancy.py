"""Tenant scoping that fails closed.

Every tenant-owned model carries a direct ``organization`` foreign key and uses
``TenantManager`` as its default manager. The manager filters by the organizations of the
active scope and raises ``ScopeError`` when no scope is active, so a forgotten filter is an
error, never a leak. The scope state is django-scopes' (``scope`` / ``scopes_disabled``);
the manager is our own because django-scopes' disabled queryset still lets some methods
(``exists()``, ``explain()``) run unfiltered.

A request enters a scope in ``TenantScopeMiddleware``; staff views, the admin and sweeps
that work across tenants disable it explicitly with ``scopes_disabled()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject
from django_scopes import ScopeError, get_scope, scope, scopes_disabled

__all__ = [
    "ScopeError",
    "TenantManager",
    "TenantModel",
    "TenantScopeMiddleware",
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


class TenantScopeMiddleware:
    """Enters the request's tenant scope: the organizations the user can see (T-6).

    Anonymous users get an empty scope (nothing visible). Staff see every organization
    (T-5); their scope is disabled here, and their views of tenant data are audited by the
    staff workspace.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from accounts.selectors import visible_organization_ids

        user = request.user
        if isinstance(user, SimpleLazyObject):
            # Resolved once here: the views, the layout and the templates read the user
            # hundreds of times per page, and each read through the lazy wrapper costs.
            user.is_authenticated  # noqa: B018 (loads the user)
            user = request.user = user._wrapped
        if user.is_authenticated and user.is_active and user.is_staff:
            request.organization_ids = None
            with scopes_disabled():
                return self.get_response(request)
        organization_ids = visible_organization_ids(user) if user.is_authenticated else ()
        request.organization_ids = organization_ids
        with tenant_scope(organization_ids):
            return self.get_response(request)
