"""Imported by the Celery worker of test_worker_kill (``CELERY_IMPORTS`` in worker_settings),
after Django is set up: every follow-up step of that worker holds its transaction open for
``SLOW_FOLLOWUP_STEP_SECONDS`` after its work, so the kill finds a step under way."""

import os

from followups import sweep
from tests.followups.helpers import slowed

sweep.followup_step = slowed(
    sweep.followup_step, seconds=float(os.environ.get("SLOW_FOLLOWUP_STEP_SECONDS", "0"))
)
