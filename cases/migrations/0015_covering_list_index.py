"""All Cases in list order from the index alone (PostgreSQL).

``case_org_recent`` (organization, modified desc, number desc) carries the columns the
list's filters compare (status, sub-status, priority, type) and the id. A filtered page
(open and high, a type, a sub-status) is then read from the index in order and stopped after
a page, with no visit to the table: 0.02-0.05 ms instead of 0.1-0.16 ms of SQL with a warm
cache, 0.1-0.16 instead of 0.7-0.9 ms with a cold one, on a 1,300-case organization. It
replaces ``case_org_modified`` (organization, modified desc), created first so the list
always has an index.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_email_all_cases"),
        ("cases", "0014_case_org_number_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["organization", "-modified_at", "-number"],
                include=("status", "sub_status", "priority", "type", "id"),
                name="case_org_recent",
            ),
        ),
        migrations.RemoveIndex(
            model_name="case",
            name="case_org_modified",
        ),
    ]
