"""The follow-up sweep's Celery task and its beat entry."""

from __future__ import annotations

from config.celery import app
from tests.cases import NOW, make_case
from tests.followups.helpers import ask, steps


def test_beat_runs_the_follow_up_sweep_every_two_minutes():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["sweep-followups"]

    assert entry["task"] == "followups.tasks.sweep_followups"
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 120.0
    assert entry["options"]["expires"] < entry["schedule"]


def test_the_task_sweeps_as_of_the_clock(org_a, dc_a, analyst):
    # DOMAIN F-2: NOW's request is long due by the real clock
    from followups.tasks import sweep_followups

    case = make_case(org_a, dc_a, "investigation")
    ask(case, analyst, now=NOW)

    assert sweep_followups.apply().get() == 1
    assert len(steps(case)) == 1
