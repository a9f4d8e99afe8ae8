"""Case search (C-14): a case number, or keywords over subject, description and public
updates. PostgreSQL keeps a tsvector per case (GIN-indexed) that services extend as public
text is added; other databases fall back to a plain substring search.

A customer searches only their organizations' cases. In a GIN index on the document the
entries of a common word list the cases of every tenant, and reading them all costs
milliseconds on a million cases. Migration 0013 indexes each case's words prefixed with its
organization ("42/trunk"), so a search inside a tenant scope reads only that scope's
entries: the query names ``case_tenant_document(organization_id::integer, search_vector)``
exactly as the index does, and matches it against ``case_tenant_query(organization, query)``
for each organization of the scope. That prefixed query finds a superset (phrases become
"all of these words", negations match anything), and the original condition on the stored
document stays, so the results are exactly the keywords'. Care's searches across every
tenant use the (organization, document) index of migration 0005, which also answers
conditions on the document alone."""

from __future__ import annotations

import re

from django.contrib.postgres.search import (
    SearchQuery,
    SearchQueryField,
    SearchVector,
    SearchVectorField,
)
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast, Coalesce

from cases.models import Case, CaseUpdate
from core.tenancy import ScopeError, current_scope_organization_ids

CONFIG = "english"
MAX_INDEXED_CHARS = 200_000  # a tsvector holds at most 1 MB; long logs add nothing useful
NUMBER_RE = re.compile(r"^\s*#?\s*(\d{1,12})\s*$")
# Above this many organizations in the scope the prefixed query grows long enough that
# reading the plain index costs less (only a reseller partner's members see that many).
MAX_SCOPED_ORGANIZATIONS = 20


def search_document_append(*, case_id: int, text: str) -> None:
    """Add public text to the case's search document (PostgreSQL only)."""
    if connection.vendor != "postgresql" or not text:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET search_vector = "
            "coalesce(search_vector, ''::tsvector) || to_tsvector(%s::regconfig, %s) "
            "WHERE id = %s",
            [CONFIG, text[:MAX_INDEXED_CHARS], case_id],
        )


def search_document_extended(text: str) -> CombinedExpression | None:
    """The case's search document with ``text`` added, for the case's own UPDATE (one
    statement fewer than appending apart); None where there is no full-text index."""
    if connection.vendor != "postgresql" or not text:
        return None
    stored = Coalesce(F("search_vector"), Cast(Value(""), SearchVectorField()))
    added = SearchVector(Value(text[:MAX_INDEXED_CHARS]), config=CONFIG)
    return CombinedExpression(stored, "||", added, output_field=SearchVectorField())


def search_document(text: str) -> SearchVector | None:
    """The search document of a new case's text, to write in its INSERT (one statement
    fewer than appending afterwards); None where there is no full-text index."""
    if connection.vendor != "postgresql" or not text:
        return None
    return SearchVector(Value(text[:MAX_INDEXED_CHARS]), config=CONFIG)


def parse_case_number(query: str) -> int | None:
    match = NUMBER_RE.match(query or "")
    return int(match.group(1)) if match else None


def search_cases(queryset: QuerySet[Case], query: str) -> QuerySet[Case]:
    """Narrow an already visibility-filtered queryset by a number or keywords."""
    query = (query or "").strip()[:200]
    if not query:
        return queryset
    number = parse_case_number(query)
    if number is not None:
        return queryset.filter(number=number)
    if connection.vendor == "postgresql":
        keywords = SearchQuery(query, config=CONFIG, search_type="websearch")
        return _within_scope(queryset.filter(search_vector=keywords), keywords)
    words = query.split()
    condition = Q()
    for word in words[:8]:
        in_updates = CaseUpdate.objects.filter(
            case=OuterRef("pk"), is_internal=False, body__icontains=word
        )
        condition &= (
            Q(subject__icontains=word) | Q(description__icontains=word) | Exists(in_updates)
        )
    return queryset.filter(condition)


class TenantDocument(Func):
    """The case's words prefixed with its organization, as ``case_tenant_search_gin``
    indexes them."""

    function = "case_tenant_document"
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(Cast("organization_id", output_field=IntegerField()), F("search_vector"))


class TenantQuery(Func):
    """The prefixed form of the keywords for one organization."""

    function = "case_tenant_query"
    output_field = SearchQueryField()

    def __init__(self, organization_id: int, query: SearchQuery) -> None:
        # Cast: a bound integer parameter may arrive as bigint, which the function does not take.
        super().__init__(Cast(Value(organization_id), output_field=IntegerField()), query)


class AnyOf(Func):
    """Queries joined with ``||``, in parentheses (``@@`` binds as tightly as ``||``)."""

    arg_joiner = " || "
    template = "(%(expressions)s)"
    output_field = SearchQueryField()


class Matches(Func):
    """``document @@ query`` as a condition."""

    arg_joiner = " @@ "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _within_scope(queryset: QuerySet[Case], query: SearchQuery) -> QuerySet[Case]:
    """Add the condition on the tenant-prefixed index for the scope's organizations. It
    only narrows: the visibility filters and the condition on the document stay."""
    try:
        organization_ids = current_scope_organization_ids()
    except ScopeError:
        return queryset  # no scope: the query raises on its own when it runs
    if not organization_ids or len(organization_ids) > MAX_SCOPED_ORGANIZATIONS:
        return queryset
    queries = [TenantQuery(organization_id, query) for organization_id in organization_ids]
    tenant_query = queries[0] if len(queries) == 1 else AnyOf(*queries)
    return queryset.filter(Matches(TenantDocument(), tenant_query))
