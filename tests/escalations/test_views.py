"""The customer portal's escalation pages: the button on the case page, the request form
that explains the rules before anyone types, the escalation page with its own feed
(E-1 … E-9, T-4, T-6)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseUpdate
from cases.services import case_post_update
from core.tenancy import scopes_disabled
from escalations import rules, services
from escalations.models import Escalation, EscalationMessage
from tests.factories import CaseFactory, open_case

pytestmark = pytest.mark.django_db

DETAILS = "Nobody has looked at the logs we sent on Monday."


# --- helpers -----------------------------------------------------------------------------


def page_of(response) -> str:
    return response.content.decode()


def main_of(page: str) -> str:
    return page.split('id="main"')[1].split("</main>")[0]


def detail(case: Case) -> str:
    return reverse("cases:detail", args=[case.number])


def escalate_url(case: Case) -> str:
    return reverse("cases:escalate", args=[case.number])


def escalation_url(escalation: Escalation) -> str:
    return reverse("cases:escalation", args=[escalation.case.number, escalation.pk])


def message_url(escalation: Escalation) -> str:
    return reverse("cases:escalation-message", args=[escalation.case.number, escalation.pk])


def reload(case: Case) -> Case:
    with scopes_disabled():
        return Case.objects.get(pk=case.pk)


def escalations_of(case: Case) -> list[Escalation]:
    with scopes_disabled():
        return list(Escalation.objects.filter(case=case))


def block(page: str, testid: str) -> str:
    """The element with this data-testid, up to the end of its section or block."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}".*?</\1>', page, re.S)
    assert match, f"nothing with data-testid={testid} on the page"
    return match.group(0)


def field_block(page: str, name: str) -> str:
    match = re.search(rf'<(div|fieldset)[^>]*id="field-{re.escape(name)}".*?</\1>', page, re.S)
    assert match, f"no field {name} on the page"
    return match.group(0)


def reason_input(page: str, reason: str) -> str:
    match = re.search(rf'<input type="radio" name="reason" value="{reason}"[^>]*>', page)
    assert match, f"no reason {reason} on the page"
    return match.group(0)


def escalate(case: Case, actor, reason: str = "slow_progress", details: str = DETAILS, **kw):
    with scopes_disabled():
        return services.escalation_request(
            case=case,
            actor=actor,
            reason=reason,
            details=details,
            channel="portal",
            now=kw.get("now") or timezone.now(),
        )


def accept(escalation: Escalation, manager, **kwargs) -> Escalation:
    with scopes_disabled():
        return services.escalation_accept(
            escalation=escalation, actor=manager, now=timezone.now(), **kwargs
        )


def reject(escalation: Escalation, manager, explanation: str) -> Escalation:
    with scopes_disabled():
        return services.escalation_reject(
            escalation=escalation, actor=manager, explanation=explanation, now=timezone.now()
        )


def resolve(escalation: Escalation, manager, summary: str) -> Escalation:
    with scopes_disabled():
        return services.escalation_resolve(
            escalation=escalation, actor=manager, summary=summary, now=timezone.now()
        )


def post_message(escalation: Escalation, actor, body: str) -> EscalationMessage:
    with scopes_disabled():
        return services.escalation_post_message(
            escalation=escalation, actor=actor, body=body, channel="portal", now=timezone.now()
        )


@pytest.fixture
def named_manager(manager):
    manager.display_name = "Maria Manager"
    manager.save(update_fields=["display_name"])
    return manager


def closed_case(org, contact, *, days_ago: int) -> Case:
    closed_at = timezone.now() - timedelta(days=days_ago)
    return CaseFactory(
        organization=org,
        contact=contact,
        sub_status="resolved",
        opened_at=closed_at - timedelta(days=2),
        closed_at=closed_at,
    )


# --- the button on the case page (E-1 … E-3, T-4) ----------------------------------------


def test_designated_contact_sees_the_escalate_button(client, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    panel = block(page_of(client.get(detail(case))), "escalations")

    assert f'href="{escalate_url(case)}"' in panel
    assert "Escalate case" in panel
    assert 'aria-disabled="true"' not in panel


def test_closed_case_shows_the_button_disabled_and_points_to_the_reopen_form(client, org_a, dc_a):
    # DOMAIN E-1
    case = closed_case(org_a, dc_a, days_ago=3)
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))
    panel = block(page, "escalations")

    assert f'href="{escalate_url(case)}"' not in page
    assert '<button type="button" class="button" aria-disabled="true"' in panel
    assert 'aria-describedby="escalate-refusal"' in panel
    refusal = block(panel, "escalation-refusal")
    assert 'data-rule="E-1"' in refusal
    assert "reopen it first" in refusal
    assert 'href="#reopen-form"' in refusal
    assert 'id="reopen-form"' in page


def test_case_closed_too_long_ago_to_reopen_offers_no_reopen(client, org_a, dc_a):
    # DOMAIN E-1, C-12
    case = closed_case(org_a, dc_a, days_ago=40)
    client.force_login(dc_a)

    refusal = block(page_of(client.get(detail(case))), "escalation-refusal")

    assert "can no longer be reopened" in refusal
    assert "#reopen-form" not in refusal


def test_case_with_an_active_escalation_links_to_it_instead(client, org_a, dc_a):
    # DOMAIN E-2
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(dc_a)

    panel = block(page_of(client.get(detail(case))), "escalations")

    assert 'aria-disabled="true"' in panel
    refusal = block(panel, "escalation-refusal")
    assert 'data-rule="E-2"' in refusal
    assert "already has an escalation in progress" in refusal
    assert f'href="{escalation_url(escalation)}"' in refusal


def test_low_case_points_to_the_priority_request_of_the_update_form(client, org_a, dc_a):
    # DOMAIN E-3, C-6
    case = open_case(dc_a, org_a, priority="low")
    client.force_login(dc_a)

    page = page_of(client.get(detail(case)))
    refusal = block(page, "escalation-refusal")

    assert 'data-rule="E-3"' in refusal
    assert "LOW priority cases cannot be escalated" in refusal
    assert 'href="#id_update-requested_priority"' in refusal
    assert 'id="id_update-requested_priority"' in page
    assert f'href="{escalate_url(case)}"' not in page


def test_read_only_user_sees_escalations_but_no_button(client, org_a, dc_a, ro_a):
    # DOMAIN T-4
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(ro_a)

    page = page_of(client.get(detail(case)))
    panel = block(page, "escalations")

    assert "Escalate case" not in panel
    assert f'href="{escalation_url(escalation)}"' in panel
    assert "Slow progress" in panel
    assert "<form" not in main_of(page)


def test_read_only_user_without_escalations_has_no_panel(client, org_a, dc_a, ro_a):
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(ro_a)

    page = page_of(client.get(detail(case)))

    assert 'data-testid="escalations"' not in page
    assert "Escalate case" not in page


def test_care_sees_the_escalations_and_no_button(client, org_a, dc_a, analyst):
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(analyst)

    panel = block(page_of(client.get(detail(case))), "escalations")

    assert "Escalate case" not in panel
    assert f'href="{escalation_url(escalation)}"' in panel


# --- the form explains the rules before anyone types (E-3 … E-6) -------------------------


def test_form_shows_the_priority_change_advice_and_the_phone_numbers(client, org_a, dc_a):
    # DOMAIN E-4, C-5
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    page = page_of(client.get(escalate_url(case)))

    assert 'id="escalation-form"' in page
    assert html.escape(rules.PRIORITY_CHANGE_ADVICE) in block(page, "priority-change-advice")
    phones = block(page, "care-phones")
    for phone in settings.PORTAL["CARE_PHONE_NUMBERS"]:
        assert html.escape(phone) in phones


def test_form_disables_the_reasons_that_do_not_apply_and_says_why(client, org_a, dc_a):
    # DOMAIN E-5, E-6: a MEDIUM case that was never restored
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    page = page_of(client.get(escalate_url(case)))

    for reason in ("dissatisfied_with_handling", "slow_progress", "deadline_at_risk"):
        assert "disabled" not in reason_input(page, reason)
    for reason, words in (
        ("rca_overdue", "this case has no restoration"),
        ("no_update", "applies to HIGH and CRITICAL cases only"),
    ):
        assert "disabled" in reason_input(page, reason)
        explained = re.search(
            rf'data-testid="reason-refusal" data-reason="{reason}">(.*?)</span>', page, re.S
        )
        assert explained and words in html.unescape(explained.group(1))


def test_no_update_is_disabled_after_a_recent_care_update_on_a_high_case(
    client, org_a, dc_a, analyst
):
    # DOMAIN E-6: opened two days ago, with no word from care since
    case = open_case(dc_a, org_a, priority="high", now=timezone.now() - timedelta(days=2))
    client.force_login(dc_a)
    before = page_of(client.get(escalate_url(case)))
    with scopes_disabled():
        case_post_update(
            case=case, actor=analyst, body="We are on it.", channel="admin", now=timezone.now()
        )

    after = page_of(client.get(escalate_url(case)))

    assert "disabled" not in reason_input(before, "no_update")
    assert "disabled" in reason_input(after, "no_update")
    assert "posted no update for 24 hours" in after


def test_rca_overdue_opens_five_business_days_after_the_restoration(client, org_a, dc_a):
    # DOMAIN E-5
    now = timezone.now()
    recent = CaseFactory(
        organization=org_a, contact=dc_a, sub_status="pending_rca", restored_at=now
    )
    overdue = CaseFactory(
        organization=org_a,
        contact=dc_a,
        sub_status="pending_rca",
        restored_at=now - timedelta(days=14),
    )
    client.force_login(dc_a)

    recent_page = page_of(client.get(escalate_url(recent)))
    overdue_page = page_of(client.get(escalate_url(overdue)))

    assert "disabled" in reason_input(recent_page, "rca_overdue")
    assert "5 business days after the service was restored" in recent_page
    assert "disabled" not in reason_input(overdue_page, "rca_overdue")


@pytest.mark.parametrize(
    ("setup", "rule", "words"),
    [
        ("low", "E-3", "LOW priority cases cannot be escalated"),
        ("closed", "E-1", "reopen it first"),
        ("active", "E-2", "already has an escalation in progress"),
    ],
)
def test_form_page_shows_the_refusal_instead_of_the_form(client, org_a, dc_a, setup, rule, words):
    # DOMAIN E-1, E-2, E-3
    if setup == "closed":
        case = closed_case(org_a, dc_a, days_ago=2)
    else:
        case = open_case(dc_a, org_a, priority="low" if setup == "low" else "medium")
    if setup == "active":
        escalate(case, dc_a)
    client.force_login(dc_a)

    response = client.get(escalate_url(case))
    page = page_of(response)

    assert response.status_code == 200
    assert 'id="escalation-form"' not in page
    refusal = block(page, "escalation-refusal")
    assert f'data-rule="{rule}"' in refusal
    assert words in refusal
    assert 'data-testid="escalation-offer"' in refusal
    assert html.escape(rules.PRIORITY_CHANGE_ADVICE) in page  # E-4 is always said


# --- asking (E-7) -------------------------------------------------------------------------


def test_escalating_shows_the_banner_and_the_timestamp_on_the_case(client, org_a, dc_a):
    # DOMAIN E-7
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    response = client.post(
        escalate_url(case), {"reason": "slow_progress", "details": DETAILS}, follow=True
    )

    assert response.redirect_chain == [(detail(case), 302)]
    page = page_of(response)
    assert "Your escalation is requested." in page
    assert "you get an email with the decision" in page
    [escalation] = escalations_of(case)
    assert (escalation.reason, escalation.details, escalation.channel) == (
        "slow_progress",
        DETAILS,
        "portal",
    )
    assert escalation.requester == dc_a and escalation.state == "requested"
    assert reload(case).escalated_at == escalation.requested_at
    assert "Escalated" in block(page, "case-escalated")
    panel = block(page, "escalations")
    assert f'href="{escalation_url(escalation)}"' in panel
    assert "Requested" in panel
    assert "Escalation requested: Slow progress" in block(page, "history")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"reason": "slow_progress", "details": "  "}, "details", "Write the details."),
        ({"reason": "", "details": DETAILS}, "reason", "Choose a reason."),
        ({"reason": "bogus", "details": DETAILS}, "reason", "Choose a reason from the list"),
        ({"reason": "urgency_change", "details": DETAILS}, "reason", "priority change"),
        ({"reason": "no_update", "details": DETAILS}, "reason", "HIGH and CRITICAL cases only"),
        ({"reason": "rca_overdue", "details": DETAILS}, "reason", "no restoration"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_changes_nothing(
    client, org_a, dc_a, data, field, words
):
    # DOMAIN E-4 … E-7
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    response = client.post(escalate_url(case), data)

    assert response.status_code == 200
    assert words in html.unescape(field_block(page_of(response), field))
    assert 'role="alert"' in field_block(page_of(response), field)
    assert escalations_of(case) == []
    assert reload(case).escalated_at is None


def test_the_details_typed_are_kept_after_an_error(client, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_a)

    page = page_of(client.post(escalate_url(case), {"reason": "", "details": DETAILS}))

    assert html.escape(DETAILS) in field_block(page, "details")


def test_escalating_a_low_case_by_post_is_refused_and_changes_nothing(client, org_a, dc_a):
    # DOMAIN E-3
    case = open_case(dc_a, org_a, priority="low")
    client.force_login(dc_a)

    response = client.post(escalate_url(case), {"reason": "slow_progress", "details": DETAILS})

    assert response.status_code == 200
    assert "LOW priority cases cannot be escalated" in page_of(response)
    assert escalations_of(case) == []


def test_a_second_escalation_while_one_is_active_is_a_message(client, org_a, dc_a):
    # DOMAIN E-2
    case = open_case(dc_a, org_a, priority="medium")
    first = escalate(case, dc_a)
    client.force_login(dc_a)

    response = client.post(
        escalate_url(case), {"reason": "deadline_at_risk", "details": DETAILS}, follow=True
    )

    assert response.redirect_chain == [(detail(case), 302)]
    assert "already has an escalation in progress" in page_of(response)
    assert escalations_of(case) == [first]


def test_escalating_again_after_a_rejection(client, org_a, dc_a, manager):
    # DOMAIN E-2: many escalations over time, one active at a time
    case = open_case(dc_a, org_a, priority="medium")
    reject(escalate(case, dc_a), manager, "Care is on track.")
    client.force_login(dc_a)

    response = client.post(escalate_url(case), {"reason": "deadline_at_risk", "details": DETAILS})

    assert response.status_code == 302
    assert sorted(e.state for e in escalations_of(case)) == ["rejected", "requested"]


def test_read_only_user_cannot_open_the_form_or_escalate(client, org_a, dc_a, ro_a):
    # DOMAIN T-4
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(ro_a)

    assert client.get(escalate_url(case)).status_code == 403
    response = client.post(escalate_url(case), {"reason": "slow_progress", "details": DETAILS})

    assert response.status_code == 403
    assert escalations_of(case) == []


def test_another_tenants_case_cannot_be_escalated(client, org_a, dc_a, dc_b):
    # DOMAIN T-6
    case = open_case(dc_a, org_a, priority="medium")
    client.force_login(dc_b)

    assert client.get(escalate_url(case)).status_code == 404
    response = client.post(escalate_url(case), {"reason": "slow_progress", "details": DETAILS})

    assert response.status_code == 404
    assert escalations_of(case) == []


def test_anonymous_visitors_are_sent_to_sign_in(client, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)

    for url in (escalate_url(case), escalation_url(escalation)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


# --- the escalation page and its feed (E-8, E-9) -----------------------------------------


def test_escalation_page_shows_the_request_and_its_decision(client, org_a, dc_a, named_manager):
    # DOMAIN E-8
    case = open_case(dc_a, org_a, priority="medium")
    escalation = accept(escalate(case, dc_a), named_manager, importance="high", urgency="medium")
    client.force_login(dc_a)

    page = page_of(client.get(escalation_url(escalation)))

    assert "Accepted" in block(page, "escalation-state")
    assert html.escape(DETAILS) in block(page, "escalation-details")
    facts = block(page, "escalation-facts")
    assert "Slow progress" in facts
    assert dc_a.display_name in html.unescape(facts)
    decision = block(page, "escalation-decision")
    assert "Importance <strong>High</strong>, urgency <strong>Medium</strong>" in decision
    assert "Maria Manager" in decision


def test_a_rejection_shows_its_explanation_and_closes_the_feed(client, org_a, dc_a, manager):
    # DOMAIN E-8, E-9
    case = open_case(dc_a, org_a, priority="medium")
    escalation = reject(escalate(case, dc_a), manager, "The fix ships on Friday as agreed.")
    client.force_login(dc_a)

    page = page_of(client.get(escalation_url(escalation)))

    assert "The fix ships on Friday as agreed." in block(page, "escalation-explanation")
    assert "Not accepted" in block(page, "escalation-explanation")
    assert "its feed is closed" in block(page, "feed-closed")
    assert 'id="message-form"' not in page
    assert "Escalation not accepted" in page_of(client.get(detail(case)))


def test_a_resolved_escalation_shows_its_summary(client, org_a, dc_a, manager):
    # DOMAIN E-8
    case = open_case(dc_a, org_a, priority="medium")
    escalation = accept(escalate(case, dc_a), manager)
    resolve(escalation, manager, "A senior engineer took the case; the fix is deployed.")
    client.force_login(dc_a)

    page = page_of(client.get(escalation_url(escalation)))

    assert "the fix is deployed" in block(page, "escalation-summary")
    assert 'id="message-form"' not in page
    history = block(page_of(client.get(detail(case))), "history")
    assert "Escalation accepted" in history
    assert "Escalation resolved" in history


def test_feed_shows_both_sides_oldest_first_and_not_the_case_updates(
    client, org_a, dc_a, named_manager
):
    # DOMAIN E-9
    case = open_case(dc_a, org_a, priority="medium")
    escalation = accept(escalate(case, dc_a), named_manager)
    post_message(escalation, dc_a, "First: when will someone call us?")
    post_message(escalation, named_manager, "Second: I will call you at 3 pm.")
    with scopes_disabled():
        case_post_update(
            case=case,
            actor=dc_a,
            body="A case update, not an escalation message.",
            now=timezone.now(),
        )
    client.force_login(dc_a)

    page = page_of(client.get(escalation_url(escalation)))
    feed = block(page, "escalation-feed")
    case_page = page_of(client.get(detail(case)))

    assert feed.index("First: when will someone call us?") < feed.index("Second: I will call")
    assert "Escalation owner (Maria Manager)" in feed
    assert "A case update" not in page
    assert "when will someone call us" not in case_page
    assert "A case update, not an escalation message." in case_page


def test_posting_a_message_in_the_feed(client, org_a, dc_a):
    # DOMAIN E-9
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(dc_a)

    form = page_of(client.get(escalation_url(escalation)))
    response = client.post(
        message_url(escalation), {"message-body": "The outage hit 40 agents again."}, follow=True
    )

    assert 'id="message-form"' in form
    assert response.redirect_chain[-1][0].startswith(escalation_url(escalation))
    page = page_of(response)
    assert "Your message is posted." in page
    assert "The outage hit 40 agents again." in block(page, "escalation-feed")
    with scopes_disabled():
        [message] = EscalationMessage.objects.filter(escalation=escalation)
        assert (message.author, message.by_care, message.channel) == (dc_a, False, "portal")
        assert not CaseUpdate.objects.filter(case=case, body__contains="40 agents").exists()


def test_an_empty_message_is_explained_next_to_the_field(client, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(dc_a)

    response = client.post(message_url(escalation), {"message-body": "   "})

    assert response.status_code == 200
    assert "Write the message." in field_block(page_of(response), "message-body")
    with scopes_disabled():
        assert not EscalationMessage.objects.exists()


def test_a_message_on_a_closed_escalation_is_refused_with_a_message(client, org_a, dc_a, manager):
    # DOMAIN E-9
    case = open_case(dc_a, org_a, priority="medium")
    escalation = reject(escalate(case, dc_a), manager, "Care is on track.")
    client.force_login(dc_a)

    response = client.post(message_url(escalation), {"message-body": "Hello?"}, follow=True)

    assert "its feed is closed" in page_of(response)
    with scopes_disabled():
        assert not EscalationMessage.objects.exists()


def test_read_only_user_reads_the_feed_but_cannot_write(client, org_a, dc_a, ro_a):
    # DOMAIN T-4, E-9
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    post_message(escalation, dc_a, "Any news?")
    client.force_login(ro_a)

    page = page_of(client.get(escalation_url(escalation)))
    response = client.post(message_url(escalation), {"message-body": "Me too"})

    assert "Any news?" in block(page, "escalation-feed")
    assert 'id="message-form"' not in page
    assert 'data-testid="feed-read-only"' in page
    assert response.status_code == 403
    with scopes_disabled():
        assert EscalationMessage.objects.count() == 1


def test_another_tenants_escalation_is_not_found(client, org_a, org_b, dc_a, dc_b):
    # DOMAIN T-6
    case = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(dc_b)

    assert client.get(escalation_url(escalation)).status_code == 404
    assert client.post(message_url(escalation), {"message-body": "Hi"}).status_code == 404
    with scopes_disabled():
        assert not EscalationMessage.objects.exists()


def test_an_escalation_under_another_case_number_is_not_found(client, org_a, dc_a):
    case = open_case(dc_a, org_a, priority="medium")
    other = open_case(dc_a, org_a, priority="medium")
    escalation = escalate(case, dc_a)
    client.force_login(dc_a)

    wrong = reverse("cases:escalation", args=[other.number, escalation.pk])
    wrong_post = reverse("cases:escalation-message", args=[other.number, escalation.pk])

    assert client.get(wrong).status_code == 404
    assert client.post(wrong_post, {"message-body": "Hi"}).status_code == 404
    assert client.get(reverse("cases:escalation", args=[case.number, 999999])).status_code == 404


# --- query counts -------------------------------------------------------------------------


def test_case_page_runs_the_same_number_of_queries_at_1_and_6_escalations(
    client, org_a, dc_a, manager
):
    case = open_case(dc_a, org_a, priority="high")
    client.force_login(dc_a)

    def add_rejected(count: int) -> None:
        for i in range(count):
            reject(escalate(case, dc_a, details=f"round {i}"), manager, "Care is on track.")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(case)).status_code == 200
        return len(queries)

    add_rejected(1)
    at_one = count()
    add_rejected(5)

    assert count() == at_one
    assert len(escalations_of(case)) == 6


def test_escalation_page_runs_the_same_number_of_queries_at_2_and_20_messages(
    client, org_a, dc_a, manager
):
    case = open_case(dc_a, org_a, priority="medium")
    escalation = accept(escalate(case, dc_a), manager)
    client.force_login(dc_a)

    def add_messages(count: int) -> None:
        for i in range(count):
            post_message(escalation, manager if i % 2 else dc_a, f"message {i}")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(escalation_url(escalation)).status_code == 200
        return len(queries)

    add_messages(2)
    at_two = count()
    add_messages(18)

    assert count() == at_two
