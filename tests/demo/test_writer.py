"""Generated demo cases are written with every invariant the services keep (C-1, C-7, C-9,
C-14, C-16)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Max

from accounts.models import AccessLevel, Membership
from cases.models import STATUS_OF, Case, CaseEvent, CaseNumberCounter, CaseUpdate
from cases.numbering import next_case_number
from cases.search import search_cases
from core.tenancy import scopes_disabled
from demo.accounts import seed_people_and_organizations
from demo.writer import SPREAD_CASES, reserve_case_numbers, seed_cases, seed_demo_spread
from tests.factories import CaseFactory

NOW = datetime(2024, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo(db):
    seed_people_and_organizations(password="demo-password-123", now=NOW)


@pytest.mark.django_db
def test_seed_cases_writes_consistent_cases_with_feeds_and_history(demo):
    # DOMAIN C-1 DOMAIN C-7 DOMAIN C-9 DOMAIN C-16
    # when 120 cases are generated
    made = seed_cases(count=120, now=NOW, stdout=StringIO(), seed=3)
    # then they exist with every sub-status, on the demo organizations' designated contacts
    assert made == 120
    with scopes_disabled():
        cases = list(Case.objects.select_related("organization"))
        assert len(cases) == 120
        assert {c.sub_status for c in cases} == set(STATUS_OF)
        contacts = set(
            Membership.objects.filter(access_level=AccessLevel.DESIGNATED_CONTACT).values_list(
                "organization_id", "user_id"
            )
        )
        assert {c.organization.slug for c in cases} <= {"acme", "globex", "initech"}
        for case in cases:
            assert (case.organization_id, case.contact_id) in contacts
            assert case.status == STATUS_OF[case.sub_status]
            assert case.deployment.organization_id == case.organization_id
            assert NOW - timedelta(days=91) <= case.opened_at <= NOW
            if case.is_closed:
                assert case.closed_at is not None and case.closure_reason
            else:
                assert case.closed_at is None and not case.closure_reason
            last_public = CaseUpdate.objects.filter(case=case, is_internal=False).aggregate(
                last=Max("created_at")
            )["last"]
            assert case.modified_at == (last_public or case.opened_at)
            assert CaseEvent.objects.filter(case=case, kind="opened").count() == 1
            assert (
                not CaseUpdate.objects.filter(case=case)
                .exclude(organization_id=case.organization_id)
                .exists()
            )
        # and the feeds hold public updates from both sides and some internal notes
        updates = CaseUpdate.objects.all()
        assert updates.filter(is_internal=False, by_care=True).exists()
        assert updates.filter(is_internal=False, by_care=False).exists()
        assert updates.filter(is_internal=True, by_care=True).exists()
        # and numbers are unique and the counter continues after them (C-1)
        numbers = [c.number for c in cases]
        assert len(set(numbers)) == 120
    assert next_case_number() > max(numbers)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL's")
def test_generated_cases_are_found_by_words_of_their_public_updates(demo):
    # DOMAIN C-14
    seed_cases(count=60, now=NOW, seed=5)
    with scopes_disabled():
        assert not Case.objects.filter(search_vector__isnull=True).exists()
        update = CaseUpdate.objects.filter(is_internal=False, by_care=True).first()
        word = max(update.body.split(), key=len).strip(".,:;!?'()")
        assert update.case in search_cases(Case.objects.all(), word)


@pytest.mark.django_db
def test_spread_is_added_once(demo):
    # given the demo organizations without cases
    # when the spread is seeded twice
    first = seed_demo_spread(now=NOW, stdout=StringIO())
    second = seed_demo_spread(now=NOW, stdout=StringIO())
    # then the first run adds every sub-status and the second adds nothing
    assert first == SPREAD_CASES
    assert second == 0
    with scopes_disabled():
        assert Case.objects.count() == SPREAD_CASES
        assert {c.sub_status for c in Case.objects.all()} == set(STATUS_OF)


@pytest.mark.django_db
def test_seed_demo_command_generates_cases():
    out = StringIO()
    call_command("seed_demo", "--cases", "30", stdout=out, verbosity=0)
    with scopes_disabled():
        assert Case.objects.count() >= 30
    assert "30 cases generated" in out.getvalue()


@pytest.mark.django_db
def test_reserved_numbers_are_never_handed_out_again(org_a, dc_a):
    # DOMAIN C-1
    # given a case, and (on databases without sequences) a lost counter row
    with scopes_disabled():
        existing = CaseFactory(organization=org_a, contact=dc_a).number
    CaseNumberCounter.objects.all().delete()
    # when a block is reserved
    block = reserve_case_numbers(5)
    # then it is five new numbers above every number in use, and the next case follows
    assert len(set(block)) == 5 and min(block) > existing
    assert next_case_number() > max(block)
