"""Tells PostgreSQL's planner that a case's contact determines its organization.

Without it the planner multiplies the two selectivities, expects about one row for "this
contact's cases in these organizations", and sorts every matching case instead of reading
the My Cases index in order. Other databases have no extended statistics.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE STATISTICS IF NOT EXISTS case_org_contact (dependencies, ndistinct) "
            "ON organization_id, contact_id FROM cases_case"
        )
        schema_editor.execute("ANALYZE cases_case")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS case_org_contact")


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_care_queue_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
