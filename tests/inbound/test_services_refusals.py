"""Who may update a case by email (N-3, T-4, T-6, T-8): an active designated contact of the
case's organization or of a reseller partner linked to it. Anyone else posts nothing and
gets one answer, which tells a stranger nothing about the case."""

from __future__ import annotations

import pytest

from accounts.models import AccessLevel, Organization, ResellerLink, User
from inbound.models import InboundMessage
from tests.cases import make_case, reload, snapshot
from tests.factories import member_of
from tests.inbound.messages import case_values, load
from tests.inbound.test_services import answers, email_reply, media, receive, updates

__all__ = ["media"]  # the module's attachments go to the test's own folder

Outcome = InboundMessage.Outcome


@pytest.fixture
def case(org_a, dc_a):
    return make_case(org_a, dc_a, "investigation")


def assert_refused_with_one_answer(message: InboundMessage, case, before: dict) -> str:
    """Nothing changed on the case; exactly one answer, to the sender; its text."""
    assert message.outcome == Outcome.REFUSED
    assert snapshot(case)["updates"] == before["updates"] == []
    assert reload(case).sub_status == before["case"]["sub_status"]
    [answer] = answers()
    assert answer.to == [message.sender]
    return answer.body_text


def assert_says_nothing_about(text: str, case) -> None:
    # DOMAIN T-6: not the number, the subject, the organization, or that the case exists
    for secret in (case.display_number, case.subject, case.organization.name):
        assert secret not in text


def test_a_stranger_posts_nothing_and_gets_exactly_one_answer_that_reveals_nothing(case):
    # DOMAIN N-3, T-6: the sender has no account; the reply's subject is theirs, not ours
    before = snapshot(case)

    message = receive(email_reply(case, sender="Eve <eve@elsewhere.example>", subject="Hi"))

    text = assert_refused_with_one_answer(message, case, before)
    assert_says_nothing_about(text, case)
    assert "designated contacts" in text
    assert message.reason == "The sender has no portal account."
    [answer] = answers()
    assert answer.organization_id is None and answer.case_id is None
    assert message.case_id == case.pk  # care sees which case it was meant for


def test_a_designated_contact_of_another_tenant_is_refused(case, dc_b):
    # DOMAIN T-6, N-3
    before = snapshot(case)

    message = receive(email_reply(case, sender="dc@org-b.example", subject="Hi"))

    text = assert_refused_with_one_answer(message, case, before)
    assert_says_nothing_about(text, case)
    assert "not a member of the case's organization" in message.reason


@pytest.mark.parametrize(
    ("level", "read_only_words"),
    [(AccessLevel.READ_ONLY, True), (AccessLevel.BASIC, False)],
)
def test_read_only_and_basic_members_are_refused(case, org_a, level, read_only_words):
    # DOMAIN T-4, N-3: only designated contacts add updates
    member_of(org_a, level, "member@org-a.example")
    before = snapshot(case)

    message = receive(email_reply(case, sender="member@org-a.example"))

    text = assert_refused_with_one_answer(message, case, before)
    assert ("read-only" in text) is read_only_words
    assert AccessLevel(level).label in message.reason


def test_a_reseller_partners_designated_contact_may_post_for_the_end_user(
    reseller_dc, end_user_org
):
    # DOMAIN T-8, N-3
    case = make_case(end_user_org, reseller_dc, "investigation")

    message = receive(email_reply(case, sender="dc@partner.example"))

    assert message.outcome == Outcome.POSTED
    [update] = updates(case)
    assert update.author_id == reseller_dc.pk and update.organization_id == end_user_org.pk
    assert message.organization_id == end_user_org.pk


def test_a_reseller_contact_is_refused_once_the_link_is_removed(reseller_dc, end_user_org):
    # DOMAIN T-8, T-6
    case = make_case(end_user_org, reseller_dc, "investigation")
    ResellerLink.objects.filter(end_user=end_user_org).delete()

    message = receive(email_reply(case, sender="dc@partner.example"))

    assert message.outcome == Outcome.REFUSED and updates(case) == []


def test_a_contact_of_a_deactivated_organization_is_refused(case, org_a):
    # DOMAIN T-6, N-3
    Organization.objects.filter(pk=org_a.pk).update(is_active=False)
    before = snapshot(case)

    message = receive(email_reply(case))

    assert_refused_with_one_answer(message, case, before)
    assert "deactivated" in message.reason


def test_a_deactivated_account_is_refused(case, dc_a):
    # DOMAIN N-3
    User.objects.filter(pk=dc_a.pk).update(is_active=False)
    before = snapshot(case)

    message = receive(email_reply(case))

    assert_refused_with_one_answer(message, case, before)
    assert message.reason == "The sender's portal account is deactivated."


def test_care_staff_are_told_to_use_the_care_workspace(case, analyst):
    # DOMAIN T-5, N-3
    before = snapshot(case)

    message = receive(email_reply(case, sender="analyst@care.example"))

    text = assert_refused_with_one_answer(message, case, before)
    assert "care workspace" in text


def test_the_address_is_matched_whatever_its_case(case, dc_a):
    # DOMAIN N-3: addresses are case-insensitive
    message = receive(email_reply(case, sender="Dana <DC@Org-A.Example>"))

    assert message.outcome == Outcome.POSTED and message.sender == "dc@org-a.example"


@pytest.mark.parametrize("fixture", ["from_several", "from_missing"])
def test_an_untrustworthy_from_is_refused_without_an_answer(case, fixture):
    # DOMAIN N-3 (CVE-2023-27043): no single valid address, nobody to answer
    message = receive(load(fixture))

    assert message.outcome == Outcome.REFUSED and "cannot be trusted" in message.reason
    assert updates(case) == [] and answers() == []


def test_an_auto_reply_is_ignored_and_never_answered(case):
    # DOMAIN N-3 (RFC 3834): an out-of-office reply to a case email
    message = receive(load("out_of_office", **case_values(case), FROM="dc@org-a.example"))

    assert message.outcome == Outcome.AUTOMATIC and "Auto-Submitted" in message.reason
    assert updates(case) == [] and answers() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Precedence": "bulk"},
        {"List-Id": "<ops.lists.example>"},
        {"Auto-Submitted": "auto-generated"},
    ],
)
def test_list_and_bulk_mail_is_never_answered(db, headers):
    # DOMAIN N-4 (RFC 3834): not even the "no reference" answer
    message = receive(email_reply(None, sender="news@vendor.example", headers=headers))

    assert message.outcome == Outcome.AUTOMATIC and answers() == []


@pytest.mark.parametrize(
    "sender", ["MAILER-DAEMON@mx.example", "care@support-portal.example", "noreply@x.example"]
)
def test_mail_software_and_our_own_address_are_never_answered(db, sender):
    # DOMAIN N-4 (RFC 3834): no loops
    message = receive(email_reply(None, sender=sender))

    assert message.outcome == Outcome.AUTOMATIC and answers() == []


def test_a_contact_replying_to_another_tenants_case_email_is_refused(org_b, dc_a, dc_b):
    # DOMAIN T-6: a designated contact of A answers an email of B's case forwarded to them
    case_b = make_case(org_b, dc_b, "investigation")

    message = receive(email_reply(case_b))

    assert message.outcome == Outcome.REFUSED and updates(case_b) == []
    assert "not a member of the case's organization" in message.reason
