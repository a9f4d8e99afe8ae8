"""A full-text index whose words belong to one organization (PostgreSQL only).

In ``case_org_search_gin`` (organization, document) the entries of a word list the cases of
every tenant that used it: a customer's search for a common word reads all of them and
intersects with the organization (1–7 ms per search on a million cases). This migration adds
``case_tenant_search_gin`` on each case's words prefixed with its organization ("42/trunk"),
so a customer's search reads only their organization's entries (0.05–0.8 ms for the same
searches). Care's searches across every tenant keep using ``case_org_search_gin``.

Two SQL functions make the prefixed words, for the index and for the query:

- ``case_tenant_document(organization, document)``: the document's words prefixed with the
  organization, without positions, plus the organization's own marker word ("42/") that
  every one of its cases has.
- ``case_tenant_query(organization, query)``: a query on those words that finds every case
  the original query finds, and possibly more: phrases become "all of these words",
  negated parts become the marker (a case may lack any word). The search keeps the original
  condition on the stored document as well, so the results are exactly the original
  query's; the prefixed query only picks which index entries to read.

Both GIN indexes keep a pending list of at most 128 kB (``gin_pending_list_limit``; the
server's default is 4 MB). A GIN index first appends new entries to that list, unsorted, and
every search reads all of it; autovacuum merges it only after a fifth of the table has been
inserted anew, so under a steady stream of new cases the list stays near its limit. With
4 MB a search read 228 pages of it (1.3 ms instead of 0.05); with 128 kB the inserting
request merges it whenever it fills, a few cases at a time.

The index is built without blocking writes (``CONCURRENTLY``), so this migration is not
atomic: about 80 s on a million cases.
"""

from django.db import migrations

DOCUMENT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION case_tenant_document(organization integer, document tsvector)
RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT array_to_tsvector(
    array(
      SELECT organization::text || '/' || lexeme
      FROM unnest(tsvector_to_array(document)) AS lexeme
    ) || (organization::text || '/')
  )
$$
"""

# The query's text form (tsqueryout) is: quoted lexemes ('' for a quote inside, a backslash
# escaping the next character) with optional :* and weights, "!", "&", "|", "<->" or "<N>",
# parentheses and spaces. It is rewritten token by token.
QUERY_FUNCTION = r"""
CREATE OR REPLACE FUNCTION case_tenant_query(organization integer, query tsquery)
RETURNS tsquery LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  source text := query::text;
  n integer := length(source);
  i integer := 1;
  c text;
  result text := '';
  prefix text := organization::text || '/';
  depth integer;
  lexeme text;
  flags text;
BEGIN
  WHILE i <= n LOOP
    c := substr(source, i, 1);
    IF c = '''' THEN
      -- A lexeme: copied with the prefix, its escapes kept, its prefix-match flag kept and
      -- its weights dropped (the indexed words have none).
      lexeme := '';
      i := i + 1;
      LOOP
        c := substr(source, i, 1);
        IF c = '' THEN
          RAISE EXCEPTION 'unterminated lexeme in %', source;
        ELSIF c = '''' AND substr(source, i + 1, 1) = '''' THEN
          lexeme := lexeme || '''''';
          i := i + 2;
        ELSIF c = '''' THEN
          i := i + 1;
          EXIT;
        ELSIF c = '\' THEN
          lexeme := lexeme || substr(source, i, 2);
          i := i + 2;
        ELSE
          lexeme := lexeme || c;
          i := i + 1;
        END IF;
      END LOOP;
      flags := '';
      IF substr(source, i, 1) = ':' THEN
        i := i + 1;
        WHILE i <= n AND upper(substr(source, i, 1)) IN ('*', 'A', 'B', 'C', 'D') LOOP
          IF substr(source, i, 1) = '*' THEN
            flags := ':*';
          END IF;
          i := i + 1;
        END LOOP;
      END IF;
      result := result || '''' || prefix || lexeme || '''' || flags;
    ELSIF c = '!' THEN
      -- A negated part (a lexeme, a group or another negation) can hold for any case of
      -- the organization: it becomes the organization's marker.
      i := i + 1;
      WHILE substr(source, i, 1) IN ('!', ' ') LOOP
        i := i + 1;
      END LOOP;
      depth := 0;
      LOOP
        c := substr(source, i, 1);
        IF c = '' THEN
          EXIT;
        ELSIF c = '''' THEN
          i := i + 1;
          LOOP
            c := substr(source, i, 1);
            IF c = '' THEN
              RAISE EXCEPTION 'unterminated lexeme in %', source;
            ELSIF c = '''' AND substr(source, i + 1, 1) = '''' THEN
              i := i + 2;
            ELSIF c = '''' THEN
              i := i + 1;
              EXIT;
            ELSIF c = '\' THEN
              i := i + 2;
            ELSE
              i := i + 1;
            END IF;
          END LOOP;
          IF substr(source, i, 1) = ':' THEN
            i := i + 1;
            WHILE i <= n AND upper(substr(source, i, 1)) IN ('*', 'A', 'B', 'C', 'D') LOOP
              i := i + 1;
            END LOOP;
          END IF;
        ELSE
          IF c = '(' THEN
            depth := depth + 1;
          ELSIF c = ')' THEN
            depth := depth - 1;
          END IF;
          i := i + 1;
        END IF;
        EXIT WHEN depth = 0;
      END LOOP;
      result := result || '''' || prefix || '''';
    ELSIF c = '<' THEN
      -- A phrase operator: the same words anywhere in the case.
      WHILE i <= n AND substr(source, i, 1) <> '>' LOOP
        i := i + 1;
      END LOOP;
      i := i + 1;
      result := result || '&';
    ELSE
      result := result || c;
      i := i + 1;
    END IF;
  END LOOP;
  RETURN result::tsquery;
END
$$
"""

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
    schema_editor.execute(DOCUMENT_FUNCTION, None)
    schema_editor.execute(QUERY_FUNCTION, None)
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
