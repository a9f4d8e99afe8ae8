"""Drive the portal under gunicorn with concurrent clients and print the figures.

Starts gunicorn on 127.0.0.1 (production settings: DEBUG off, a throwaway SECRET_KEY, no
TLS redirects), signs clients in, and runs each scenario with N concurrent keep-alive
clients for a bounded time and number of requests. Prints requests/s and p50/p99 latency per
scenario, the SQL queries one request of each scenario runs (a separate in-process pass with
Django's test client), and the peak memory of an export of 100,000 rows.

The data comes from bench/generate.py (DATABASE_URL must point at that database):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench python bench/run.py

Portal pages are used where they exist (/cases/mine/, /cases/all/, /cases/<number>/,
/cases/all/?q= for keywords, /cases/all/export.xlsx); otherwise, and for creating cases,
the REST API (/api/v1/cases/...) with token authentication.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_PASSWORD,
    BIG_ORG,
    ROOT,
    delete_cases_after,
    person_email,
    require_postgres,
    setup_django,
)

HOST = "127.0.0.1"
OPEN_STATUSES = ("open", "awaiting_info", "service_restored", "solution_proposed")
KEYWORDS = (
    "blind transfer",
    "recording",
    "IVR greeting",
    "outbound campaign",
    "forecast",
    "echo trunk",
    "wrap-up codes",
    "abandoned calls",
    "co-browse",
    "caller ID",
    "adherence",
    "Krakow",
)
FILTERS = (
    {"status": "open", "priority": "high"},
    {"status": "closed", "ordering": "-opened_at"},
    {"type": "service_request"},
    {"priority": "low", "ordering": "number"},
    {"sub_status": "investigation"},
    {"opened_after": "2020-01-01", "status": "awaiting_info"},
)
# Targets of issue 3 (2 cores, 2 gunicorn workers, 8 clients, 1M cases).
TARGETS = {
    "my_cases": ("rps", 160),
    "all_cases": ("rps", 160),
    "all_cases_filtered": ("rps", 160),
    "case_detail": ("rps", 70),
    "search": ("p99", 50),
    "create": ("rps", 135),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- HTTP clients ------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection with a cookie jar or an API token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, response.headers, data

    def login(self, email: str, password: str) -> None:
        status, _, page = self.request("GET", "/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            raise RuntimeError(f"No login form (HTTP {status}).")
        body = urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": email,
                "password": password,
            }
        ).encode()
        status, _, _ = self.request(
            "POST",
            "/accounts/login/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{HOST}:{self.port}/accounts/login/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"Login of {email} failed (HTTP {status}).")


# --- scenarios ---------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    surface: str  # "portal" or "api"
    # (client index, request index) -> (method, path, body, headers)
    build: object
    expect: tuple[int, ...] = (200,)
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    elapsed: float = 0.0
    load: float = 0.0  # 1-minute load average right after the scenario
    # Filled by the wrk driver, which keeps no list of latencies: its own percentiles.
    summary: dict = field(default_factory=dict)
    # CPU seconds the load generator itself used for the measured part.
    client_cpu: float = 0.0


def api_case_body(user: dict, rng: random.Random) -> bytes:
    return json.dumps(
        {
            "organization": user["org_slug"],
            "deployment": user["deployment_id"],
            "service": rng.choice(("routing", "ivr", "telephony", "call-recording")),
            "type": "support",
            "sub_type": "problem",
            "implementation_stage": "production",
            "subject": f"Calls drop after transfer to queue {rng.randint(1, 99)}",
            "description": "Since 09:10 UTC calls transferred to the billing queue drop.",
            "priority": rng.choice(("high", "medium", "low")),
            "business_impact": "Customers call back; agents lose time.",
        }
    ).encode()


def make_scenarios(users: list[dict], big: dict, portal: bool) -> list[Scenario]:
    rng = random.Random(7)
    json_headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def by(client_index: int) -> dict:
        return users[client_index % len(users)]

    def my_cases(ci, ri):
        if portal:
            return "GET", "/cases/mine/", None, {}
        query = urlencode([("mine", "true"), *[("status", s) for s in OPEN_STATUSES]])
        return "GET", f"/api/v1/cases/?{query}", None, {}

    def all_cases(ci, ri):
        return "GET", "/cases/all/" if portal else "/api/v1/cases/", None, {}

    def all_cases_filtered(ci, ri):
        query = urlencode(FILTERS[(ci + ri) % len(FILTERS)])
        return "GET", (f"/cases/all/?{query}" if portal else f"/api/v1/cases/?{query}"), None, {}

    def case_detail(ci, ri):
        user = by(ci)
        number = user["long_cases"][ri % len(user["long_cases"])]
        if portal:
            return "GET", f"/cases/{number:08d}/", None, {}
        return "GET", f"/api/v1/cases/{number:08d}/", None, {}

    def case_feed(ci, ri):
        user = by(ci)
        number = user["long_cases"][ri % len(user["long_cases"])]
        return "GET", f"/api/v1/cases/{number:08d}/updates/", None, {}

    def search(ci, ri):
        # The search box redirects keywords to All Cases with ?q=, where the search runs.
        query = urlencode({"q": KEYWORDS[(ci * 7 + ri) % len(KEYWORDS)]})
        return "GET", (f"/cases/all/?{query}" if portal else f"/api/v1/cases/?{query}"), None, {}

    def create(ci, ri):
        return "POST", "/api/v1/cases/", api_case_body(by(ci), rng), json_headers

    surface = "portal" if portal else "api"
    scenarios = [
        Scenario("my_cases", surface, my_cases),
        Scenario("all_cases", surface, all_cases),
        Scenario("all_cases_filtered", surface, all_cases_filtered),
        Scenario("case_detail", surface, case_detail),
    ]
    if not portal:
        scenarios.append(Scenario("case_feed", "api", case_feed))
    scenarios += [
        Scenario("search", surface, search),
        Scenario("create", "api", create, expect=(201,)),
    ]
    return scenarios


def drive(scenario: Scenario, clients: list[Client], *, seconds: float, max_requests: int):
    """Run the scenario with every client in its own thread until the time or the request
    budget is spent."""
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + seconds

    def worker(index: int, client: Client) -> None:
        n = 0
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= max_requests:
                    return
                issued[0] += 1
            method, path, body, headers = scenario.build(index, n)
            n += 1
            started = time.perf_counter()
            try:
                status, _, data = client.request(method, path, body, headers)
            except Exception as exc:
                status, data = 0, str(exc).encode()
            took = time.perf_counter() - started
            with lock:
                if status in scenario.expect:
                    scenario.latencies.append(took)
                else:
                    scenario.errors += 1
                    if not scenario.first_error:
                        scenario.first_error = f"{status} {path}: {data[:200]!r}"

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(clients)]
    started = time.monotonic()
    cpu = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    scenario.elapsed = time.monotonic() - started
    scenario.client_cpu = time.process_time() - cpu


# --- the wrk driver -----------------------------------------------------------------------

# wrk (a C load generator, Debian package `wrk`) costs the machine far less CPU per request
# than Python threads with http.client, so more of the two cores is left to gunicorn and
# PostgreSQL. The script below sends the scenario's prepared requests round-robin (each
# connection starts at its own place), counts answers whose status is not the expected one
# and prints the figures as one JSON line at the end.
WRK_SCRIPT = r"""
local requests = {}
local expect = %(expect)d
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local raw = {%(requests)s}
  for i, r in ipairs(raw) do
    requests[i] = wrk.format(r[1], r[2], r[3], r[4])
  end
  counter = math.random(#requests)
  unexpected = 0
  first_unexpected = ""
end

function request()
  counter = counter %% #requests + 1
  return requests[counter]
end

function response(status, headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, _)
  local bad, first = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    if first == "" then first = thread:get("first_unexpected") end
  end
  local e = summary.errors
  first = string.gsub(first, '[%%c"\\]', " ")
  io.write(string.format(
    'WRK-JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"mean_us": %%.1f, "unexpected": %%d, "socket_errors": %%d, "first": "%%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, bad, e.connect + e.read + e.write + e.timeout, first))
end
"""


def _lua_string(value: str) -> str:
    return (
        '"'
        + "".join(
            ch if ch.isalnum() or ch in " /?=&%-_.:;,{}[]()+*'" else f"\\{ord(ch):03d}"
            for ch in value
        )
        + '"'
    )


def _lua_request(method: str, path: str, body: bytes | None, headers: dict) -> str:
    header_table = ", ".join(f"[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items())
    body_text = _lua_string(body.decode()) if body else "nil"
    return f"{{{_lua_string(method)}, {_lua_string(path)}, {{{header_table}}}, {body_text}}}"


def client_headers(client: Client) -> dict[str, str]:
    headers = {"Host": f"{HOST}:{client.port}"}
    if client.cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    if client.token:
        headers["Authorization"] = f"Token {client.token}"
    return headers


def drive_wrk(scenario: Scenario, clients: list[Client], *, seconds: float, port: int) -> None:
    """Run the scenario with wrk: as many connections as clients, two threads, for the given
    time. Requests are prepared per client (its cookies or token) and per request index,
    so the mix is the one the Python driver sends."""
    per_client = 200
    raw = []
    for ri in range(per_client):
        for ci, client in enumerate(clients):
            method, path, body, headers = scenario.build(ci, ri)
            raw.append(_lua_request(method, path, body, {**headers, **client_headers(client)}))
    script = WRK_SCRIPT % {"expect": scenario.expect[0], "requests": ",\n".join(raw)}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        out = subprocess.run(
            [
                "wrk",
                "--threads",
                str(min(2, len(clients))),
                "--connections",
                str(len(clients)),
                "--duration",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "60s",
                "--script",
                handle.name,
                f"http://{HOST}:{port}/",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    scenario.client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK-JSON ")), None)
    if out.returncode or line is None:
        raise RuntimeError(f"wrk failed (exit {out.returncode}): {out.stderr or out.stdout}")
    summary = json.loads(line.removeprefix("WRK-JSON "))
    scenario.summary = summary
    scenario.elapsed = summary["duration_us"] / 1e6
    scenario.errors = summary["unexpected"] + summary["socket_errors"]
    if summary["first"]:
        scenario.first_error = summary["first"]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- server ------------------------------------------------------------------------------


def server_env(args) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "CSRF_TRUSTED_ORIGINS": f"http://{HOST}:{args.port}",
            "STATIC_ROOT": args.static_root,
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
        env["CELERY_BROKER_URL"] = args.redis_url
    return env


def start_gunicorn(args) -> subprocess.Popen:
    env = server_env(args)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(300):
        time.sleep(0.2)
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start; see its output above.")
        try:
            conn = http.client.HTTPConnection(HOST, args.port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            continue
    raise RuntimeError("gunicorn did not answer /healthz within a minute.")


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in out.stdout.split()]


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def drop_queued_tasks(redis_url: str) -> None:
    """The cases the run opened queued acknowledgement emails; no worker sends them in a
    benchmark, so the run removes its queue from the broker database it used."""
    if not redis_url:
        return
    import redis

    redis.Redis.from_url(redis_url).delete("celery")


# --- setup and query counts (in this process) --------------------------------------------


def bench_users(count: int) -> tuple[list[dict], dict]:
    """The clients' users (designated contacts of ordinary organizations) with a few cases
    that have at least 20 public updates, and the export user of the big organization."""
    from django.db.models import Count, Q
    from rest_framework.authtoken.models import Token

    from accounts.models import Deployment, Organization, User
    from cases.models import Case
    from core.tenancy import scopes_disabled

    users = []
    with scopes_disabled():
        for k in range(1, count + 1):
            org = Organization.objects.get(slug=f"bench-{k:04d}")
            user = User.objects.get(email=person_email(k, "dc1"))
            long_cases = list(
                Case.objects.filter(organization=org)
                .annotate(n=Count("updates", filter=Q(updates__is_internal=False)))
                .filter(n__gte=20)
                .order_by("-n")
                .values_list("number", flat=True)[:5]
            )
            if not long_cases:
                raise RuntimeError(f"{org.slug} has no case with 20 public updates.")
            deployment = Deployment.objects.filter(organization=org).order_by("pk").first()
            token, _ = Token.objects.get_or_create(user=user)
            users.append(
                {
                    "email": user.email,
                    "user_id": user.pk,
                    "org_slug": org.slug,
                    "deployment_id": deployment.pk,
                    "long_cases": long_cases,
                    "token": token.key,
                }
            )
        big_user = User.objects.get(email=f"dc1@{BIG_ORG}.example")
        big_token, _ = Token.objects.get_or_create(user=big_user)
        big_rows = Case.objects.filter(organization__slug=BIG_ORG).count()
    return users, {"email": big_user.email, "token": big_token.key, "rows": big_rows}


def count_queries(scenarios: list[Scenario], users: list[dict]) -> dict[str, int]:
    """SQL queries of one request of each scenario, through Django's test client."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    counts: dict[str, int] = {}
    user = User.objects.get(email=users[0]["email"])
    for scenario in scenarios:
        client = DjangoClient(HTTP_HOST=HOST)
        if scenario.surface == "portal":
            client.force_login(user)
        else:
            client.defaults["HTTP_AUTHORIZATION"] = f"Token {users[0]['token']}"
        method, path, body, headers = scenario.build(0, 1)
        extra = {}
        if headers.get("Content-Type"):
            extra["content_type"] = headers["Content-Type"]
        try:
            with CaptureQueriesContext(connection) as captured:
                if method == "GET":
                    response = client.get(path)
                else:
                    response = client.post(path, data=body, **extra)
        except Exception as exc:  # reported; the other counts still run
            log(f"Query count of {scenario.name} failed: {exc!r}")
            counts[scenario.name] = -1
            continue
        if hasattr(response, "streaming_content"):
            for _ in response.streaming_content:
                pass
        counts[scenario.name] = (
            len(captured.captured_queries) if response.status_code in scenario.expect else -1
        )
    return counts


def portal_pages_exist(port: int, user: dict) -> bool:
    client = Client(port)
    try:
        client.login(user["email"], BENCH_PASSWORD)
    except RuntimeError:
        return False
    status, _, _ = client.request("GET", "/cases/mine/")
    return status == 200


# --- export ------------------------------------------------------------------------------


def export_over_http(port: int, master: int, big: dict, portal: bool) -> dict:
    """Download the big organization's export and sample the workers' memory meanwhile."""
    client = Client(port)
    if portal:
        client.login(big["email"], BENCH_PASSWORD)
        path = "/cases/all/export.xlsx"
    else:
        client.token = big["token"]
        path = "/api/v1/cases/export.xlsx"
    pids = worker_pids(master)
    before = {pid: rss_mb(pid) for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    status, headers, data = client.request("GET", path)
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    growth = max(peak[pid] - before[pid] for pid in pids)
    return {
        "path": path,
        "status": status,
        "content_type": headers.get("Content-Type"),
        "bytes": len(data),
        "seconds": round(elapsed, 2),
        "worker_rss_before_mb": round(max(before.values()), 1),
        "worker_rss_peak_mb": round(max(peak.values()), 1),
        "worker_rss_growth_mb": round(growth, 1),
    }


def export_in_own_process(big: dict) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "export_memory.py"), "--email", big["email"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        return {"error": out.stderr.strip()[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20, help="time per scenario")
    parser.add_argument("--requests", type=int, default=5000, help="request budget per scenario")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured requests first")
    parser.add_argument(
        "--only", default="", help="comma-separated scenario names (default: all, and export)"
    )
    parser.add_argument("--no-export", action="store_true", help="skip the export scenario")
    parser.add_argument(
        "--surface",
        default="auto",
        choices=("auto", "portal", "api"),
        help="portal pages or REST API for the read scenarios (auto: pages if they exist)",
    )
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/15",
        help="cache and Celery broker for the server, as in production ('' for none)",
    )
    parser.add_argument(
        "--driver",
        default="auto",
        choices=("auto", "wrk", "python"),
        help="load generator: wrk (C, light on CPU) or Python threads (auto: wrk if installed)",
    )
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    if args.driver == "auto":
        args.driver = "wrk" if shutil.which("wrk") else "python"
    elif args.driver == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")
    require_postgres()
    os.environ.setdefault("ALLOWED_HOSTS", f"{HOST},testserver")
    if args.redis_url:
        # The in-process query count pass talks to the same broker as the server.
        os.environ.setdefault("REDIS_URL", args.redis_url)
        os.environ.setdefault("CELERY_BROKER_URL", args.redis_url)
    setup_django()
    load = os.getloadavg()[0]
    if load > 1.0:
        log(
            f"Warning: load average {load:.1f} before the run; other work on this machine "
            "lowers the figures."
        )

    from django.core.management import call_command

    log("Migrating the bench database (new migrations since it was generated)")
    call_command("migrate", verbosity=0)
    log("Preparing users and tokens")
    users, big = bench_users(args.clients)
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
        last_case_id = cursor.fetchone()[0]
    args.static_root = tempfile.mkdtemp(prefix="bench-static-")
    log(f"Starting gunicorn ({args.workers} {args.worker_class} workers) on {HOST}:{args.port}")
    server = start_gunicorn(args)
    results: dict = {
        "clients": args.clients,
        "workers": args.workers,
        "worker_class": args.worker_class,
        "driver": args.driver,
        "scenarios": {},
    }
    try:
        if args.surface == "auto":
            portal = portal_pages_exist(args.port, users[0])
            log("Portal pages found" if portal else "No portal pages yet: using the REST API")
        else:
            portal = args.surface == "portal"
        scenarios = make_scenarios(users, big, portal)
        if args.only:
            wanted = set(args.only.split(","))
            scenarios = [s for s in scenarios if s.name in wanted]
        log("Signing clients in")
        clients = []
        for i in range(args.clients):
            client = Client(args.port)
            if portal:
                client.login(users[i]["email"], BENCH_PASSWORD)
            client.token = None if portal else users[i]["token"]
            clients.append(client)
        api_clients = []
        for i in range(args.clients):
            client = Client(args.port)
            client.token = users[i]["token"]
            api_clients.append(client)
        for scenario in scenarios:
            pool = clients if scenario.surface == "portal" else api_clients
            if args.warmup:
                warm = Scenario(scenario.name, scenario.surface, scenario.build, scenario.expect)
                drive(warm, pool, seconds=30, max_requests=args.warmup)
            log(f"Scenario {scenario.name} ({scenario.surface}, {args.driver})")
            if args.driver == "wrk":
                drive_wrk(scenario, pool, seconds=args.seconds, port=args.port)
            else:
                drive(scenario, pool, seconds=args.seconds, max_requests=args.requests)
            scenario.load = os.getloadavg()[0]
        log("Counting SQL queries per request (in-process test client)")
        queries = count_queries(scenarios, users)
        export = None
        if not args.no_export and (not args.only or "export" in args.only.split(",")):
            log(f"Export of {big['rows']} rows over HTTP")
            export = export_over_http(args.port, server.pid, big, portal)
            log("Export in a process of its own (peak RSS)")
            export["own_process"] = export_in_own_process(big)
            export["rows"] = big["rows"]
    finally:
        stop_gunicorn(server)
        drop_queued_tasks(args.redis_url)
        # The create scenario opened cases in the measured organizations: remove them, so
        # the next run lists, filters and searches the same data.
        with transaction.atomic(), connection.cursor() as cursor:
            removed = delete_cases_after(cursor, last_case_id)
        log(f"Removed the {removed} cases this run opened")
        if removed:
            # What autovacuum would do before long: the removed rows' space is reusable and
            # the pages of the case table count as all-visible again, for index-only scans.
            with connection.cursor() as cursor:
                for table in ("cases_case", "cases_caseupdate", "cases_caseevent"):
                    cursor.execute(f"VACUUM (ANALYZE) {table}")
            log("Vacuumed the case tables")

    print()
    header = f"{'scenario':20} {'surface':7} {'reqs':>6} {'err':>4} {'req/s':>8} "
    header += f"{'p50 ms':>8} {'p99 ms':>8} {'SQL/req':>8} {'client':>7} {'load':>5}  target"
    print(
        f"driver {args.driver}; gunicorn {args.workers} {args.worker_class} workers; "
        f"{args.clients} clients; client = load generator CPU ms per request"
    )
    print(header)
    print("-" * len(header))
    for s in scenarios:
        if s.summary:
            n = s.summary["requests"] - s.summary["unexpected"]
            p50 = s.summary["p50_us"] / 1000
            p99 = s.summary["p99_us"] / 1000
            mean = s.summary["mean_us"] / 1000
        else:
            n = len(s.latencies)
            p50 = percentile(s.latencies, 50) * 1000
            p99 = percentile(s.latencies, 99) * 1000
            mean = statistics.fmean(s.latencies) * 1000 if n else None
        rps = n / s.elapsed if s.elapsed else 0.0
        client_ms = s.client_cpu * 1000 / n if n else 0.0
        target = TARGETS.get(s.name)
        verdict = ""
        if target:
            kind, value = target
            ok = rps >= value if kind == "rps" else p99 <= value
            unit = "req/s ≥" if kind == "rps" else "p99 ms ≤"
            verdict = f"{unit} {value}: {'met' if ok else 'MISSED'}"
        print(
            f"{s.name:20} {s.surface:7} {n:>6} {s.errors:>4} {rps:>8.1f} {p50:>8.1f} "
            f"{p99:>8.1f} {queries.get(s.name, -1):>8} {client_ms:>7.2f} {s.load:>5.1f}  "
            f"{verdict}"
        )
        if s.first_error:
            print(f"    first error: {s.first_error}")
        results["scenarios"][s.name] = {
            "surface": s.surface,
            "requests": n,
            "errors": s.errors,
            "rps": round(rps, 1),
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "mean_ms": round(mean, 1) if mean is not None else None,
            "queries": queries.get(s.name),
            "client_cpu_ms_per_request": round(client_ms, 2),
            "load_after": round(s.load, 2),
        }
    if export:
        own = export["own_process"]
        print()
        print(
            f"export: {export['rows']} rows, HTTP {export['status']}, "
            f"{export['bytes'] / 1e6:.1f} MB in {export['seconds']} s; gunicorn worker RSS "
            f"{export['worker_rss_before_mb']} → peak {export['worker_rss_peak_mb']} MB "
            f"(+{export['worker_rss_growth_mb']} MB)"
        )
        if "error" in own:
            print(f"export in own process failed: {own['error']}")
        else:
            print(
                f"export in its own process: peak RSS {own['peak_rss_mb_after']} MB "
                f"(after start-up {own['peak_rss_mb_before']} MB), {own['seconds']} s; "
                "target < 100 MB: " + ("met" if own["peak_rss_mb_after"] < 100 else "MISSED")
            )
        results["export"] = export
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
