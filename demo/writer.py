"""Writing demo and scale cases: planned cases (``demo.planner``) with their feeds and
histories, inserted in bulk over the demo organizations, then given their service-level due
times as the services would (S-8). ``seed_demo`` adds a small spread once; ``--cases N``
generates more."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from accounts.models import AccessLevel, Deployment, Membership, Organization, User
from cases.models import STATUS_OF, Case, CaseEvent, CaseUpdate, Channel, CloudService
from cases.numbering import next_case_number
from cases.search import CONFIG, MAX_INDEXED_CHARS
from cases.services.history import case_events_record_bulk
from cases.sla import sla_recompute_for_organization
from core.tenancy import scopes_disabled
from demo.planner import PlannedCase, plan_case

BATCH = 5000
SPREAD_CASES = 40
SPREAD_DAYS = 90
DEMO_ORG_SLUGS = ("acme", "globex", "initech")
CARE_EMAILS = ("analyst@care.example", "manager@care.example")


def reserve_case_numbers(count: int) -> list[int]:
    """``count`` new case numbers in one round trip (C-1: the same sequence or counter the
    services draw from, so later cases continue after them)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval('cases_case_number_seq') FROM generate_series(1, %s)", [count]
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute("UPDATE cases_casenumbercounter SET last = last + %s WHERE id = 1", [count])
        if cursor.rowcount == 0:
            # No counter row (a flushed database): the services' numbering recreates it
            # above every number in use; the rest of the block follows it.
            first = next_case_number()
            cursor.execute(
                "UPDATE cases_casenumbercounter SET last = last + %s WHERE id = 1", [count - 1]
            )
            return list(range(first, first + count))
        cursor.execute("SELECT last FROM cases_casenumbercounter WHERE id = 1")
        last = int(cursor.fetchone()[0])
    return list(range(last - count + 1, last + 1))


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    deployment_ids: tuple[int, ...]
    contact_ids: tuple[int, ...]  # designated contacts


def _demo_tenants() -> list[Tenant]:
    tenants = []
    for org in Organization.objects.filter(slug__in=DEMO_ORG_SLUGS).order_by("slug"):
        deployments = tuple(
            Deployment.objects.filter(organization=org, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        contacts = tuple(
            Membership.objects.filter(
                organization=org,
                access_level=AccessLevel.DESIGNATED_CONTACT,
                user__is_active=True,
            )
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if deployments and contacts:
            tenants.append(Tenant(org.pk, deployments, contacts))
    return tenants


def _care_ids() -> list[int]:
    ids = list(
        User.objects.filter(email__in=CARE_EMAILS, is_active=True)
        .order_by("email")
        .values_list("pk", flat=True)
    )
    if not ids:
        raise RuntimeError("The demo care staff are missing: run seed_demo first.")
    return ids


def _opened_times(rng: random.Random, count: int, now: datetime, days: int) -> list[datetime]:
    # Weighted to the recent past, as support volume is; at least a minute old.
    return sorted(
        now - timedelta(days=days * (rng.random() ** 1.6), minutes=1) for _ in range(count)
    )


def _batches(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def write_cases(
    *,
    plans: Sequence[tuple[PlannedCase, Tenant, random.Random]],
    services: dict[str, tuple[int, int]],
    care_ids: Sequence[int],
) -> int:
    """Insert planned cases with their feeds and histories: three bulk inserts and, on
    PostgreSQL, one statement that builds the search documents."""
    numbers = reserve_case_numbers(len(plans))
    cases = []
    chosen = []
    for (plan, tenant, rng), number in zip(plans, numbers, strict=True):
        contact_id = rng.choice(tenant.contact_ids)
        care_id = rng.choice(care_ids)
        service_id, group_id = services[plan.service_slug] if plan.service_slug else (None, None)
        case = Case(
            organization_id=tenant.organization_id,
            number=number,
            deployment_id=rng.choice(tenant.deployment_ids),
            service_id=service_id,
            product_group_id=group_id,
            contact_id=contact_id,
            owner_id=care_id if plan.owned else None,
            **plan.fields,
        )
        cases.append(case)
        chosen.append((contact_id, care_id))
    Case.unscoped.bulk_create(cases, batch_size=BATCH)

    updates = []
    for case, (plan, _, _), (contact_id, care_id) in zip(cases, plans, chosen, strict=True):
        for u in plan.updates:
            updates.append(
                CaseUpdate(
                    organization_id=case.organization_id,
                    case_id=case.pk,
                    author_id=care_id if u.by_care else contact_id,
                    body=u.body,
                    is_internal=u.internal,
                    by_care=u.by_care,
                    channel=Channel.PORTAL if not u.by_care else Channel.ADMIN,
                    created_at=u.at,
                )
            )
    CaseUpdate.unscoped.bulk_create(updates, batch_size=BATCH)

    events = []
    position = 0
    for case, (plan, _, _), (contact_id, care_id) in zip(cases, plans, chosen, strict=True):
        first = position
        position += len(plan.updates)
        for e in plan.events:
            after = dict(e.after)
            if after.get("owner") == "care":
                after["owner"] = care_id
            if e.update_index is not None:
                after["update"] = updates[first + e.update_index].pk
            events.append(
                CaseEvent(
                    organization_id=case.organization_id,
                    case_id=case.pk,
                    actor_id=(None if e.by_care is None else care_id if e.by_care else contact_id),
                    kind=e.kind,
                    channel=(
                        case.channel
                        if e.kind == CaseEvent.Kind.OPENED
                        else Channel.ADMIN
                        if e.by_care
                        else Channel.PORTAL
                    ),
                    before=e.before,
                    after=after,
                    internal=e.internal,
                    created_at=e.at,
                )
            )
    case_events_record_bulk(events=events, batch_size=BATCH)
    build_search_documents([c.pk for c in cases])
    return len(cases)


def build_search_documents(case_ids: Sequence[int]) -> None:
    """One statement that sets the search document (C-14) of these cases from their subject,
    description and public updates, as the services build it one update at a time."""
    if connection.vendor != "postgresql" or not case_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_case AS c
            SET search_vector = to_tsvector(%s::regconfig, left(
                c.subject || E'\\n' || c.description || coalesce(E'\\n' || u.body, ''), %s))
            FROM unnest(%s::bigint[]) AS ids(id)
            LEFT JOIN (
                SELECT case_id, string_agg(body, E'\\n' ORDER BY created_at, id) AS body
                FROM cases_caseupdate
                WHERE NOT is_internal AND case_id = ANY(%s::bigint[])
                GROUP BY case_id
            ) AS u ON u.case_id = ids.id
            WHERE c.id = ids.id
            """,
            [CONFIG, MAX_INDEXED_CHARS, list(case_ids), list(case_ids)],
        )


def _service_map() -> tuple[dict[str, tuple[int, int]], list[tuple[str, str]]]:
    rows = list(
        CloudService.objects.filter(is_active=True)
        .order_by("slug")
        .values_list("slug", "name", "pk", "product_group_id")
    )
    if not rows:
        raise RuntimeError("No cloud services: run the migrations first.")
    return {slug: (pk, group) for slug, _, pk, group in rows}, [(s, n) for s, n, _, _ in rows]


def seed_cases(*, count: int, now: datetime, stdout=None, seed: int | None = None) -> int:
    """Generate ``count`` cases over the demo organizations, opened over the last ~90 days,
    with their feeds and histories. Returns how many were created."""
    if count <= 0:
        return 0
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    made = 0
    with scopes_disabled():
        tenants = _demo_tenants()
        if not tenants:
            raise RuntimeError("The demo organizations are missing: run seed_demo first.")
        care_ids = _care_ids()
        services, service_names = _service_map()
        opened = _opened_times(rng, count, now, SPREAD_DAYS)
        # Every sub-status appears at least once, whatever the count.
        forced = list(STATUS_OF) if count >= len(STATUS_OF) else []
        for size in _batches(count, BATCH):
            with transaction.atomic():
                plans = []
                for opened_at in opened[made : made + size]:
                    target = forced.pop() if forced else None
                    chatter = 10 if rng.random() < 0.01 else None
                    plan = plan_case(
                        rng,
                        opened_at=opened_at,
                        now=now,
                        services=service_names,
                        target=target,
                        chatter=chatter,
                    )
                    plans.append((plan, rng.choice(tenants), rng))
                made += write_cases(plans=plans, services=services, care_ids=care_ids)
            if stdout is not None and count > BATCH:
                stdout.write(f"  {made} of {count} cases written")
        _recompute_service_levels(tenants, now=now)
    return made


def _recompute_service_levels(tenants: Sequence[Tenant], *, now: datetime) -> None:
    """Give the open cases their service-level due times from their history, as the
    services do case by case (S-8): the care queues then show real due and at-risk cases."""
    for organization in Organization.objects.filter(pk__in=[t.organization_id for t in tenants]):
        sla_recompute_for_organization(organization=organization, now=now)


def seed_demo_spread(*, now: datetime, stdout=None) -> int:
    """The small realistic spread that ``seed_demo`` adds on its first run: every sub-status,
    feeds from both sides, internal notes. Skipped (returns 0) once the demo organizations
    have cases, so running ``seed_demo`` again changes nothing."""
    with scopes_disabled():
        org_ids = list(
            Organization.objects.filter(slug__in=DEMO_ORG_SLUGS).values_list("pk", flat=True)
        )
        if not org_ids or Case.objects.filter(organization_id__in=org_ids).exists():
            return 0
    made = seed_cases(count=SPREAD_CASES, now=now, stdout=None, seed=20240901)
    if stdout is not None:
        stdout.write(f"{made} demo cases added to the demo organizations.")
    return made
