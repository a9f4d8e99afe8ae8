"""The case history is append-only (C-16): on PostgreSQL a trigger refuses any UPDATE of an
event, whatever code or SQL sends it. Deleting a case still removes its events."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'Case history is append-only: events are never changed.';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent;
CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS cases_caseevent_no_update ON cases_caseevent;
DROP FUNCTION IF EXISTS cases_caseevent_append_only();
"""


def create(apps, schema_editor):
    # Idempotent: the test suite runs the data steps of migrations again after a flush.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_escalated_index")]
    operations = [migrations.RunPython(create, drop)]
