"""Latency of the care workspace's case list (issue 4) against a big PostgreSQL database.

Runs in-process with Django's test client, signed in as the bench world's care analyst,
one request at a time: the figures are the server-side time of a request (queries,
rendering), without a network or concurrency. For each scenario it prints p50 and p99
latency, the SQL queries of one request, the rows shown and the total the list reports.
Every request writes an audit row; the whole run happens inside one transaction that is
rolled back at the end, so the database is left as it was.

The data comes from bench/generate.py (1,000,000 cases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/generate.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/admin_list.py

Options: --requests N per scenario, --only a,b to pick scenarios, --explain to print the
plan (EXPLAIN ANALYZE) of each scenario's slowest query.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BIG_ORG, CARE_EMAIL, require_postgres, setup_django

HOST = "testserver"


# Position of "modified_at" in the case list's columns, counted from 1 as the admin does.
MODIFIED_COLUMN = 8


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def scenarios() -> dict[str, str]:
    """Name → URL. The default queue and a filtered one first (the acceptance figures)."""
    from django.urls import reverse

    from accounts.models import Organization
    from cases.models import Case, CloudService, ProductGroup

    changelist = reverse("admin:cases_case_changelist")
    group = ProductGroup.objects.order_by("name").first()
    service = CloudService.objects.order_by("name").first()
    big = Organization.objects.get(slug=BIG_ORG)
    number = Case.unscoped.order_by("-number").values_list("number", flat=True)[5000]
    return {
        "default": changelist,
        "filtered": f"{changelist}?queue=open&priority__exact=high&service__id__exact={service.pk}",
        "all_open": f"{changelist}?queue=open",
        "mine": f"{changelist}?queue=mine",
        "unassigned": f"{changelist}?queue=unassigned",
        "awaiting": f"{changelist}?queue=awaiting",
        "group_queue": f"{changelist}?queue=group-{group.slug}",
        "organization": f"{changelist}?organization={big.pk}&queue=open",
        # The "Modified" column, by position (the admin's o= parameter counts from 1).
        "by_modified": f"{changelist}?queue=open&o=-{MODIFIED_COLUMN}",
        "search_number": f"{changelist}?q={number:08d}",
        "search_words": f"{changelist}?q=transfer",
        "page_20": f"{changelist}?queue=open&p=20",
        "home": reverse("admin:cases_case_home"),
    }


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure(client, url: str, requests: int, warmup: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url)
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    context = response.context
    cl = context.get("cl") if context else None
    shown = len(cl.result_list) if cl else len(context.get("my_cases", []))
    if cl is None:
        total = "—"
    elif cl.paginator.is_estimate:
        total = f"~{cl.result_count}"
    elif cl.paginator.is_capped:
        total = f">{cl.paginator.cap}"
    else:
        total = str(cl.result_count)
    slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))
    return {
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "mean": statistics.fmean(latencies) * 1000,
        "queries": len(captured.captured_queries),
        "shown": shown,
        "total": total,
        "slowest_sql": slowest["sql"],
        "slowest_ms": float(slowest["time"]) * 1000,
        "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30, help="measured requests each")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured requests first")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--explain", action="store_true", help="plan of each slowest query")
    args = parser.parse_args()
    require_postgres()
    # Production-like rendering (no template debugging); the test client needs its host.
    os.environ.update({"DEBUG": "0", "SECURE_SSL_REDIRECT": "0", "ALLOWED_HOSTS": HOST})
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 60)
    setup_django()

    from django.conf import settings

    # The manifest storage of DEBUG off needs collectstatic; the file names do not matter
    # here (before first use, the lazy storage reads this).
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment

    from accounts.models import User

    setup_test_environment()  # response.context for the figures of each scenario
    analyst = User.objects.get(email=CARE_EMAIL)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'cases_case'")
        estimate = cursor.fetchone()[0]
    print(f"cases (planner estimate): {estimate:,}; analyst: {analyst.email}")
    rows = []
    with transaction.atomic():
        client = Client(HTTP_HOST=HOST)
        client.force_login(analyst)
        urls = scenarios()
        wanted = [n for n in args.only.split(",") if n] or list(urls)
        for name in wanted:
            result = measure(client, urls[name], args.requests, args.warmup)
            rows.append((name, result))
            print(
                f"{name:<14} p50 {result['p50']:8.1f} ms  p99 {result['p99']:8.1f} ms  "
                f"SQL/req {result['queries']:3}  rows {result['shown']:3}  "
                f"total {result['total']:>9}  SQL {result['sql_ms']:7.1f} ms "
                f"(slowest {result['slowest_ms']:.1f})",
                flush=True,
            )
            if args.explain:
                print(explain(result["slowest_sql"], None), "\n", flush=True)
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
