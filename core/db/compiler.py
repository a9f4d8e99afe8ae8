"""Compiled SELECTs reused within a process.

Django turns every queryset into SQL afresh. For the portal's hot reads (a case with its
organization, deployment, service, contact and owner; the signed-in user; a page of cases)
that compilation costs several times what PostgreSQL needs to answer: quoting a hundred
column names, walking the related models and the ordering, for a statement whose only
difference from the previous request's is the values in its WHERE clause.

``CachedSelectCompiler`` keeps, per process, the SQL of a SELECT keyed by everything that
shapes it except those values: the model, the joins, the select-related tree, deferred
fields, selected values, ordering, slicing, locking, and the compiled WHERE clause itself.
On a hit only the WHERE clause is compiled (which yields the new values); the columns,
joins and ordering are reused, together with what Django needs to build the rows into
objects. Whatever the key cannot describe is not cached: subqueries, aggregates and window
functions, extra(), combined queries, grouping, filtered relations, EXPLAIN. (Plain
annotations are part of the key: expressions compare by what they were built from.)

An entry is stored only after checking, on the statement Django compiled in full, that its
parameters are exactly the WHERE clause's and that the WHERE clause appears once in it; so a
hit can only ever send the statement Django would have sent. With
``settings.SQL_CACHE_VERIFY`` (on in the test suite) every hit is also compiled in full
and compared, and a difference raises.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models.expressions import Subquery
from django.db.models.sql import compiler
from django.db.models.sql.datastructures import BaseTable, Join
from django.db.models.sql.query import Query

MAX_ENTRIES = 2000

_entries: dict[tuple, tuple] = {}
_uncacheable: set[tuple] = set()
_lock = threading.Lock()
stats = {"hits": 0, "misses": 0, "skipped": 0}


class SQLCacheMismatch(AssertionError):
    """A cached statement differs from what Django compiles (verification mode only)."""


def clear() -> None:
    with _lock:
        _entries.clear()
        _uncacheable.clear()
        for key in stats:
            stats[key] = 0


def _hashable_tree(value) -> tuple | bool:
    """The select-related tree ({"owner": {}, "case": {"organization": {}}}) as a tuple."""
    if isinstance(value, dict):
        return tuple((name, _hashable_tree(sub)) for name, sub in value.items())
    return bool(value)


def shape_key(query, connection) -> tuple | None:
    """What shapes the statement apart from the WHERE clause, or None when the query uses
    something this cache does not describe."""
    if (
        query.subquery
        or query.combinator
        or query.explain_info
        or query.extra
        or query.extra_tables
        or query.extra_order_by
        or query.group_by is not None
        or query.distinct_fields
        or query._filtered_relations
        or (query.select and not query.values_select)
    ):
        return None
    selected = ()
    if query.selected is not None:
        selected = tuple(query.selected.items())
        if not all(isinstance(v, int | str) for _, v in selected):
            return None
    if not all(isinstance(item, str) for item in query.order_by):
        return None
    joins = []
    for alias, join in query.alias_map.items():
        refcount = query.alias_refcount.get(alias, 0)
        if isinstance(join, Join):
            if join.filtered_relation is not None:
                return None
            joins.append(
                (
                    alias,
                    join.table_name,
                    join.parent_alias,
                    join.join_field,
                    join.join_type,
                    join.nullable,
                    refcount,
                )
            )
        elif type(join) is BaseTable:
            joins.append((alias, join.table_name, refcount))
        else:
            return None
    annotations = _annotations_key(query)
    if annotations is None:
        return None
    deferred, defer = query.deferred_loading
    return (
        connection.alias,
        connection.vendor,
        query.model,
        query.alias_cols,
        tuple(joins),
        _hashable_tree(query.select_related),
        query.max_depth,
        tuple(sorted(deferred)),
        defer,
        query.values_select,
        selected,
        annotations,
        None
        if query.annotation_select_mask is None
        else tuple(sorted(query.annotation_select_mask)),
        query.default_cols,
        query.order_by,
        query.default_ordering,
        query.standard_ordering,
        query.low_mark,
        query.high_mark,
        query.distinct,
        query.select_for_update,
        query.select_for_update_nowait,
        query.select_for_update_skip_locked,
        query.select_for_update_of,
        query.select_for_no_key_update,
    )


def _annotations_key(query) -> tuple | None:
    """The annotations as (name, expression) pairs (expressions compare by what they were
    built from), or None for those the key cannot describe: aggregates, window functions,
    subqueries (a queryset compares by identity, so it would never match anyway)."""
    pairs = []
    for name, expression in query.annotations.items():
        if expression.contains_aggregate or expression.contains_over_clause:
            return None
        if any(isinstance(node, Subquery | Query) for node in expression.flatten()):
            return None
        try:
            hash(expression)
        except TypeError:
            return None
        pairs.append((name, expression))
    return tuple(pairs)


class CachedSelectMixin:
    """Reuse the compiled SELECT of a query shaped like one compiled before (see module)."""

    def as_sql(self, with_limits=True, with_col_aliases=False):
        if not with_limits or with_col_aliases:
            return super().as_sql(with_limits, with_col_aliases)
        query = self.query
        key = shape_key(query, self.connection)
        if key is None:
            stats["skipped"] += 1
            return super().as_sql(with_limits, with_col_aliases)
        try:
            where_sql, where_params = self.compile(query.where)
        except (EmptyResultSet, FullResultSet):
            stats["skipped"] += 1
            return super().as_sql(with_limits, with_col_aliases)
        key = (*key, self.elide_empty, where_sql)
        entry = _entries.get(key)
        if entry is not None:
            stats["hits"] += 1
            sql, self.select, self.klass_info, self.annotation_col_map, self.has_extra_select = (
                entry
            )
            self.col_count = len(self.select)
            self.where, self.having, self.qualify = query.where, None, None
            params = tuple(where_params)
            if getattr(settings, "SQL_CACHE_VERIFY", False):
                self._verify(sql, params)
            return sql, params
        stats["misses"] += 1
        sql, params = super().as_sql(with_limits, with_col_aliases)
        if key in _uncacheable:
            return sql, params
        if tuple(params) == tuple(where_params) and (not where_sql or sql.count(where_sql) == 1):
            with _lock:
                if len(_entries) >= MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = (
                    sql,
                    self.select,
                    self.klass_info,
                    self.annotation_col_map,
                    self.has_extra_select,
                )
        else:
            with _lock:
                if len(_uncacheable) >= MAX_ENTRIES:
                    _uncacheable.clear()
                _uncacheable.add(key)
        return sql, params

    def _verify(self, sql: str, params: tuple) -> None:
        fresh = type(self)(self.query.clone(), self.connection, self.using, self.elide_empty)
        expected_sql, expected_params = super(CachedSelectMixin, fresh).as_sql()
        if expected_sql != sql or tuple(expected_params) != params:
            raise SQLCacheMismatch(
                f"Cached statement differs from Django's.\ncached:   {sql} {params}\n"
                f"compiled: {expected_sql} {tuple(expected_params)}"
            )


class SQLCompiler(CachedSelectMixin, compiler.SQLCompiler):
    pass


SQLInsertCompiler = compiler.SQLInsertCompiler
SQLDeleteCompiler = compiler.SQLDeleteCompiler
SQLUpdateCompiler = compiler.SQLUpdateCompiler
SQLAggregateCompiler = compiler.SQLAggregateCompiler
