"""Case numbers (C-1): assigned by the system, unique, increasing, shown with 8 digits and
never reused."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from cases.models import Case, CaseNumberCounter
from cases.numbering import FIRST_NUMBER, SEQUENCE, next_case_number
from core.tenancy import scopes_disabled
from tests.cases import NOW
from tests.factories import CaseFactory, open_case

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the counter table is the non-PostgreSQL path"
)


def test_numbers_are_unique_and_increasing(org_a, org_b, dc_a, dc_b):
    # DOMAIN C-1: one global series across organizations
    numbers = [
        open_case(dc_a if i % 2 else dc_b, org_a if i % 2 else org_b, now=NOW).number
        for i in range(6)
    ]

    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 6
    assert numbers[0] >= FIRST_NUMBER


@pytest.mark.parametrize(
    ("number", "shown"), [(1000, "00001000"), (7, "00000007"), (12345678, "12345678")]
)
def test_display_number_has_eight_digits(number, shown):
    # DOMAIN C-1
    assert Case(number=number).display_number == shown


def test_number_of_a_deleted_case_is_never_reused(org_a, dc_a):
    # DOMAIN C-1
    first = open_case(dc_a, org_a, now=NOW)
    with scopes_disabled():
        Case.unscoped.filter(pk=first.pk).delete()

    second = open_case(dc_a, org_a, now=NOW)

    assert second.number > first.number


def test_number_is_assigned_by_the_system(org_a, dc_a):
    # DOMAIN C-1: the number is not an editable field anywhere
    assert not Case._meta.get_field("number").editable
    assert Case._meta.get_field("number").unique


def test_a_rolled_back_opening_leaves_no_duplicate(org_a, dc_a):
    # DOMAIN C-1
    with pytest.raises(RuntimeError), transaction.atomic():
        open_case(dc_a, org_a, now=NOW)
        raise RuntimeError("the request failed")

    a = open_case(dc_a, org_a, now=NOW)
    b = open_case(dc_a, org_a, now=NOW)

    assert b.number == a.number + 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="sequences are PostgreSQL's")
def test_postgresql_draws_from_a_sequence(org_a, dc_a):
    # DOMAIN C-1
    case = open_case(dc_a, org_a, now=NOW)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value FROM {SEQUENCE}")  # noqa: S608 (a constant)
        (last_value,) = cursor.fetchone()
    assert last_value == case.number
    assert next_case_number() == case.number + 1


@sqlite_only
def test_counter_advances_by_one(db):
    # DOMAIN C-1
    first = next_case_number()

    assert next_case_number() == first + 1
    assert CaseNumberCounter.objects.get(pk=1).last == first + 1


@sqlite_only
def test_lost_counter_restarts_above_every_number_in_use(org_a, dc_a):
    # DOMAIN C-1: a flushed counter table (transactional tests, a partial restore)
    CaseFactory(organization=org_a, contact=dc_a, number=5000)
    CaseNumberCounter.objects.all().delete()

    assert next_case_number() == 5001
    assert next_case_number() == 5002


@sqlite_only
def test_lost_counter_on_an_empty_table_starts_at_the_first_number(db):
    # DOMAIN C-1
    CaseNumberCounter.objects.all().delete()

    assert next_case_number() == FIRST_NUMBER
