"""The Celery app. The beat schedule lives here, in code, in UTC.

A worker or beat started without DJANGO_SETTINGS_MODULE gets the production settings, like
the web server (`make run` sets config.settings.local, pytest config.settings.test)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("portal")
# The current app of every thread, not only of the one that imported this module: code that
# rings a task by name (celery.current_app.send_task) from a request thread reaches this
# app's broker, not Celery's built-in fallback app.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["core.outbox"])

app.conf.beat_schedule = {
    # Sends what the broker lost and retries failed sends (N-5).
    "sweep-outbox": {"task": "core.outbox.tasks.sweep_outbox", "schedule": 60.0},
    # Reminders and auto-close of cases waiting for the customer (F-2 … F-4). A run that
    # could not start in time is dropped: the next one does the same work.
    "sweep-followups": {
        "task": "followups.tasks.sweep_followups",
        "schedule": 120.0,
        "options": {"expires": 110.0},
    },
    # Service levels at risk or breached, notified once per state (S-6). A run that could
    # not start in time is dropped: the next one does the same work.
    "sweep-sla": {
        "task": "cases.tasks.sweep_sla",
        "schedule": 300.0,
        "options": {"expires": 290.0},
    },
    # Inbound email (N-3): the IMAP mailbox (INBOUND_IMAP_URL) and the drop folder
    # (INBOUND_MAILDIR); each task does nothing when its setting is empty, and holds a cache
    # lock so two ticks never read one mailbox at once. A run that could not start in time
    # is dropped: the next one does the same work.
    "poll-imap": {
        "task": "inbound.tasks.poll_imap",
        "schedule": 60.0,
        "options": {"expires": 55.0},
    },
    "sweep-maildir": {
        "task": "inbound.tasks.sweep_maildir",
        "schedule": 30.0,
        "options": {"expires": 25.0},
    },
    # Messages stored but not yet handled (their handling failed) are tried again.
    "inbound-handle-waiting": {
        "task": "inbound.tasks.handle_waiting",
        "schedule": 300.0,
        "options": {"expires": 290.0},
    },
    # Holiday snapshots only ever gain years; existing years never change (B-1).
    "extend-holiday-snapshots": {
        "task": "accounts.tasks.extend_holiday_snapshots",
        "schedule": crontab(minute=17, hour=3),
    },
}
