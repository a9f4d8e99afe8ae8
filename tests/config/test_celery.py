"""The Celery app and its beat schedule, in code and in UTC."""

from config.celery import app


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]
    assert app.conf.timezone == "UTC"


def test_tasks_acknowledge_late_so_a_killed_worker_loses_nothing():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
