"""Messages per second through ``inbound_receive`` (issue 13: at least 100 a second per
process on PostgreSQL), the service behind ``receive_email``, the IMAP poll and the drop
folder.

Runs on a database of its own, which it migrates and fills with a small world of its own
(it needs nothing from bench/generate.py):

    createdb -h 127.0.0.1 -U postgres portal_bench_inbound
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_inbound python bench/inbound.py

1. ``migrate``; then, once, 20 organizations ``inbound-bench-NN``, each with two designated
   contacts and a read-only member; on every run, 10 new cases for each, opened through
   ``case_open`` as in the portal.
2. Builds the messages as mail clients send them (a reply with the quoted email below it,
   about 2 KB), in a fixed mix per 20: 16 replies from designated contacts (posted; every
   eighth with a PNG and a log file), then one each of: no case reference (answered), a
   stranger (refused, answered), a read-only member (refused, answered), an out-of-office
   auto-reply (ignored). Replies go round the 200 cases.
3. Times ``inbound_receive`` on each message, one after the other in this process, as the
   pipe and the sweeps call it: store, parse, lock, match, check the sender, post, answer.
4. Times a second delivery of the first 500 messages: the duplicate path (stored already,
   nothing posted).

Prints messages per second, p50 and p99 per message, per outcome, and the SQL statements
of one message of each kind. Settings as a worker runs them (DEBUG off). The outbox's
doorbell (a Celery task per answer) is left out, as in bench/followups_sweep.py: the figure
is the service's own work. Attachments go to a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.admin_list import percentile
from bench.common import require_postgres, setup_django

ORGANIZATIONS = 20
CASES_PER_ORGANIZATION = 10
MIX = ("reply",) * 16 + ("no_reference", "stranger", "read_only", "auto_reply")
QUOTED = "\n".join(
    f"> {line}"
    for line in (
        "Customer Care wrote on Monday:",
        "",
        "We looked at the traces you sent. The transfer fails when the target queue has",
        "no agent logged in and the overflow points back to the same queue. Could you",
        "send the call logs of a failed transfer, with the time and the caller's number?",
        "",
        "Reply to this email to add an update to the case; keep the reference in the",
        "subject. For a critical issue, call Customer Care.",
    )
    * 4
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(30_000)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def world() -> list[tuple[object, list[str], str]]:
    """(case, its designated contacts' addresses, a read-only member's address) for every
    bench case. The organizations and people are created on the first run; the cases are
    opened afresh on every run, so a case's history and search document are as long as a
    real case's (some ten updates in a run), not grown by every earlier run."""
    from accounts.models import AccessLevel, Deployment, Membership, Organization, User
    from cases.models import Case, CloudService
    from cases.services import CaseInput, case_open
    from core.tenancy import scopes_disabled, tenant_scope

    rows = []
    service = CloudService.objects.order_by("slug").first()
    with scopes_disabled():
        for index in range(ORGANIZATIONS):
            slug = f"inbound-bench-{index:02d}"
            organization, _ = Organization.objects.get_or_create(
                slug=slug, defaults={"name": f"Inbound Bench {index:02d}"}
            )
            people = {}
            for local, level in (
                ("dc1", AccessLevel.DESIGNATED_CONTACT),
                ("dc2", AccessLevel.DESIGNATED_CONTACT),
                ("reader", AccessLevel.READ_ONLY),
            ):
                email = f"{local}@{slug}.example"
                user, _ = User.objects.get_or_create(
                    email=email, defaults={"display_name": f"{local} {index:02d}"}
                )
                Membership.unscoped.get_or_create(
                    user=user, organization=organization, defaults={"access_level": level}
                )
                people[local] = user
            deployment, _ = Deployment.unscoped.get_or_create(
                organization=organization, code=f"IB{index:02d}", defaults={"name": "Production"}
            )
            cases: list[Case] = []
            with tenant_scope([organization.pk]):
                while len(cases) < CASES_PER_ORGANIZATION:
                    data = CaseInput(
                        organization=organization,
                        deployment_id=deployment.pk,
                        service_slug=service.slug,
                        type="support",
                        sub_type="problem",
                        implementation_stage="production",
                        subject=f"Transfers fail to the billing queue #{len(cases) + 1}",
                        description="Blind transfers to the billing queue drop the call.",
                        priority="medium",
                        business_impact="Callers have to be called back.",
                    )
                    cases.append(case_open(actor=people["dc1"], data=data, now=datetime.now(UTC)))
            dcs = [people["dc1"].email, people["dc2"].email]
            rows += [(case, dcs, people["reader"].email) for case in cases]
    return rows


def build(kind: str, n: int, cases: list, run: str) -> bytes:
    from cases.references import reference_token, thread_id

    case, dcs, reader = cases[n % len(cases)]
    message = EmailMessage()
    message["To"] = "care@support-portal.example"
    message["Message-ID"] = f"<bench.{run}.{n}@mail.customer.example>"
    message["Date"] = "Mon, 07 Dec 2026 11:41:06 +0000"
    subject = f"RE: [Case {case.number:08d}] {case.subject} [{reference_token(case)}]"
    sender = dcs[n % 2]
    body = f"Here are the logs of the failed transfer at 10:{n % 60:02d}.\n\nDana\n"
    if kind == "no_reference":
        subject, sender = "A new problem with call recording", f"someone{n}@prospect.example"
    elif kind == "stranger":
        sender = f"stranger{n}@elsewhere.example"
    elif kind == "read_only":
        sender = reader
    elif kind == "auto_reply":
        subject = "Automatic reply: " + subject
        message["Auto-Submitted"] = "auto-replied"
        body = "I am out of the office until Monday.\n"
    message["From"] = f"Bench Sender <{sender}>"
    message["Subject"] = subject
    if kind != "no_reference":
        message["In-Reply-To"] = thread_id(case)
        message["References"] = thread_id(case)
    message.set_content(f"{body}\n-----Original Message-----\n{QUOTED}\n")
    if kind == "reply" and n % 8 == 0:
        message.add_attachment(PNG, maintype="image", subtype="png", filename="screen.png")
        log_file = b"10:02:11 transfer to billing: no agent, overflow loop\n" * 40
        message.add_attachment(log_file, maintype="text", subtype="plain", filename="call.log")
    return bytes(message)


def statements(raw: bytes) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbound.services import inbound_receive

    with CaptureQueriesContext(connection) as queries:
        inbound_receive(raw, transport="pipe")
    return len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages to time (2,000)")
    parser.add_argument("--repeat", type=int, default=500, help="second deliveries (500)")
    args = parser.parse_args()
    require_postgres()
    os.environ.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            "MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-inbound-media-"),
        }
    )
    setup_django()

    from django.core.management import call_command
    from django.db import connection

    from inbound.models import InboundMessage
    from inbound.services import inbound_receive

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    cases = world()
    elapsed = time.monotonic() - started
    log(f"{len(cases)} open cases in {ORGANIZATIONS} organizations ({elapsed:.1f} s)")
    run = secrets.token_hex(4)
    kinds = [MIX[n % len(MIX)] for n in range(args.messages)]
    messages = [build(kind, n, cases, run) for n, kind in enumerate(kinds)]
    size = statistics.mean(len(m) for m in messages)
    log(f"Built {len(messages):,} messages, {size / 1024:.1f} KB on average")

    with mock.patch("core.outbox.services._ring"):
        # Warm up (imports, first connection, prepared templates): not timed.
        for n, kind in enumerate(MIX):
            inbound_receive(build(kind, 10_000_000 + n, cases, run), transport="pipe")
        per_kind = {
            kind: statements(build(kind, 20_000_000 + n, cases, run))
            for n, kind in enumerate(dict.fromkeys(MIX))
        }
        seconds: dict[str, list[float]] = defaultdict(list)
        outcomes: dict[str, int] = defaultdict(int)
        begin = time.perf_counter()
        for kind, raw in zip(kinds, messages, strict=True):
            t0 = time.perf_counter()
            message = inbound_receive(raw, transport="pipe")
            seconds[kind].append(time.perf_counter() - t0)
            outcomes[str(message.outcome)] += 1
        total = time.perf_counter() - begin
        repeat = messages[: args.repeat]
        begin = time.perf_counter()
        for raw in repeat:
            inbound_receive(raw, transport="pipe")
        repeat_total = time.perf_counter() - begin

    every = [s for values in seconds.values() for s in values]
    print()
    print(
        f"{len(messages):,} messages in {total:.1f} s: {len(messages) / total:.1f} messages/s "
        f"(one process; p50 {percentile(every, 50) * 1000:.1f} ms, "
        f"p99 {percentile(every, 99) * 1000:.1f} ms); target >= 100/s"
    )
    print(f"Outcomes: {dict(sorted(outcomes.items()))}")
    print()
    print("| message | count | p50 ms | p99 ms | SQL statements |")
    print("|---|---:|---:|---:|---:|")
    for kind in dict.fromkeys(MIX):
        values = seconds[kind]
        print(
            f"| {kind} | {len(values):,} | {percentile(values, 50) * 1000:.1f} | "
            f"{percentile(values, 99) * 1000:.1f} | {per_kind[kind]} |"
        )
    print()
    print(
        f"Second delivery of {len(repeat):,} messages (duplicates, nothing posted): "
        f"{len(repeat) / repeat_total:.1f} messages/s"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inbound_inboundmessage")
        stored = cursor.fetchone()[0]
    print(f"{stored:,} messages stored in the database; load average {os.getloadavg()[0]:.2f}")
    assert InboundMessage.objects.filter(outcome="received").count() == 0, "unhandled messages"


if __name__ == "__main__":
    main()
