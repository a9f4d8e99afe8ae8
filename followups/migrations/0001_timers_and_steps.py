# Follow-up timers and the record of their steps (F-1 … F-7).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0002_staff_roles'),
        ('cases', '0005_case_list_and_search_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='FollowUpTimer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(choices=[('info_required', 'Information requested'), ('solution_proposed', 'Solution proposed')], max_length=24)),
                ('started_at', models.DateTimeField()),
                ('reminder1_due_at', models.DateTimeField()),
                ('reminder2_due_at', models.DateTimeField()),
                ('close_due_at', models.DateTimeField()),
                ('next_due_at', models.DateTimeField(blank=True, help_text='When the next step is due; empty once stopped.', null=True)),
                ('steps_done', models.PositiveSmallIntegerField(default=0, help_text='The last step performed (0: none yet, 3: closed).')),
                ('stopped_at', models.DateTimeField(blank=True, null=True)),
                ('stop_reason', models.CharField(blank=True, choices=[('customer_responded', 'The customer responded'), ('case_moved_on', 'The case left the awaiting state'), ('new_request', 'A new request started another timer'), ('auto_closed', 'Closed for no customer response')], max_length=24)),
                ('created_at', models.DateTimeField()),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='followups', to='cases.case')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', related_query_name='%(class)s', to='accounts.organization')),
            ],
            options={
                'verbose_name': 'follow-up timer',
                'ordering': ['-started_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='FollowUpStep',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('step', models.PositiveSmallIntegerField(choices=[(1, 'First reminder'), (2, 'Second reminder'), (3, 'Closed for no response')])),
                ('due_at', models.DateTimeField()),
                ('done_at', models.DateTimeField()),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='%(class)ss', related_query_name='%(class)s', to='accounts.organization')),
                ('timer', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='followups.followuptimer')),
            ],
            options={
                'verbose_name': 'follow-up step',
                'ordering': ['timer', 'step'],
            },
        ),
        migrations.AddIndex(
            model_name='followuptimer',
            index=models.Index(condition=models.Q(('next_due_at__isnull', False), ('stopped_at__isnull', True)), fields=['next_due_at'], name='followup_due'),
        ),
        migrations.AddIndex(
            model_name='followuptimer',
            index=models.Index(fields=['case', '-started_at'], name='followup_case_started'),
        ),
        migrations.AddConstraint(
            model_name='followuptimer',
            constraint=models.UniqueConstraint(condition=models.Q(('stopped_at__isnull', True)), fields=('case',), name='followup_one_active_per_case'),
        ),
        migrations.AddConstraint(
            model_name='followuptimer',
            constraint=models.CheckConstraint(condition=models.Q(('steps_done__lte', 3)), name='followup_steps_done_at_most_3'),
        ),
        migrations.AddConstraint(
            model_name='followuptimer',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('next_due_at__isnull', False), ('stopped_at__isnull', True)), models.Q(('next_due_at__isnull', True), ('stopped_at__isnull', False)), _connector='OR'), name='followup_due_only_while_running'),
        ),
        migrations.AddConstraint(
            model_name='followuptimer',
            constraint=models.CheckConstraint(condition=models.Q(('started_at__lte', models.F('reminder1_due_at')), ('reminder1_due_at__lte', models.F('reminder2_due_at')), ('reminder2_due_at__lte', models.F('close_due_at'))), name='followup_steps_in_order'),
        ),
        migrations.AddConstraint(
            model_name='followupstep',
            constraint=models.UniqueConstraint(fields=('timer', 'step'), name='followup_step_once'),
        ),
        migrations.AddConstraint(
            model_name='followupstep',
            constraint=models.CheckConstraint(condition=models.Q(('step__gte', 1), ('step__lte', 3)), name='followup_step_1_to_3'),
        ),
    ]
