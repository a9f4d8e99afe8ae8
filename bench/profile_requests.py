"""Time one request of each scenario in this process, without a server or concurrency.

The throughput of ``bench/run.py`` depends on everything else the machine runs; the work of
one request does not. This script sends N requests of each scenario through Django's test
client against DATABASE_URL and prints, per scenario, the CPU time of this process (min and
median, in ms), the part of it spent rendering templates (median), the wall time spent
waiting for SQL (median), the median wall time of the request and the SQL queries of one
request. With ``--profile``
it also prints the 30 most expensive functions of one scenario (cProfile, CPU time).
The help page is the floor every signed-in page pays: middleware, session, the user and
the base layout.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/profile_requests.py
    python bench/profile_requests.py -n 50 --only all_cases,create --profile all_cases

Settings are the production ones (DEBUG off, a throwaway SECRET_KEY), except static files:
their URLs come from the plain storage, so no collected manifest is needed. With
``--redis-url`` (default: redis://127.0.0.1:6379/14 when it answers) the cache, the sessions
and the Celery broker use Redis as in production; the script empties that Redis database's
task queue at the end, since no worker sends the acknowledgement emails of the cases it opens.

The user is a designated contact: ``--user`` (an email), else dc1 of bench-0001 (the
``bench/generate.py`` world), else dc1 of the demo organization acme (``seed_demo``). The
create scenario really opens cases (``POST /api/v1/cases/``, token authentication) and
commits them, as the load benchmark does.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import FILTERS, KEYWORDS  # the same requests as the load run

SCENARIOS = (
    "help_page",
    "my_cases",
    "all_cases",
    "all_cases_filtered",
    "search",
    "case_detail",
    "api_list",
    "create",
)
HOST = "testserver"


def _redis_answers(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # no server, or no client library: run without Redis
        return False


def configure(redis_url: str) -> None:
    os.environ.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
        os.environ["CELERY_BROKER_URL"] = redis_url
    from bench.common import setup_django

    setup_django()
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pick_user(email: str | None):
    from accounts.models import User

    candidates = [email] if email else ["dc1@bench-0001.example", "dc1@acme.example"]
    for candidate in candidates:
        user = User.objects.filter(email__iexact=candidate).first()
        if user is not None:
            return user
    sys.exit(f"No user {' or '.join(candidates)}: run bench/generate.py or seed_demo first.")


def world(user) -> dict:
    """The user's organization, a deployment, an API token and a case with a long feed."""
    from django.db.models import Count, Q
    from rest_framework.authtoken.models import Token

    from accounts.models import AccessLevel, Deployment, Membership
    from cases.models import Case
    from core.tenancy import scopes_disabled

    with scopes_disabled():
        membership = (
            Membership.objects.filter(user=user, access_level=AccessLevel.DESIGNATED_CONTACT)
            .select_related("organization")
            .order_by("organization__slug")
            .first()
        )
        if membership is None:
            sys.exit(f"{user.email} is no designated contact.")
        org = membership.organization
        deployment = Deployment.objects.filter(organization=org).order_by("pk").first()
        case_number = (
            Case.objects.filter(organization=org)
            .annotate(n=Count("updates", filter=Q(updates__is_internal=False)))
            .order_by("-n")
            .values_list("number", flat=True)
            .first()
        )
        token, _ = Token.objects.get_or_create(user=user)
    return {
        "org_slug": org.slug,
        "deployment_id": deployment.pk,
        "case_number": case_number,
        "token": token.key,
    }


def requests_of(name: str, info: dict):
    """(method, path, body) of the i-th request of a scenario."""

    def build(i: int):
        if name == "help_page":  # the floor: middleware, session, user and the layout
            return "GET", "/help/", None
        if name == "my_cases":
            return "GET", "/cases/mine/", None
        if name == "all_cases":
            return "GET", "/cases/all/", None
        if name == "all_cases_filtered":
            return "GET", f"/cases/all/?{urlencode(FILTERS[i % len(FILTERS)])}", None
        if name == "search":
            return "GET", f"/cases/all/?{urlencode({'q': KEYWORDS[i % len(KEYWORDS)]})}", None
        if name == "case_detail":
            return "GET", f"/cases/{info['case_number']:08d}/", None
        if name == "api_list":
            return "GET", "/api/v1/cases/", None
        body = {
            "organization": info["org_slug"],
            "deployment": info["deployment_id"],
            "service": ("routing", "ivr", "telephony", "call-recording")[i % 4],
            "type": "support",
            "sub_type": "problem",
            "implementation_stage": "production",
            "subject": f"Calls drop after transfer to queue {i % 99 + 1}",
            "description": "Since 09:10 UTC calls transferred to the billing queue drop.",
            "priority": ("high", "medium", "low")[i % 3],
            "business_impact": "Customers call back; agents lose time.",
        }
        return "POST", "/api/v1/cases/", json.dumps(body)

    return build


def client_for(name: str, user, info: dict):
    from django.test import Client

    client = Client(HTTP_HOST=HOST)
    if name in ("api_list", "create"):
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {info['token']}"
    else:
        client.force_login(user)
    return client


def send(client, request) -> int:
    method, path, body = request
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data=body, content_type="application/json")
    expected = 201 if method == "POST" else 200
    if response.status_code != expected:
        raise RuntimeError(f"{method} {path}: HTTP {response.status_code}")
    return len(response.content)


class Split:
    """CPU time spent rendering templates (outermost render only) and wall time in SQL."""

    def __init__(self) -> None:
        self.template = 0.0
        self.sql = 0.0
        self._depth = 0

    def install(self) -> None:
        from django.template.backends.django import Template

        original = Template.render
        split = self

        def render(template, context=None, request=None):
            split._depth += 1
            started = time.process_time()
            try:
                return original(template, context, request)
            finally:
                split._depth -= 1
                if not split._depth:
                    split.template += time.process_time() - started

        Template.render = render

    def sql_wrapper(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql += time.perf_counter() - started


SPLIT = Split()


def measure(name: str, user, info: dict, n: int, warmup: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(name, user, info)
    build = requests_of(name, info)
    for i in range(warmup):
        send(client, build(i))
    cpu, wall, template, sql = [], [], [], []
    with connection.execute_wrapper(SPLIT.sql_wrapper):
        for i in range(n):
            request = build(i)
            SPLIT.template = SPLIT.sql = 0.0
            c0, w0 = time.process_time(), time.perf_counter()
            send(client, request)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            template.append(SPLIT.template * 1000)
            sql.append(SPLIT.sql * 1000)
    with CaptureQueriesContext(connection) as queries:
        size = send(client, build(0))
    return {
        "cpu_min": min(cpu),
        "cpu_median": statistics.median(cpu),
        "template": statistics.median(template),
        "sql": statistics.median(sql),
        "wall_median": statistics.median(wall),
        "queries": len(queries.captured_queries),
        "bytes": size,
    }


def profile(name: str, user, info: dict, n: int, sort: str) -> str:
    client = client_for(name, user, info)
    build = requests_of(name, info)
    for i in range(3):
        send(client, build(i))
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for i in range(n):
        send(client, build(i))
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(30)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", default="", help=f"comma-separated subset of {SCENARIOS}")
    parser.add_argument("--user", default=None, help="email of a designated contact")
    parser.add_argument("--profile", default="", help="a scenario to profile after timing")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumtime)")
    parser.add_argument(
        "--redis-url", default=None, help="Redis for cache, sessions, broker ('' for none)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (the database to read and to open cases in).")
    redis_url = args.redis_url
    if redis_url is None:
        redis_url = "redis://127.0.0.1:6379/14"
        if not _redis_answers(redis_url):
            redis_url = ""
    configure(redis_url)
    from core.tenancy import scopes_disabled

    with scopes_disabled():
        user = pick_user(args.user)
    info = world(user)
    names = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        sys.exit(f"Unknown scenarios: {', '.join(sorted(unknown))}")
    print(f"user {user.email}, organization {info['org_slug']}, redis {redis_url or 'none'}")
    print(
        f"{'scenario':<20} {'cpu min':>8} {'cpu med':>8} {'tmpl med':>9} {'sql wall':>9} "
        f"{'wall med':>9} {'SQL':>4} {'bytes':>7}"
    )
    SPLIT.install()
    try:
        for name in names:
            r = measure(name, user, info, args.n, args.warmup)
            print(
                f"{name:<20} {r['cpu_min']:8.2f} {r['cpu_median']:8.2f} {r['template']:9.2f} "
                f"{r['sql']:9.2f} {r['wall_median']:9.2f} {r['queries']:4d} {r['bytes']:7d}",
                flush=True,
            )
        if args.profile:
            print(profile(args.profile, user, info, args.n, args.sort))
    finally:
        if redis_url and "create" in [*names, args.profile]:
            import redis

            redis.Redis.from_url(redis_url).delete("celery")


if __name__ == "__main__":
    main()
