"""Settings of the Celery worker that test_worker_kill starts and kills: the project's
settings plus a pause after each follow-up step, so the kill lands in the middle of a
round. Production never sets FOLLOWUP_SWEEP_STEP_DELAY."""

import os

from config.settings.base import *  # noqa: F403

FOLLOWUP_SWEEP_STEP_DELAY = float(os.environ.get("FOLLOWUP_SWEEP_STEP_DELAY", "0"))
