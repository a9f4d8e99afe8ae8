"""Pieces every page of the care workspace shares.

- ``CareAdminMixin``: a model admin whose views run with tenant scoping disabled (staff see
  every organization, T-5; the middleware already does this for staff requests, and the
  admin must not depend on it), and that records each staff look at tenant data.
- ``CheapCountPaginator``: lists of tables with millions of rows must not run a full
  ``COUNT(*)`` on every page view.
"""

from __future__ import annotations

import functools

from django.core.paginator import Paginator
from django.db import connections
from django.urls import URLPattern
from django.utils.functional import cached_property

from core.audit.services import audit_staff_access
from core.tenancy import scopes_disabled


class CheapCountPaginator(Paginator):
    """A paginator whose ``count`` never scans a whole big table.

    - Unfiltered on PostgreSQL: the planner's row estimate (``pg_class.reltuples``, kept
      current by autovacuum/ANALYZE) when it is above ``cap``. A work queue of a million
      cases does not need an exact total, and the estimate costs one catalog lookup.
    - Otherwise (filtered, small, another database, or never analysed): an exact count
      capped at ``cap + 1`` rows, so a broad filter stops counting after 1,001 rows. The
      list then says "more than 1,000" and offers 21 pages; a queue that long is narrowed
      with filters, the search or another sort order, not paged through. (With 1,000,000
      cases a cap of 10,000 made broad filtered queues three times slower for nothing an
      analyst reads: bench/admin_list.py.)

    ``is_estimate`` and ``is_capped`` tell the template how to word the total.
    """

    cap = 1_000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.is_estimate = False
        self.is_capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:  # a plain list
            return len(queryset)
        if not query.where:
            estimate = self._estimated_rows(queryset)
            if estimate is not None and estimate > self.cap:
                self.is_estimate = True
                return estimate
        counted, self.is_capped = capped_count(queryset, self.cap)
        return counted

    @staticmethod
    def _estimated_rows(queryset) -> int | None:
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1: never vacuumed or analysed, so no estimate yet.
        return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def capped_count(queryset, cap: int) -> tuple[int, bool]:
    """The number of rows, counting at most ``cap + 1``; and whether it went over ``cap``."""
    counted = queryset.order_by()[: cap + 1].count()
    return counted, counted > cap


def unscoped(view):
    """Run an admin view, template rendering included, with tenant scoping disabled."""

    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        with scopes_disabled():
            response = view(request, *args, **kwargs)
            # A TemplateResponse renders later, outside this block, and its template
            # evaluates querysets (inline formsets): render it here.
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response = response.render()
        return response

    return inner


class CareAdminMixin:
    """Model admin of tenant data for the care workspace (T-5).

    ``audit_label``: set to record list views of the model (``None``: lists are not
    recorded, e.g. global catalogues). ``audit_objects``: record each object page viewed.
    """

    audit_label: str | None = None
    audit_objects = False

    def extra_urls(self) -> list:
        """The model's own pages beyond Django's (placed before them, so they win)."""
        return []

    def get_urls(self) -> list:
        patterns = [*self.extra_urls(), *super().get_urls()]
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = unscoped(pattern.callback)
        return patterns

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.audit_label and response.status_code == 200:
            audit_staff_access(request, self.audit_label)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if self.audit_objects and obj is not None:
            audit_staff_access(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)
