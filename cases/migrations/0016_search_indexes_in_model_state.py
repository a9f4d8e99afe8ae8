"""The two full-text indexes of a case enter Django's model state (``Case.Meta``).

Migrations 0005 (``case_org_search_gin``) and 0013 (``case_tenant_search_gin``, with its SQL
functions in cases/sql/) build them on PostgreSQL with their own statements: concurrently,
idempotently, and never on SQLite. Every database that reaches this migration already has
exactly these indexes, so it changes the model state alone and runs nothing.
"""

import django.contrib.postgres.search
import django.db.models.functions.comparison
from django.db import migrations, models

import core.indexes


class Migration(migrations.Migration):
    dependencies = [("cases", "0015_covering_list_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="case",
                    index=core.indexes.PostgresOnlyGinIndex(
                        django.db.models.functions.comparison.Cast(
                            "organization", models.IntegerField()
                        ),
                        models.F("search_vector"),
                        gin_pending_list_limit=128,
                        name="case_org_search_gin",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=core.indexes.PostgresOnlyGinIndex(
                        models.Func(
                            django.db.models.functions.comparison.Cast(
                                "organization", models.IntegerField()
                            ),
                            "search_vector",
                            function="case_tenant_document",
                            output_field=django.contrib.postgres.search.SearchVectorField(),
                        ),
                        gin_pending_list_limit=128,
                        name="case_tenant_search_gin",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
