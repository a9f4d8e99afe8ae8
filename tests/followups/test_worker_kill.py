"""A real Celery worker on Redis, killed with SIGKILL in the middle of a follow-up sweep:
nothing lost, nothing doubled (F-6, N-5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.tenancy import scopes_disabled
from followups.models import FollowUpStep
from followups.sweep import followup_sweep
from tests.cases import make_case, migrated_data_restored, postgres_only  # noqa: F401
from tests.followups.helpers import ask, followup_emails, followup_events, steps

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, flushed before and after
BATCH = 5  # timers read at a time; each step is its own transaction
STEP_DELAY = 0.2  # seconds each step's transaction stays open after its work
TIMEOUT = 60


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def quiet_broker():
    from unittest import mock

    with mock.patch("config.celery.app.send_task") as apply_async:
        yield apply_async


def _database_url() -> str:
    db = connection.settings_dict
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def _step_count() -> int:
    with scopes_disabled():
        return FollowUpStep.unscoped.count()


def _wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _other_transactions_open() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
        )
        return cursor.fetchone()[0]


@postgres_only
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
    redis_db, quiet_broker, org_a, dc_a, analyst, tmp_path
):
    # DOMAIN F-6, N-5
    from celery import Celery

    now = timezone.now()
    # Half wait for their first reminder, half for the close: both paths die mid-round.
    cases = [make_case(org_a, dc_a, "investigation") for _ in range(20)]
    for index, case in enumerate(cases):
        ask(case, analyst, now=now - timedelta(days=5 if index % 2 else 30))
    queue = f"followups-fault-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.followups.worker_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SLOW_FOLLOWUP_STEP_SECONDS": str(STEP_DELAY),
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo",
             "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING", "-Q", queue],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        producer = Celery("fault-test", broker=REDIS_URL, set_as_current=False)
        producer.send_task("followups.tasks.sweep_followups", kwargs={"batch": BATCH}, queue=queue)
        producer.close()
        # A few steps committed; the kill lands while a step's transaction is open.
        _wait_for(lambda: _step_count() >= 3 or worker.poll() is not None, "the first steps")
        assert worker.poll() is None, log.read_text()
        _wait_for(lambda: _other_transactions_open() > 0, "a step's open transaction", 10)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)

    # PostgreSQL rolls back the killed worker's open transaction, locks included.
    _wait_for(lambda: _other_transactions_open() == 0, "the killed transaction to end", 20)
    done = _step_count()
    assert 3 <= done < len(cases), "the kill landed mid-batch"
    for case in cases:
        # What survived is complete: a step always has its history and its email.
        assert len(steps(case)) == len(followup_events(case)) == len(followup_emails(case))

    followup_sweep(now=timezone.now())

    for index, case in enumerate(cases):
        expected = 1 if index % 2 else 3
        assert [step for _, step in steps(case)] == [expected], case.pk
        [email] = followup_emails(case)
        assert email.idempotency_key.endswith(f"-{expected}")
        assert len(followup_events(case)) == 1
