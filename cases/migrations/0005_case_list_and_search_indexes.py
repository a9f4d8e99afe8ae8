"""Indexes for My Cases and for keyword search inside an organization (issue 3, bench/).

- ``case_contact_open_recent``: the contact's open cases in list order, with the same
  condition as ``selectors.my_open_cases`` so PostgreSQL can use it (the older
  ``case_contact_open_modified`` is conditioned on status and cannot serve that query).
- ``case_org_search_gin`` (PostgreSQL only): a GIN index on (organization, search document),
  so a customer's keyword search reads only their organization's matches. btree_gin supplies
  the GIN operator class for the organization column; the column is indexed as ``integer``
  because btree_gin compares values of one type only and queries send integer literals
  (see cases/search.py).
"""

from django.conf import settings
from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations, models


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS case_org_search_gin ON cases_case "
            "USING gin ((organization_id::integer), search_vector)"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS case_org_search_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("cases", "0004_role_permissions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(
                    (
                        "sub_status__in",
                        (
                            "new",
                            "investigation",
                            "customer_responded",
                            "info_required",
                            "pending_permanent_solution",
                            "pending_rca",
                            "solution_proposed",
                            "problem_resolved",
                        ),
                    )
                ),
                fields=["contact", "-modified_at", "-number"],
                name="case_contact_open_recent",
            ),
        ),
        BtreeGinExtension(),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
