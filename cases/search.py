"""Case search (C-14): a case number, or keywords over subject, description and public
updates. PostgreSQL keeps a tsvector per case (GIN-indexed) that services extend as public
text is added; other databases fall back to a plain substring search."""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.models import Case, CaseUpdate

CONFIG = "english"
MAX_INDEXED_CHARS = 200_000  # a tsvector holds at most 1 MB; long logs add nothing useful
NUMBER_RE = re.compile(r"^\s*#?\s*(\d{1,12})\s*$")


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
        return queryset.filter(
            search_vector=SearchQuery(query, config=CONFIG, search_type="websearch")
        )
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
