"""Case numbers from a database sequence (C-1) and the full-text index (C-14).

PostgreSQL: a sequence, and a GIN index on the search document. Other databases: a
one-row counter (see cases/numbering.py) and no full-text index.
"""

from django.db import migrations

FIRST_NUMBER = 1000


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE SEQUENCE IF NOT EXISTS cases_case_number_seq START {FIRST_NUMBER}"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS case_search_gin ON cases_case USING gin (search_vector)"
        )
    else:
        Counter = apps.get_model("cases", "CaseNumberCounter")
        Counter.objects.get_or_create(id=1, defaults={"last": FIRST_NUMBER - 1})


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_search_gin")
        schema_editor.execute("DROP SEQUENCE IF EXISTS cases_case_number_seq")


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_services_and_groups")]
    operations = [migrations.RunPython(forwards, backwards)]
