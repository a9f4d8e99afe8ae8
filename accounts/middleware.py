"""The request's tenant scope (T-5, T-6), entered once for the portal and the API alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.http import HttpRequest, HttpResponse

from accounts.selectors import visible_organization_ids
from core.tenancy import scopes_disabled, tenant_scope


@contextmanager
def enter_scope_for(user) -> Iterator[tuple[int, ...] | None]:
    """Run the block in the scope this user may see, and give its organizations.

    Staff see every organization (T-5): their scope is disabled and ``None`` is given; what
    they look at is recorded by the care workspace. Customers get the organizations they
    can see (T-6); anonymous callers an empty scope, in which nothing is visible.
    """
    if user.is_authenticated and user.is_active and user.is_staff:
        with scopes_disabled():
            yield None
        return
    organization_ids = visible_organization_ids(user) if user.is_authenticated else ()
    with tenant_scope(organization_ids):
        yield organization_ids


class TenantScopeMiddleware:
    """Enters the signed-in user's tenant scope for the whole request and records its
    organizations on ``request.organization_ids`` (``None`` for staff)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with enter_scope_for(request.user) as organization_ids:
            request.organization_ids = organization_ids
            return self.get_response(request)
