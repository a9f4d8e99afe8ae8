"""Service-level due times on the case (S-1 … S-8), stored in UTC and recomputed on events.

- ``case_sla_check_due``: the SLA sweep reads only open cases whose next check is due.
- ``case_sla_attention``: the care queue "At risk / breached", in due order.

Existing cases get no due times here: ``cases.sla.sla_recompute_for_organization`` fills
them in for an organization's open cases (the demo seeding calls it).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_staff_roles'),
        ('cases', '0005_case_list_and_search_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='at_risk_notified_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='breached_notified_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='rca_due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='resolution_consumed_seconds',
            field=models.FloatField(default=0, help_text='Resolution time used before the current pause: business or calendar seconds, as the target counts.'),
        ),
        migrations.AddField(
            model_name='case',
            name='resolution_due_at',
            field=models.DateTimeField(blank=True, help_text='Null while the resolution clock is paused.', null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='resolution_met',
            field=models.BooleanField(blank=True, help_text='Null until decided.', null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='response_due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='response_met',
            field=models.BooleanField(blank=True, help_text='Null until decided.', null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='restoration_due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_check_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_next_due_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_paused_since',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_state',
            field=models.CharField(choices=[('ok', 'On track'), ('at_risk', 'At risk'), ('breached', 'Breached')], default='ok', max_length=16),
        ),
        migrations.AddField(
            model_name='case',
            name='sla_target',
            field=models.CharField(blank=True, help_text='The target the SLA state is about.', max_length=16),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(models.Q(('status', 'closed'), _negated=True), ('sla_check_at__isnull', False)), fields=['sla_check_at'], name='case_sla_check_due'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(models.Q(('status', 'closed'), _negated=True), models.Q(('sla_state', 'ok'), _negated=True)), fields=['sla_next_due_at'], name='case_sla_attention'),
        ),
    ]
