"""The Celery app. The beat schedule lives here, in code, in UTC."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Sends what the broker lost and retries failed sends (N-5).
    "sweep-outbox": {"task": "portal.tasks.sweep_outbox", "schedule": 60.0},
    # Holiday snapshots only ever gain years; existing years never change (B-1).
    "extend-holiday-snapshots": {
        "task": "accounts.tasks.extend_holiday_snapshots",
        "schedule": crontab(minute=17, hour=3),
    },
}
