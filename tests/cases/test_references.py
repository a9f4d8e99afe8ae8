"""Finding the case a reply answers (N-2, N-3, N-4): only a reference we generated counts."""

from __future__ import annotations

import pytest

from cases.references import (
    case_number_from_reply,
    message_id_hint,
    reference_token,
    thread_headers,
    thread_id,
    token_for_number,
)
from core.outbox.services import message_id_for
from tests.cases import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a)


def subject_of(case) -> str:
    return f"RE: [Case {case.display_number}] {case.subject} [{reference_token(case)}]"


def test_the_subject_token_names_its_case(case):
    # DOMAIN N-2, N-3
    assert case_number_from_reply(subject=subject_of(case), message_ids=[]) == case.number


def test_the_thread_and_every_message_id_name_their_case(case):
    # DOMAIN N-2: a reply that keeps only In-Reply-To (or References) still finds the case
    sent = message_id_for(f"case-{case.pk}-event-1", message_id_hint(case))
    for message_id in (thread_id(case), sent, sent.upper()):
        assert case_number_from_reply(subject="", message_ids=[message_id]) == case.number
    assert thread_headers(case)["In-Reply-To"] == thread_id(case)


def test_a_reference_is_found_among_others(case):
    # DOMAIN N-3: References lists the whole conversation, ours among the customer's own ids
    ids = ["<1234@mail.customer.example>", f"<x {thread_id(case)} y>"]
    assert case_number_from_reply(subject="Re: hello", message_ids=ids) == case.number


@pytest.mark.parametrize(
    "subject",
    [
        "Re: [Case 00000001] Calls drop",  # a number alone is no reference
        "Re: [Case 00000001] Calls drop [ref:aaaaaaaaaaaaaaaa]",  # a forged token
        "Re: Calls drop [ref:{token}]",  # a token without its number
        "Re: [Case {other}] Calls drop [ref:{token}]",  # the token of another case
    ],
)
def test_no_valid_reference_in_the_subject_finds_nothing(case, subject):
    # DOMAIN N-4
    subject = subject.format(token=token_for_number(case.number), other=case.number + 1)
    assert case_number_from_reply(subject=subject, message_ids=[]) is None


def test_message_ids_of_another_domain_or_a_forged_token_find_nothing(case, settings):
    # DOMAIN N-4: only Message-IDs we generated, with the token of their number
    token = token_for_number(case.number)
    forged = [
        f"<case-{case.number:08d}.{token}@elsewhere.example>",
        f"<case-{case.number:08d}.{'a' * 16}@support-portal.example>",
        f"<case-{case.number + 1:08d}.{token}@support-portal.example>",
    ]
    assert case_number_from_reply(subject="", message_ids=forged) is None


def test_tokens_change_with_the_secret_key(case, settings):
    # DOMAIN N-2: the token is keyed; a reference cannot be computed from the number alone
    subject = subject_of(case)
    settings.SECRET_KEY = "another-secret-key-" * 3
    assert case_number_from_reply(subject=subject, message_ids=[]) is None
