"""A full-text index whose words belong to one organization (PostgreSQL only).

In ``case_org_search_gin`` (organization, document) the entries of a word list the cases of
every tenant that used it: a customer's search for a common word reads all of them and
intersects with the organization (1–7 ms per search on a million cases). This migration adds
``case_tenant_search_gin`` on each case's words prefixed with its organization ("42/trunk"),
so a customer's search reads only their organization's entries (0.05–0.8 ms for the same
searches). Care's searches across every tenant keep using ``case_org_search_gin``.

Two SQL functions make the prefixed words, for the index and for the query; each is in its
own file under cases/sql/, where it is documented:

- ``case_tenant_document(organization, document)`` (case_tenant_document_v1.sql),
- ``case_tenant_query(organization, query)`` (case_tenant_query_v1.sql).

Both indexes are declared in ``Case.Meta`` (migration 0016 tells Django's model state).

Both GIN indexes keep a pending list of at most 128 kB (``gin_pending_list_limit``; the
server's default is 4 MB). A GIN index first appends new entries to that list, unsorted, and
every search reads all of it; autovacuum merges it only after a fifth of the table has been
inserted anew, so under a steady stream of new cases the list stays near its limit. With
4 MB a search read 228 pages of it (1.3 ms instead of 0.05); with 128 kB the inserting
request merges it whenever it fills, a few cases at a time.

The index is built without blocking writes (``CONCURRENTLY``), so this migration is not
atomic: about 80 s on a million cases.
"""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
DOCUMENT_FUNCTION = SQL_DIR / "case_tenant_document_v1.sql"
QUERY_FUNCTION = SQL_DIR / "case_tenant_query_v1.sql"

PENDING_LIST_KB = 128
CREATE_INDEX = (
    "CREATE INDEX {how}IF NOT EXISTS case_tenant_search_gin ON cases_case "
    "USING gin (case_tenant_document((organization_id)::integer, search_vector)) "
    f"WITH (gin_pending_list_limit = {PENDING_LIST_KB})"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # No parameters: the bodies' "%" are not placeholders.
    schema_editor.execute(DOCUMENT_FUNCTION.read_text(), None)
    schema_editor.execute(QUERY_FUNCTION.read_text(), None)
    # Concurrently unless a caller runs this step inside a transaction, where PostgreSQL
    # refuses it (the step is idempotent and may be run again that way).
    how = "" if schema_editor.connection.in_atomic_block else "CONCURRENTLY "
    # A concurrent build that failed leaves an invalid index behind, which IF NOT EXISTS
    # would keep: drop it, so running the migration again builds a usable one.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = 'case_tenant_search_gin'"
        )
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS case_tenant_search_gin")
    schema_editor.execute(CREATE_INDEX.format(how=how))
    schema_editor.execute(
        "ALTER INDEX IF EXISTS case_org_search_gin "
        f"SET (gin_pending_list_limit = {PENDING_LIST_KB})"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER INDEX IF EXISTS case_org_search_gin RESET (gin_pending_list_limit)")
    how = "" if schema_editor.connection.in_atomic_block else "CONCURRENTLY "
    schema_editor.execute(f"DROP INDEX {how}IF EXISTS case_tenant_search_gin")
    schema_editor.execute("DROP FUNCTION IF EXISTS case_tenant_query(integer, tsquery)")
    schema_editor.execute("DROP FUNCTION IF EXISTS case_tenant_document(integer, tsvector)")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("cases", "0012_drop_document_only_search_index")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
