"""The outbox and the audit log, created here or taken over from the tables an earlier
layout kept under the app label "portal" (renamed, with their rows, content types and
permissions), so an existing database keeps its history."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ("AuditLogEntry", "OutboxEmail")


def create_or_adopt(apps, schema_editor):
    tables = set(schema_editor.connection.introspection.table_names())
    adopted = False
    for name in MODELS:
        model = apps.get_model("core", name)
        earlier = f"portal_{name.lower()}"
        if model._meta.db_table in tables:
            continue
        if earlier in tables:
            schema_editor.alter_db_table(model, earlier, model._meta.db_table)
            adopted = True
        else:
            schema_editor.create_model(model)
    if adopted:
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.filter(
            app_label="portal", model__in=[name.lower() for name in MODELS]
        ).update(app_label="core")


def drop(apps, schema_editor):
    for name in reversed(MODELS):
        schema_editor.delete_model(apps.get_model("core", name))


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_user_email_all_cases'),
        ('cases', '0015_covering_list_index'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
      migrations.SeparateDatabaseAndState(
        state_operations=[
        migrations.CreateModel(
            name='AuditLogEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField()),
                ('action', models.CharField(choices=[('list', 'Listed'), ('view', 'Viewed'), ('download', 'Downloaded')], max_length=16)),
                ('model', models.CharField(help_text='app_label.model, e.g. cases.case', max_length=100)),
                ('object_id', models.CharField(blank=True, max_length=64)),
                ('object_repr', models.CharField(blank=True, help_text='The case number, organization name…', max_length=200, verbose_name='object')),
                ('path', models.CharField(max_length=2000)),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organization')),
            ],
            options={
                'verbose_name': 'audit log entry',
                'verbose_name_plural': 'audit log',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['-created_at'], name='audit_created'), models.Index(fields=['actor', '-created_at'], name='audit_actor_created'), models.Index(fields=['organization', '-created_at'], name='audit_org_created')],
            },
        ),
        migrations.CreateModel(
            name='OutboxEmail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('idempotency_key', models.CharField(max_length=200, unique=True)),
                ('message_id', models.CharField(max_length=255, unique=True)),
                ('to', models.JSONField(help_text='Recipient addresses.')),
                ('subject', models.CharField(max_length=255)),
                ('body_text', models.TextField()),
                ('body_html', models.TextField(blank=True)),
                ('headers', models.JSONField(blank=True, default=dict)),
                ('state', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sent', 'Sent'), ('failed', 'Gave up')], default='pending', max_length=16)),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField()),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField()),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='cases.case')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', related_query_name='%(class)s', to='accounts.organization')),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at'], name='outbox_pending_due')],
            },
        ),
        ],
      ),
      migrations.RunPython(create_or_adopt, drop),
    ]
