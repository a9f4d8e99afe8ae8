"""PostgreSQL's compilers with compiled SELECTs reused (see ``core.db.compiler``)."""

from django.db.backends.postgresql import compiler

from core.db.compiler import CachedSelectMixin

__all__ = [
    "SQLAggregateCompiler",
    "SQLCompiler",
    "SQLDeleteCompiler",
    "SQLInsertCompiler",
    "SQLUpdateCompiler",
]


class SQLCompiler(CachedSelectMixin, compiler.SQLCompiler):
    pass


SQLInsertCompiler = compiler.SQLInsertCompiler
SQLDeleteCompiler = compiler.SQLDeleteCompiler
SQLUpdateCompiler = compiler.SQLUpdateCompiler
SQLAggregateCompiler = compiler.SQLAggregateCompiler
