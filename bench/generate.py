"""Generate the benchmark world in PostgreSQL (DATABASE_URL).

Default: 1,000 customer organizations with two deployments and four people each (two
designated contacts, a read-only and a basic user), one care analyst, and 1,000,000 cases
with about five updates each and their history. One organization (bench-0000) holds
100,000 cases, the size of the export scenario; the rest are spread over the others.

Cases are planned by ``demo.planner.plan_case`` (paths of the real state machine, the same
invariants as the services) and written with COPY. For speed the load drops the secondary
indexes of the three case tables and rebuilds them afterwards (their definitions are kept in
a table until rebuilt, so an interrupted run restores them on the next start), skips foreign
key triggers (superuser only; the rows are consistent by construction) and builds the search
documents in SQL while moving the cases from an unlogged staging table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/generate.py
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_PASSWORD,
    CARE_EMAIL,
    copy_in,
    org_slug,
    person_email,
    require_postgres,
    setup_django,
)

CASE_TABLES = ("cases_case", "cases_caseupdate", "cases_caseevent")
STAGE = "bench_case_stage"
SAVED_INDEXES = "bench_saved_indexes"
PEOPLE = ("dc1", "dc2", "ro", "basic")
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emil", "Fatima", "Gus", "Hana", "Ivan", "Jade")
LAST_NAMES = ("Alvarez", "Brooks", "Chen", "Dubois", "Eriksen", "Fischer", "Gomez", "Haas")
COMPANY_A = ("Blue", "North", "Silver", "Rapid", "Bright", "Summit", "Harbor", "Cedar", "Prime")
COMPANY_B = ("Logistics", "Telecom", "Insurance", "Retail", "Energy", "Health", "Travel", "Bank")
TIME_ZONES = ("America/New_York", "Europe/Berlin", "Europe/London", "Asia/Manila", "UTC")

ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def cell(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":")).translate(ESCAPES)
    return str(value)


class Table:
    """Rows for one table, written with COPY. Columns come from the model, so fields added
    later are filled with their defaults."""

    def __init__(self, model, *, table: str | None = None, skip=(), extra=()) -> None:
        fields = [f for f in model._meta.concrete_fields if f.column not in skip]
        self.table = table or model._meta.db_table
        self.columns = [f.column for f in fields] + list(extra)
        self.defaults = {}
        for f in fields:
            known = f.has_default() or f.null or f.empty_strings_allowed
            default = f.get_default() if known else None
            self.defaults[f.column] = cell(default)
        self.buffer = io.StringIO()
        self.count = 0

    def add(self, values: dict) -> None:
        defaults = self.defaults
        self.buffer.write(
            "\t".join(cell(values[c]) if c in values else defaults[c] for c in self.columns)
        )
        self.buffer.write("\n")
        self.count += 1

    def flush(self, cursor) -> None:
        if not self.buffer.tell():
            return
        self.buffer.seek(0)
        copy_in(cursor, f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer)
        self.buffer = io.StringIO()


def reserve_ids(cursor, table: str, count: int) -> list[int]:
    if count <= 0:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def skip_fk_triggers(cursor) -> None:
    """Updates and events are copied before their cases leave staging, so the foreign key
    triggers must wait: this needs a superuser connection (the bench database's owner
    role on a default install)."""
    try:
        cursor.execute("SET session_replication_role = replica")
    except Exception as exc:
        sys.exit(f"The generator needs a superuser connection to load in bulk: {exc}")


# --- indexes -----------------------------------------------------------------------------


def restore_saved_indexes(cursor) -> None:
    cursor.execute("SELECT to_regclass(%s)", [SAVED_INDEXES])
    if cursor.fetchone()[0] is None:
        return
    cursor.execute(f"SELECT name, definition FROM {SAVED_INDEXES}")
    pending = cursor.fetchall()
    if pending:
        log(f"Rebuilding {len(pending)} indexes kept from an earlier run")
    build_indexes(cursor, pending)
    cursor.execute(f"DROP TABLE {SAVED_INDEXES}")


def drop_secondary_indexes(cursor) -> None:
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {SAVED_INDEXES} (name text PRIMARY KEY, definition text)"
    )
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(CASE_TABLES)],
    )
    indexes = cursor.fetchall()
    for name, definition in indexes:
        cursor.execute(
            f"INSERT INTO {SAVED_INDEXES} VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [name, definition],
        )
        cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    log(f"Dropped {len(indexes)} secondary indexes for the load")


def _build(definitions) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in definitions:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(definition)
    connection.close()


def build_indexes(cursor, definitions) -> None:
    if not definitions:
        return
    started = time.monotonic()
    # Two at a time (one per core): the GIN index and the biggest b-trees dominate.
    halves = [definitions[0::2], definitions[1::2]]
    with multiprocessing.get_context("spawn").Pool(2, initializer=_worker_init) as pool:
        pool.map(_build, halves)
    log(f"Built {len(definitions)} indexes in {time.monotonic() - started:.0f} s")


def _worker_init() -> None:
    require_postgres()
    setup_django()


# --- people ------------------------------------------------------------------------------


def create_people(cursor, *, orgs: int, now: datetime, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts import roles
    from accounts.models import (
        AccessLevel,
        BusinessCalendar,
        Deployment,
        Membership,
        Organization,
        User,
    )

    password = make_password(BENCH_PASSWORD)
    org_ids = reserve_ids(cursor, "accounts_organization", orgs)
    deployment_ids = reserve_ids(cursor, "accounts_deployment", orgs * 2)
    user_ids = reserve_ids(cursor, "accounts_user", orgs * len(PEOPLE))
    tables = {
        "org": Table(Organization),
        "deployment": Table(Deployment),
        "user": Table(User),
        "membership": Table(Membership),
        "calendar": Table(BusinessCalendar),
    }
    membership_ids = reserve_ids(cursor, "accounts_membership", orgs * len(PEOPLE))
    calendar_ids = reserve_ids(cursor, "accounts_businesscalendar", orgs)
    levels = {
        "dc1": AccessLevel.DESIGNATED_CONTACT,
        "dc2": AccessLevel.DESIGNATED_CONTACT,
        "ro": AccessLevel.READ_ONLY,
        "basic": AccessLevel.BASIC,
    }
    created = now - timedelta(days=800)
    for k in range(orgs):
        name = f"{rng.choice(COMPANY_A)} {rng.choice(COMPANY_B)} {k:04d}"
        tables["org"].add(
            {
                "id": org_ids[k],
                "slug": org_slug(k),
                "name": name,
                "kind": Organization.Kind.CUSTOMER,
                "created_at": created,
            }
        )
        for j, (code, label) in enumerate((("PRD", "Production"), ("UAT", "Test Lab"))):
            tables["deployment"].add(
                {
                    "id": deployment_ids[2 * k + j],
                    "organization_id": org_ids[k],
                    "name": f"{name} {label}",
                    "code": f"B{k:04d}-{code}",
                    "is_active": True,
                }
            )
        tables["calendar"].add(
            {
                "id": calendar_ids[k],
                "organization_id": org_ids[k],
                "time_zone": rng.choice(TIME_ZONES),
                "working_days": [0, 1, 2, 3, 4],
                "opens": "09:00",
                "closes": "17:00",
                "holiday_snapshot": {},
                "updated_at": created,
            }
        )
        for j, local in enumerate(PEOPLE):
            index = len(PEOPLE) * k + j
            tables["user"].add(
                {
                    "id": user_ids[index],
                    "password": password,
                    "email": person_email(k, local),
                    "display_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                    "is_staff": False,
                    "is_superuser": False,
                    "is_active": True,
                    "date_joined": created,
                }
            )
            tables["membership"].add(
                {
                    "id": membership_ids[index],
                    "organization_id": org_ids[k],
                    "user_id": user_ids[index],
                    "access_level": levels[local],
                    "created_at": created,
                }
            )
    for key in ("org", "deployment", "user", "membership", "calendar"):
        tables[key].flush(cursor)
    care = User(email=CARE_EMAIL, display_name="Bench Analyst", is_staff=True, password=password)
    care.save()
    care.groups.add(Group.objects.get(name=roles.CARE_ANALYST))
    log(f"Created {orgs} organizations, {orgs * 2} deployments, {orgs * 4 + 1} users")
    return {
        "org_ids": org_ids,
        "deployment_ids": deployment_ids,
        "user_ids": user_ids,
        "care_id": care.pk,
    }


# --- cases -------------------------------------------------------------------------------


def _generate_range(task: dict) -> tuple[int, int, int]:
    """Plan and COPY cases ``start`` … ``stop`` - 1 (run in a worker process)."""
    from django.db import connection

    from cases.models import Case, CaseEvent, CaseUpdate, Channel, CloudService, SubStatus
    from demo.planner import PlannedCase, plan_case

    world = task["world"]
    now = datetime.fromisoformat(task["now"])
    total, days, big_share = task["total"], task["days"], task["big_share"]
    services = list(
        CloudService.objects.order_by("slug").values_list("slug", "name", "pk", "product_group_id")
    )
    service_names = [(s, n) for s, n, _, _ in services]
    service_ids = {s: (pk, group) for s, _, pk, group in services}
    orgs = len(world["org_ids"])
    updates_total = events_total = 0
    with connection.cursor() as cursor:
        skip_fk_triggers(cursor)
        for start in range(task["start"], task["stop"], task["batch"]):
            stop = min(start + task["batch"], task["stop"])
            rng = random.Random(task["seed"] * 1_000_003 + start)
            cases = Table(Case, table=STAGE, skip=("search_vector",), extra=("search_text",))
            updates = Table(CaseUpdate)
            events = Table(CaseEvent)
            plans: list[tuple[int, PlannedCase, int]] = []
            for i in range(start, stop):
                # Opened in index order, so numbers grow with time as they do for real.
                opened_at = now - timedelta(days=days * (1 - (i + rng.random()) / total))
                opened_at = min(opened_at, now - timedelta(minutes=1))
                if i % 250 == 0:  # a case with a long feed (the detail scenario)
                    target = rng.choice(
                        (SubStatus.INVESTIGATION, SubStatus.SOLUTION_PROPOSED, SubStatus.RESOLVED)
                    )
                    chatter = 12
                else:
                    target, chatter = None, rng.choice((0, 1, 1, 2, 2, 3))
                plan = plan_case(
                    rng,
                    opened_at=opened_at,
                    now=now,
                    services=service_names,
                    target=target,
                    chatter=chatter,
                )
                org = 0 if rng.random() < big_share else rng.randrange(1, orgs)
                plans.append((i, plan, org))
            n_updates = sum(len(p.updates) for _, p, _ in plans)
            n_events = sum(len(p.events) for _, p, _ in plans)
            update_ids = iter(reserve_ids(cursor, "cases_caseupdate", n_updates))
            event_ids = iter(reserve_ids(cursor, "cases_caseevent", n_events))
            for i, plan, org in plans:
                case_id = world["case_first_id"] + i
                org_id = world["org_ids"][org]
                contact_id = world["user_ids"][4 * org + rng.randrange(2)]
                care_id = world["care_id"]
                service_id, group_id = (
                    service_ids[plan.service_slug] if plan.service_slug else (None, None)
                )
                cases.add(
                    {
                        **plan.fields,
                        "id": case_id,
                        "organization_id": org_id,
                        "number": world["first_number"] + i,
                        "deployment_id": world["deployment_ids"][2 * org + rng.randrange(2)],
                        "service_id": service_id,
                        "product_group_id": group_id,
                        "contact_id": contact_id,
                        "owner_id": care_id if plan.owned else None,
                        "search_text": plan.public_text,
                    }
                )
                ids = []
                for u in plan.updates:
                    update_id = next(update_ids)
                    ids.append(update_id)
                    updates.add(
                        {
                            "id": update_id,
                            "organization_id": org_id,
                            "case_id": case_id,
                            "author_id": care_id if u.by_care else contact_id,
                            "body": u.body,
                            "is_internal": u.internal,
                            "by_care": u.by_care,
                            "channel": Channel.ADMIN if u.by_care else Channel.PORTAL,
                            "requested_priority": "",
                            "created_at": u.at,
                        }
                    )
                for e in plan.events:
                    after = dict(e.after)
                    if after.get("owner") == "care":
                        after["owner"] = care_id
                    if e.update_index is not None:
                        after["update"] = ids[e.update_index]
                    events.add(
                        {
                            "id": next(event_ids),
                            "organization_id": org_id,
                            "case_id": case_id,
                            "actor_id": None
                            if e.by_care is None
                            else (care_id if e.by_care else contact_id),
                            "kind": e.kind,
                            "channel": plan.fields["channel"]
                            if e.kind == CaseEvent.Kind.OPENED
                            else (Channel.ADMIN if e.by_care else Channel.PORTAL),
                            "before": e.before,
                            "after": after,
                            "internal": e.internal,
                            "created_at": e.at,
                        }
                    )
            cases.flush(cursor)
            updates.flush(cursor)
            events.flush(cursor)
            updates_total += updates.count
            events_total += events.count
            if (stop - task["start"]) % (task["batch"] * 10) == 0 or stop == task["stop"]:
                log(f"  worker {task['worker']}: {stop - task['start']} cases planned and copied")
    connection.close()
    return task["stop"] - task["start"], updates_total, events_total


def _move_from_stage(part: tuple[int, int]) -> None:
    from django.db import connection

    from cases.search import CONFIG, MAX_INDEXED_CHARS

    index, parts = part
    with connection.cursor() as cursor:
        skip_fk_triggers(cursor)
        cursor.execute("SELECT * FROM cases_case LIMIT 0")
        columns = [c.name for c in cursor.description if c.name != "search_vector"]
        listed = ", ".join(columns)
        cursor.execute(
            f"INSERT INTO cases_case ({listed}, search_vector) "
            f"SELECT {listed}, to_tsvector(%s::regconfig, left(search_text, %s)) "
            f"FROM {STAGE} WHERE id %% %s = %s",
            [CONFIG, MAX_INDEXED_CHARS, parts, index],
        )
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=1000)
    parser.add_argument(
        "--big-org-cases", type=int, default=100_000, help="cases of bench-0000 (export size)"
    )
    parser.add_argument("--days", type=int, default=365, help="cases opened over this many days")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reset",
        action="store_true",
        help="empty the organizations, users and cases of this (bench) database first",
    )
    args = parser.parse_args()
    require_postgres()
    setup_django()
    if args.orgs < 2 or args.cases < 1 or args.big_org_cases > args.cases:
        sys.exit("Need at least 2 organizations, 1 case, and --big-org-cases ≤ --cases.")

    from django.core.management import call_command
    from django.db import connection

    from accounts.models import Organization

    started = time.monotonic()
    log("Migrating")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        restore_saved_indexes(cursor)
        if Organization.objects.filter(slug__startswith="bench-").exists():
            if not args.reset:
                sys.exit("The bench data exists already; pass --reset to generate it again.")
            if "bench" not in connection.settings_dict["NAME"]:
                sys.exit("--reset empties tables: only on a database whose name says 'bench'.")
            log("Emptying organizations, users and everything that hangs off them")
            cursor.execute("TRUNCATE accounts_organization, accounts_user CASCADE")
        now = datetime.now(UTC).replace(microsecond=0)
        rng = random.Random(args.seed)
        world = create_people(cursor, orgs=args.orgs, now=now, rng=rng)
        cursor.execute("SELECT nextval('cases_case_number_seq')")
        first_number = cursor.fetchone()[0]
        cursor.execute(
            "SELECT setval('cases_case_number_seq', %s)", [first_number + args.cases - 1]
        )
        cursor.execute("SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))")
        case_first_id = cursor.fetchone()[0]
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), %s)",
            [case_first_id + args.cases - 1],
        )
        world.update(first_number=first_number, case_first_id=case_first_id)
        drop_secondary_indexes(cursor)
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        cursor.execute(
            f"CREATE UNLOGGED TABLE {STAGE} (LIKE cases_case INCLUDING DEFAULTS, search_text text)"
        )
        cursor.execute(f"ALTER TABLE {STAGE} DROP COLUMN search_vector")
    connection.close()

    big_share = (args.big_org_cases / args.cases) if args.cases else 0
    jobs = max(1, args.jobs)
    per_job = -(-args.cases // jobs)
    tasks = [
        {
            "worker": j,
            "start": j * per_job,
            "stop": min(args.cases, (j + 1) * per_job),
            "total": args.cases,
            "days": args.days,
            "big_share": big_share,
            "batch": args.batch,
            "seed": args.seed,
            "now": now.isoformat(),
            "world": world,
        }
        for j in range(jobs)
    ]
    log(f"Planning and copying {args.cases} cases with {jobs} workers")
    phase = time.monotonic()
    context = multiprocessing.get_context("spawn")
    with context.Pool(jobs, initializer=_worker_init) as pool:
        results = pool.map(_generate_range, tasks)
    cases_n = sum(r[0] for r in results)
    updates_n = sum(r[1] for r in results)
    events_n = sum(r[2] for r in results)
    log(
        f"Copied {cases_n} cases, {updates_n} updates, {events_n} events "
        f"in {time.monotonic() - phase:.0f} s"
    )

    log("Moving cases from staging and building their search documents")
    phase = time.monotonic()
    with context.Pool(2, initializer=_worker_init) as pool:
        pool.map(_move_from_stage, [(0, 2), (1, 2)])
    log(f"Cases in place in {time.monotonic() - phase:.0f} s")

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {STAGE}")
        restore_saved_indexes(cursor)
        log("Vacuum and analyze")
        for table in (*CASE_TABLES, "accounts_user", "accounts_membership", "accounts_deployment"):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    log(
        f"Done in {time.monotonic() - started:.0f} s: {args.orgs} organizations, {cases_n} cases, "
        f"{updates_n} updates ({updates_n / max(cases_n, 1):.1f} per case), {events_n} events; "
        f"database size {size}"
    )


if __name__ == "__main__":
    main()
