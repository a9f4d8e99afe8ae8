"""Case search (C-14): a case number, or keywords over subject, description and public
updates. PostgreSQL keeps a tsvector per case (GIN-indexed) that services extend as public
text is added; other databases fall back to a plain substring search.

A customer searches only their organizations' cases. A GIN index on the search document
alone makes PostgreSQL read every matching case of every tenant and then intersect with the
organization (tens of milliseconds for a common word over a million cases), so migration
0005 adds a GIN index on (organization, document) and migration 0012 drops the one on the
document alone (the composite index answers care's searches over every tenant too). Keyword
searches inside a tenant scope name the scope's organizations in the form that index takes:
``organization_id::integer``,
because btree_gin's operator classes compare only values of the same type and the ORM sends
ids as integer literals. (Organization ids stay far below 2**31.)"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast

from cases.models import Case, CaseUpdate
from portal.tenancy import ScopeError, current_scope_organization_ids

CONFIG = "english"
MAX_INDEXED_CHARS = 200_000  # a tsvector holds at most 1 MB; long logs add nothing useful
NUMBER_RE = re.compile(r"^\s*#?\s*(\d{1,12})\s*$")
# Above this many organizations in the scope the OR of index conditions costs more than it
# saves (and only care, whose scope is disabled, see that many).
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
        queryset = queryset.filter(
            search_vector=SearchQuery(query, config=CONFIG, search_type="websearch")
        )
        return _within_scope(queryset)
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


def _within_scope(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Repeat the tenant scope's organizations as conditions the (organization, document)
    GIN index can use. It only narrows: the visibility filters stay as they are."""
    try:
        organization_ids = current_scope_organization_ids()
    except ScopeError:
        return queryset  # no scope: the query raises on its own when it runs
    if not organization_ids or len(organization_ids) > MAX_SCOPED_ORGANIZATIONS:
        return queryset
    condition = Q()
    for organization_id in organization_ids:
        # One equality per organization: a GIN index cannot use "= ANY(array)".
        condition |= Q(search_organization=organization_id)
    return queryset.alias(
        search_organization=Cast("organization_id", output_field=IntegerField())
    ).filter(condition)
