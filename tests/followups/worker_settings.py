"""Settings of the Celery worker that test_worker_kill starts and kills: the test settings,
plus a module the worker imports at start (``tests.followups.slow_worker``) that makes each
follow-up step keep its transaction open a moment, so the kill lands in the middle of one.
The product has no such hook: the slowing wraps the step from outside."""

from config.settings.test import *  # noqa: F403

CELERY_IMPORTS = ["tests.followups.slow_worker"]
