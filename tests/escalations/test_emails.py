"""Escalation emails (N-1, N-2, N-5): the customer hears of the request, the decision and
the resolution; care managers hear of a new request; a message in the escalation feed goes
to the other side. Each is one outbox row written in the service's transaction, carries the
case's reference token, and is never sent for a refused or rolled-back change."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.utils.html import escape

from accounts import roles
from accounts.models import AccessLevel
from cases.links import case_url
from cases.models import Case, Channel
from cases.references import reference_token, thread_id
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.outbox.models import OutboxEmail
from core.outbox.services import outbox_send
from core.tenancy import scopes_disabled
from escalations import services
from escalations.links import escalation_admin_url
from escalations.models import Escalation
from tests.cases import NOW, acting_as, make_case
from tests.factories import UserFactory, member_of

pytestmark = pytest.mark.django_db

DETAILS = "Our billing line has been down twice this week and the case is not moving."


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://care.example"
    mail.outbox = []


@pytest.fixture
def requester(org_a):
    """A second designated contact: the case contact and the requester both hear."""
    return member_of(org_a, AccessLevel.DESIGNATED_CONTACT, "dc2@org-a.example")


@pytest.fixture
def other_manager(db):
    user = UserFactory(email="manager2@care.example", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.CARE_MANAGER))
    return user


@pytest.fixture
def case(org_a, dc_a) -> Case:
    return make_case(org_a, dc_a, "investigation", priority="high")


def rows(case: Case | None = None) -> list[OutboxEmail]:
    with scopes_disabled():
        queryset = OutboxEmail.unscoped.order_by("created_at", "id")
        return list(queryset.filter(case_id=case.pk) if case else queryset)


def new_rows(case: Case, before: list[OutboxEmail]) -> list[OutboxEmail]:
    seen = {row.pk for row in before}
    return [row for row in rows(case) if row.pk not in seen]


def escalate(case, actor, *, reason="slow_progress", details=DETAILS, now=NOW) -> Escalation:
    with acting_as(actor):
        return services.escalation_request(
            case=case, actor=actor, reason=reason, details=details, channel=Channel.PORTAL, now=now
        )


def assert_escalation_email(row: OutboxEmail, case: Case, label: str) -> None:
    """N-2: the case's reference token in the subject and the thread headers."""
    token = reference_token(case)
    assert row.subject.startswith(f"[Case {case.display_number}] {label}: ")
    assert row.subject.endswith(f"[{token}]")
    assert row.headers["References"] == row.headers["In-Reply-To"] == thread_id(case)
    assert row.headers["X-Case-Number"] == case.display_number
    assert row.message_id.startswith(f"<case-{case.display_number}.{token[4:]}.")
    assert row.organization_id == case.organization_id
    assert row.state == OutboxEmail.State.PENDING


def customer_addresses(case: Case, requester) -> list[str]:
    return sorted({case.contact.email, requester.email})


# --- N-1 who hears what ----------------------------------------------------------------------


def test_request_confirms_to_the_customer_and_tells_the_care_managers(
    case, dc_a, requester, manager, other_manager, analyst
):
    # DOMAIN N-1, N-2, E-7
    escalation = escalate(case, requester)

    mine, contact, care = rows(case)
    # The requester reads "your request" in a row of their own; the contact reads their name.
    assert_escalation_email(mine, case, "Escalation requested")
    assert mine.to == [requester.email]
    assert mine.idempotency_key == f"escalation-{escalation.pk}-requested-you"
    assert "We received your escalation request." in mine.body_text
    assert_escalation_email(contact, case, "Escalation requested")
    assert contact.to == [dc_a.email]
    assert f"{requester.display_name} asked to escalate this case: Slow" in contact.body_text
    assert "your escalation" not in contact.body_text.lower()
    for customer in (mine, contact):
        assert case_url(case.number) in customer.body_text
        assert DETAILS not in customer.body_text  # they wrote it; the confirmation is short

    assert_escalation_email(care, case, "New escalation")
    assert care.to == sorted([manager.email, other_manager.email])  # managers, not analysts
    assert "Org A escalated case" in care.body_text
    assert DETAILS in care.body_text
    assert escalation_admin_url(escalation) in care.body_text
    assert case_url(case.number) not in care.body_text


def test_request_by_the_case_contact_mails_them_once(case, dc_a, manager):
    # DOMAIN N-1
    escalate(case, dc_a)

    customer, _ = rows(case)
    assert customer.to == [dc_a.email]


def test_acceptance_is_mailed_to_the_customer(case, dc_a, requester, manager, other_manager):
    # DOMAIN N-1, N-2, E-8
    escalation = escalate(case, requester)
    before = rows(case)

    with scopes_disabled():
        services.escalation_accept(
            escalation=escalation,
            actor=manager,
            importance="high",
            urgency="high",
            owner=other_manager,
            now=NOW,
        )

    row, to_owner = new_rows(case, before)
    assert_escalation_email(row, case, "Escalation accepted")
    assert row.to == customer_addresses(case, requester)
    assert "The escalation of this case is accepted." in row.body_text
    assert "importance High, urgency High" in row.body_text
    assert f"Escalation owner: {other_manager.display_name}" in row.body_text
    # The manager named owner by someone else hears of it.
    assert_escalation_email(to_owner, case, "Escalation assigned to you")
    assert to_owner.to == [other_manager.email]
    assert f"{manager.display_name} made you the owner" in to_owner.body_text


def test_a_manager_who_accepts_for_themselves_gets_no_assignment_email(case, requester, manager):
    escalation = escalate(case, requester)
    before = rows(case)
    with scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=manager, now=NOW)
    (row,) = new_rows(case, before)
    assert manager.email not in row.to


def test_rejection_is_mailed_to_the_customer_with_the_explanation(case, dc_a, requester, manager):
    # DOMAIN N-1, E-8 (the explanation is shown to the customer)
    escalation = escalate(case, requester)
    before = rows(case)
    explanation = "The fix is already scheduled for tonight's change window at 22:00."

    with scopes_disabled():
        services.escalation_reject(
            escalation=escalation, actor=manager, explanation=explanation, now=NOW
        )

    (row,) = new_rows(case, before)
    assert_escalation_email(row, case, "Escalation not accepted")
    assert row.to == customer_addresses(case, requester)
    assert explanation in row.body_text
    assert escape(explanation) in row.body_html


def test_resolution_is_mailed_to_the_customer_with_the_summary(case, dc_a, requester, manager):
    # DOMAIN N-1, E-8
    escalation = escalate(case, requester)
    summary = "A senior engineer took over; the corrected routing is live since 14:00."
    with scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=manager, now=NOW)
    before = rows(case)

    with scopes_disabled():
        services.escalation_resolve(escalation=escalation, actor=manager, summary=summary, now=NOW)

    (row,) = new_rows(case, before)
    assert_escalation_email(row, case, "Escalation resolved")
    assert row.to == customer_addresses(case, requester)
    assert summary in row.body_text
    assert escape(summary) in row.body_html


def test_a_customer_message_goes_to_the_owner_only(case, dc_a, requester, manager, other_manager):
    # DOMAIN N-1, E-9
    escalation = escalate(case, requester)
    with scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=manager, now=NOW)
    before = rows(case)

    with acting_as(requester):
        services.escalation_post_message(
            escalation=escalation, actor=requester, body="Can you call us at 15:00?", now=NOW
        )

    (row,) = new_rows(case, before)
    assert_escalation_email(row, case, "Escalation message")
    assert row.to == [manager.email]
    assert "Can you call us at 15:00?" in row.body_text
    assert f"{requester.display_name} wrote in the escalation feed." in row.body_text
    assert escalation_admin_url(escalation) in row.body_text


def test_a_customer_message_before_the_decision_goes_to_every_care_manager(
    case, dc_a, manager, other_manager
):
    # DOMAIN N-1, E-9 (no owner yet)
    escalation = escalate(case, dc_a)
    before = rows(case)

    with acting_as(dc_a):
        services.escalation_post_message(
            escalation=escalation, actor=dc_a, body="It is getting worse.", now=NOW
        )

    (row,) = new_rows(case, before)
    assert row.to == sorted([manager.email, other_manager.email])


def test_an_owner_message_goes_to_the_customer(case, dc_a, requester, manager):
    # DOMAIN N-1, E-9
    escalation = escalate(case, requester)
    with scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=manager, now=NOW)
    before = rows(case)

    with scopes_disabled():
        services.escalation_post_message(
            escalation=escalation, actor=manager, body="I will call you at 15:00.", now=NOW
        )

    (row,) = new_rows(case, before)
    assert_escalation_email(row, case, "Escalation message")
    assert row.to == customer_addresses(case, requester)
    assert "The escalation owner wrote to you." in row.body_text
    assert "I will call you at 15:00." in row.body_text
    assert case_url(case.number) in row.body_text
    assert manager.email not in row.to


def test_each_email_is_decided_once(case, dc_a, manager):
    # DOMAIN N-5: distinct keys, one row each, however many steps
    escalation = escalate(case, dc_a)
    with scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=manager, now=NOW)
        services.escalation_post_message(escalation=escalation, actor=manager, body="Hi.", now=NOW)
        services.escalation_resolve(escalation=escalation, actor=manager, summary="Done.", now=NOW)

    keys = [row.idempotency_key for row in rows(case)]
    assert keys == [
        f"escalation-{escalation.pk}-requested-you",
        f"escalation-{escalation.pk}-requested-care",
        f"escalation-{escalation.pk}-accepted",
        keys[3],
        f"escalation-{escalation.pk}-resolved",
    ]
    assert keys[3].startswith("escalation-message-")
    assert len({row.message_id for row in rows(case)}) == 5


def test_the_email_is_sent_after_commit_to_the_recipients(
    case, dc_a, manager, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    def deliver(args, **kwargs):
        outbox_send(email_id=args[0], now=NOW)

    with (
        mock.patch("config.celery.app.send_task", side_effect=deliver) as ring,
        django_capture_on_commit_callbacks(execute=True),
    ):
        escalate(case, dc_a)

    assert ring.call_count == 2
    sent = {tuple(m.to): m for m in mail.outbox}
    assert set(sent) == {(dc_a.email,), (manager.email,)}
    token = reference_token(case)
    assert all(f"[{token}]" in m.subject for m in mail.outbox)
    assert all(m.extra_headers["References"] == thread_id(case) for m in mail.outbox)
    assert {row.state for row in rows(case)} == {OutboxEmail.State.SENT}


# --- nothing for a refused or rolled-back change ----------------------------------------------


def test_a_refused_request_sends_nothing(org_a, dc_a, ro_a, dc_b, manager):
    # DOMAIN N-5, E-1, E-3, E-4, E-7, T-4, T-6
    low = make_case(org_a, dc_a, "investigation", priority="low")
    closed = make_case(org_a, dc_a, "resolved")
    case = make_case(org_a, dc_a, "investigation", priority="medium")
    attempts = [
        (low, dc_a, {}, InvalidInput),
        (closed, dc_a, {}, InvalidInput),
        (case, dc_a, {"reason": "urgency_change"}, InvalidInput),
        (case, dc_a, {"reason": "no_update"}, InvalidInput),
        (case, dc_a, {"details": " "}, InvalidInput),
        (case, ro_a, {}, NotAllowed),
        (case, manager, {}, NotAllowed),
        (case, dc_b, {}, NotFound),
    ]

    for target, actor, kwargs, error in attempts:
        with pytest.raises(error):
            escalate(target, actor, **kwargs)

    assert rows() == []


def test_a_refused_decision_or_message_sends_nothing(case, dc_a, ro_a, manager, analyst):
    # DOMAIN N-5, E-8, E-9
    escalation = escalate(case, dc_a)
    before = rows(case)

    with pytest.raises(InvalidInput), scopes_disabled():
        services.escalation_reject(escalation=escalation, actor=manager, explanation="", now=NOW)
    with pytest.raises(NotAllowed), scopes_disabled():
        services.escalation_accept(escalation=escalation, actor=analyst, now=NOW)
    with pytest.raises(Conflict), scopes_disabled():
        services.escalation_resolve(escalation=escalation, actor=manager, summary="x", now=NOW)
    with pytest.raises(NotAllowed), acting_as(ro_a):
        services.escalation_post_message(escalation=escalation, actor=ro_a, body="Hi", now=NOW)
    with pytest.raises(InvalidInput), acting_as(dc_a):
        services.escalation_post_message(escalation=escalation, actor=dc_a, body=" ", now=NOW)

    assert rows(case) == before


def test_a_rolled_back_request_sends_nothing(
    case, dc_a, manager, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    with (
        mock.patch("config.celery.app.send_task") as ring,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        escalate(case, dc_a)
        assert len(rows(case)) == 2  # decided inside the transaction ...
        raise RuntimeError("the request failed after the service")

    assert rows() == []  # ... and gone with it
    assert callbacks == []
    ring.assert_not_called()
    assert mail.outbox == []
    with scopes_disabled():
        assert not Escalation.unscoped.exists()


def test_a_rolled_back_decision_sends_nothing(
    case, dc_a, manager, django_capture_on_commit_callbacks
):
    # DOMAIN N-5
    escalation = escalate(case, dc_a)
    before = rows(case)

    with (
        mock.patch("config.celery.app.send_task") as ring,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        scopes_disabled(),
        transaction.atomic(),
    ):
        services.escalation_reject(
            escalation=escalation, actor=manager, explanation="Not needed.", now=NOW
        )
        raise RuntimeError("the request failed after the service")

    assert rows(case) == before
    assert callbacks == []
    ring.assert_not_called()
    with scopes_disabled():
        assert Escalation.unscoped.get(pk=escalation.pk).state == "requested"


# --- N-1: the customer's escalation emails, for the case's readers ---------------------------


def test_the_customer_s_emails_are_checked_again_and_care_s_are_not(case, dc_a, manager):
    # DOMAIN N-1: the customer's rows name the case's readers; care's go as addressed
    escalate(case, dc_a)

    customer, care = rows(case)
    assert customer.audience == OutboxEmail.Audience.CASE_READERS
    assert care.audience == OutboxEmail.Audience.NONE


def test_a_decision_does_not_say_your_escalation_to_those_who_did_not_ask(
    case, dc_a, requester, manager
):
    # DOMAIN N-1: "You …" (and "your escalation") only to whoever acted
    escalation = escalate(case, requester)
    before = rows(case)

    with scopes_disabled():
        services.escalation_reject(escalation=escalation, actor=manager, explanation="No.", now=NOW)

    (row,) = new_rows(case, before)
    assert dc_a.email in row.to
    assert "The escalation of this case was not accepted." in row.body_text
    assert "your escalation" not in row.body_text.lower()


def test_escalation_links_follow_site_url(case, dc_a, manager, settings):
    # Issue 13: links use SITE_URL, for the customer and for care
    settings.SITE_URL = "http://127.0.0.1:8123"

    escalation = escalate(case, dc_a)

    customer, care = rows(case)
    assert f"http://127.0.0.1:8123/cases/{case.display_number}/" in customer.body_text
    assert (
        f"http://127.0.0.1:8123/admin/escalations/escalation/{escalation.pk}/change/"
        in care.body_text
    )
