"""Index types Django does not ship.

``PostgresOnlyGinIndex``: a GIN index (full-text search) that exists on PostgreSQL only.
The embedded SQLite database has no GIN indexes, nor the SQL functions such an index may
be built on. Declared in a model's ``Meta`` like any index, so Django's model state knows it
(``makemigrations`` sees it, ``sqlmigrate`` prints it); on another database its statements
are SQL comments, which run as no-ops. That matters beyond the migration that adds it: SQLite
rebuilds a table for most column changes and re-creates every declared index then, so a
plain ``GinIndex`` would break every later migration of the model on SQLite.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex


class PostgresOnlyGinIndex(GinIndex):
    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._skipped(schema_editor)
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return self._skipped(schema_editor)
        return super().remove_sql(model, schema_editor, **kwargs)

    def _skipped(self, schema_editor) -> str:
        vendor = schema_editor.connection.vendor
        return f"-- {self.name}: a PostgreSQL index, none on {vendor}"
