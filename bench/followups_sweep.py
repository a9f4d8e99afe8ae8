"""Time the follow-up sweep over 100,000 due timers among 1,000,000 cases, and show with
EXPLAIN (ANALYZE) that it reads only due rows, through the partial index.

Runs on the database of bench/generate.py and leaves it as it found it:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/followups_sweep.py

1. Applies the follow-up migrations (``migrate followups``: its own and what they need).
2. Chooses 100,000 open cases: those already waiting for the customer, then others put in
   Info Required for the run. Their rows are copied to a side table first.
3. Loads with COPY 100,000 running timers due for their first reminder, plus background
   rows the sweep must not read: 200,000 stopped timers and 50,000 running ones not yet
   due. ANALYZE.
4. Prints the plan of the sweep's read (``followups.sweep.due_timers``).
5. Times one sweep (reminders: a step, a history event and an outbox email per timer).
6. With ``--close``: makes the same timers due for the close and times a second sweep
   (the case is resolved too: lock, transition, history, final email).
7. Removes everything it added (timers, steps, events, emails: the sweeps run at instants
   no other row has) and puts the cases back from the side table. An interrupted run is
   cleaned up by the next one before it starts.

``--workers 2`` runs two sweeps at once, as two Celery workers would; they share the due
rows through ``skip_locked``.

The outbox normally rings a Celery worker after each commit; ``--doorbell off`` (default)
leaves that out, so the figure is the sweep's own work, ``--doorbell redis`` rings Redis
db 14 (flushed afterwards) as production would.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import copy_in, require_postgres, setup_django

DUE = 100_000
STOPPED = 200_000
NOT_YET_DUE = 50_000
SAVED = "bench_followups_saved_cases"
TIMERS = "bench_followups_timers"
DOORBELL_REDIS = "redis://127.0.0.1:6379/14"

# The sweeps run "at" these instants. No other row carries them, so what the sweeps add is
# found again exactly (the microseconds are the marker).
T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)  # a Monday
SWEEP_REMINDERS = T0 + timedelta(days=3, microseconds=417_001)
SWEEP_CLOSE = T0 + timedelta(days=16, microseconds=417_002)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def table_exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s)", [name])
    return cursor.fetchone()[0] is not None


def clean_up(cursor) -> None:
    """Remove what a run added and restore the cases it changed (also after a crash)."""
    from django.db import connection

    marks = [SWEEP_REMINDERS, SWEEP_CLOSE]
    cursor.execute("DELETE FROM cases_caseevent WHERE created_at = ANY(%s)", [marks])
    events = cursor.rowcount
    cursor.execute("DELETE FROM core_outboxemail WHERE created_at = ANY(%s)", [marks])
    emails = cursor.rowcount
    if table_exists(cursor, TIMERS):
        cursor.execute(
            f"DELETE FROM followups_followupstep WHERE timer_id IN (SELECT id FROM {TIMERS})"
        )
        cursor.execute(f"DELETE FROM followups_followuptimer WHERE id IN (SELECT id FROM {TIMERS})")
        timers = cursor.rowcount
        cursor.execute(f"DROP TABLE {TIMERS}")
    else:
        timers = 0
    restored = 0
    if table_exists(cursor, SAVED):
        columns = [
            c.name
            for c in connection.introspection.get_table_description(cursor, SAVED)
            if c.name != "id"
        ]
        assignments = ", ".join(f'"{c}" = s."{c}"' for c in columns)
        cursor.execute(f"UPDATE cases_case c SET {assignments} FROM {SAVED} s WHERE c.id = s.id")
        restored = cursor.rowcount
        cursor.execute(f"DROP TABLE {SAVED}")
    if events or emails or timers or restored:
        log(
            f"Cleaned up: {timers:,} timers, {events:,} events, {emails:,} emails removed; "
            f"{restored:,} cases restored"
        )


def choose_cases(cursor, due: int) -> list[tuple[int, int, str]]:
    """(case, organization, sub-status) of the cases that get a due timer."""
    cursor.execute(
        """
        SELECT id, organization_id, sub_status FROM cases_case
        WHERE status <> 'closed'
        ORDER BY sub_status IN ('info_required', 'solution_proposed') DESC, id
        LIMIT %s
        """,
        [due],
    )
    chosen = cursor.fetchall()
    if len(chosen) < due:
        sys.exit(f"Only {len(chosen):,} open cases; run bench/generate.py first.")
    cursor.execute(
        f"CREATE TABLE {SAVED} AS SELECT * FROM cases_case WHERE id = ANY(%s)",
        [[row[0] for row in chosen]],
    )
    moved = [row[0] for row in chosen if row[2] not in ("info_required", "solution_proposed")]
    cursor.execute(
        "UPDATE cases_case SET sub_status = 'info_required', status = 'awaiting_info' "
        "WHERE id = ANY(%s)",
        [moved],
    )
    log(f"Chose {due:,} open cases; {len(moved):,} put in Info Required for the run")
    moved_ids = set(moved)
    return [
        (case_id, org_id, "info_required" if case_id in moved_ids else status)
        for case_id, org_id, status in chosen
    ]


def load_timers(cursor, chosen: list[tuple[int, int, str]]) -> None:
    rng = random.Random(5)
    columns = (
        "organization_id, case_id, reason, started_at, reminder1_due_at, reminder2_due_at, "
        "close_due_at, next_due_at, steps_done, stopped_at, stop_reason, created_at"
    )
    buffer = io.StringIO()

    def row(org, case, reason, start, *, next_due="r1", stopped=None, steps=0) -> None:
        r1, r2, close = (start + timedelta(days=d) for d in (2, 7, 14))
        due = {"r1": r1, None: None}[next_due]
        cells = [org, case, reason, start, r1, r2, close, due, steps, stopped, "", start]
        cells = [
            "\\N" if c is None else c.isoformat() if isinstance(c, datetime) else c for c in cells
        ]
        if stopped is not None:
            cells[10] = "customer_responded"
        buffer.write("\t".join(str(c) for c in cells) + "\n")

    for case_id, org_id, status in chosen:
        # Due for the first reminder at the reminder sweep, spread over a day.
        row(org_id, case_id, status, T0 + timedelta(seconds=rng.randrange(86_400)))
    cursor.execute(
        "SELECT id, organization_id FROM cases_case ORDER BY random() LIMIT %s", [STOPPED]
    )
    for case_id, org_id in cursor.fetchall():
        start = T0 - timedelta(days=rng.randrange(1, 700))
        row(
            org_id,
            case_id,
            "info_required",
            start,
            next_due=None,
            stopped=start + timedelta(days=1),
        )
    cursor.execute(
        "SELECT id, organization_id FROM cases_case WHERE status <> 'closed' AND NOT id = ANY(%s) "
        "LIMIT %s",
        [[c[0] for c in chosen], NOT_YET_DUE],
    )
    for case_id, org_id in cursor.fetchall():
        # Running, but due only after both sweeps.
        row(org_id, case_id, "info_required", SWEEP_CLOSE + timedelta(days=rng.randrange(1, 9)))
    buffer.seek(0)
    cursor.execute(f"CREATE TABLE {TIMERS} (id bigint PRIMARY KEY)")
    cursor.execute("SELECT coalesce(max(id), 0) FROM followups_followuptimer")
    before = cursor.fetchone()[0]
    started = time.monotonic()
    copy_in(cursor, f"COPY followups_followuptimer ({columns}) FROM STDIN", buffer)
    cursor.execute(
        f"INSERT INTO {TIMERS} SELECT id FROM followups_followuptimer WHERE id > %s", [before]
    )
    cursor.execute("ANALYZE followups_followuptimer")
    log(
        f"Loaded {len(chosen) + STOPPED + NOT_YET_DUE:,} timers with COPY in "
        f"{time.monotonic() - started:.1f} s ({len(chosen):,} due, {STOPPED:,} stopped, "
        f"{NOT_YET_DUE:,} running but not due)"
    )


def explain(now: datetime, batch: int) -> tuple[str, str]:
    """The plans of the sweep's two queries: the read of due timers, and the lock of one."""
    from django.db import transaction

    from core.tenancy import scopes_disabled
    from followups.sweep import due_timer_for_update, due_timers

    with scopes_disabled():
        read = due_timers(now=now)[:batch]
        read_plan = read.explain(analyze=True, buffers=True)
        # EXPLAIN ANALYZE runs the query, lock included: inside a transaction rolled back.
        with transaction.atomic():
            lock = due_timer_for_update(pk=read[0], now=now)[:1]
            lock_plan = lock.explain(analyze=True, buffers=True)
            transaction.set_rollback(True)
    return read_plan, lock_plan


def _sweep_in_process(now: datetime, batch: int, doorbell: str) -> int:
    """One sweep in a process of its own, as a second Celery worker would run it."""
    from unittest import mock

    require_postgres()
    if doorbell == "redis":
        os.environ["CELERY_BROKER_URL"] = DOORBELL_REDIS
    setup_django()
    from followups.sweep import followup_sweep

    ring = mock.patch("core.outbox.services._ring") if doorbell == "off" else mock.MagicMock()
    with ring:
        return followup_sweep(now=now, batch=batch)


def timed_sweep(label: str, now: datetime, batch: int, workers: int, doorbell: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM followups_followuptimer "
            "WHERE stopped_at IS NULL AND next_due_at IS NOT NULL AND next_due_at <= %s",
            [now],
        )
        due = cursor.fetchone()[0]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        counts = pool.starmap(_sweep_in_process, [(now, batch, doorbell)] * workers)
    seconds = time.monotonic() - started
    performed = sum(counts)
    log(
        f"{label}: {performed:,} of {due:,} due steps in {seconds:.1f} s with {workers} "
        f"sweep(s) at once {counts}, {performed / seconds:,.0f} timers/s, "
        f"{seconds / max(performed, 1) * 1000:.1f} ms per step (one transaction each; "
        f"reads of {batch})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, default=DUE, help=f"due timers ({DUE:,})")
    parser.add_argument("--batch", type=int, default=500, help="timers per round (500)")
    parser.add_argument("--close", action="store_true", help="also time a sweep of closes")
    parser.add_argument("--doorbell", choices=["off", "redis"], default="off")
    parser.add_argument("--workers", type=int, default=1, help="sweeps running at once (1)")
    args = parser.parse_args()
    require_postgres()
    # Production settings, as a worker runs them (DEBUG off: no query log, cached templates);
    # the spawned sweeps inherit the environment.
    os.environ.update(
        {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "127.0.0.1"}
    )
    if args.doorbell == "redis":
        os.environ["CELERY_BROKER_URL"] = DOORBELL_REDIS
    setup_django()

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "followups", verbosity=0)
    with connection.cursor() as cursor:
        clean_up(cursor)
        cursor.execute("SELECT count(*) FROM cases_case")
        log(f"{cursor.fetchone()[0]:,} cases in the database")
    try:
        with connection.cursor() as cursor:
            chosen = choose_cases(cursor, args.due)
            load_timers(cursor, chosen)
        read_plan, lock_plan = explain(SWEEP_REMINDERS, args.batch)
        print(f"\nThe sweep's read of {args.batch} due timers (EXPLAIN ANALYZE, BUFFERS):\n")
        print(read_plan)
        print("\nThe lock of one due timer, once per step:\n")
        print(lock_plan, "\n", flush=True)
        sweep = (args.batch, args.workers, args.doorbell)
        timed_sweep("Reminder sweep", SWEEP_REMINDERS, *sweep)
        if args.close:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE followups_followuptimer SET next_due_at = close_due_at "
                    f"WHERE id IN (SELECT id FROM {TIMERS}) AND stopped_at IS NULL "
                    "AND next_due_at <= %s",
                    [SWEEP_CLOSE],
                )
                cursor.execute("ANALYZE followups_followuptimer")
            timed_sweep("Close sweep", SWEEP_CLOSE, *sweep)
    finally:
        with connection.cursor() as cursor:
            clean_up(cursor)
        if args.doorbell == "redis":
            import redis

            redis.Redis.from_url(DOORBELL_REDIS).flushdb()


if __name__ == "__main__":
    main()
