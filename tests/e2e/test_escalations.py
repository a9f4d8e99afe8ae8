"""Escalations in a browser: a designated contact escalates a HIGH case, a care manager
accepts it and writes in the escalation feed, and the customer sees both (issue 6)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.tenancy import scopes_disabled
from escalations.models import Escalation, State
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, open_case

pytestmark = pytest.mark.e2e

DETAILS = "Three days without progress while every agent transfer drops; our launch is Friday."
OWNER_MESSAGE = "I own this escalation now: the routing team joins the bridge at 15:00 CET."
CUSTOMER_REPLY = "Thank you, we will have our telephony engineer on the bridge."


def test_contact_escalates_manager_accepts_and_writes_customer_sees_both(
    page: Page, live_server, manager, dc_a, org_a
):
    # DOMAIN E-7, E-8, E-9
    case = open_case(dc_a, org_a, priority="high", subject="Transfers drop for every agent")

    # The designated contact escalates from the case page.
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.display_number}/")
    page.get_by_test_id("escalate-button").click()
    expect(page.get_by_test_id("priority-change-advice")).to_contain_text("urgency or impact")
    # "No update" is not offered on a case opened a moment ago (E-6), and says why.
    expect(page.locator('[data-testid="reason-refusal"][data-reason="no_update"]')).to_be_visible()
    page.get_by_label("Deadline at risk").check()
    page.get_by_label("Details").fill(DETAILS)
    page.get_by_role("button", name="Request the escalation").click()

    # E-7: the confirmation banner and the timestamp on the case.
    expect(page.locator(".messages, .messagelist").first).to_contain_text("escalation")
    expect(page.get_by_test_id("case-escalated")).to_contain_text("Escalated")
    expect(page.get_by_test_id("escalation-list")).to_contain_text("Requested")
    expect(page.get_by_test_id("escalate-button-disabled")).to_be_visible()  # E-2
    with scopes_disabled():
        escalation = Escalation.objects.get(case_id=case.pk)

    # The care manager reviews it in the care workspace, accepts it and writes.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill(manager.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/admin/escalations/escalation/")
    page.get_by_role("link", name=case.display_number).first.wait_for()
    page.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    expect(page.get_by_test_id("escalation-details")).to_contain_text(DETAILS)
    accept = page.locator('details[data-action="accept"]')
    accept.locator("summary").click()
    accept.get_by_label("Importance").select_option("high")
    accept.get_by_label("Urgency").select_option("high")
    accept.get_by_role("button", name="Accept", exact=True).click()
    expect(page.get_by_test_id("escalation-state")).to_have_text("Accepted")
    write = page.locator('details[data-action="post-message"]')
    if not write.get_attribute("open"):
        write.locator("summary").click()
    write.get_by_label("Message").fill(OWNER_MESSAGE)
    write.get_by_role("button", name="Post").click()
    expect(page.get_by_test_id("escalation-feed")).to_contain_text(OWNER_MESSAGE)

    # The customer sees the decision and the owner's message, and answers in the feed.
    page.context.clear_cookies()
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.display_number}/")
    expect(page.get_by_test_id("escalation-list")).to_contain_text("Accepted")
    page.get_by_test_id("escalation-list").get_by_role("link").first.click()
    expect(page.get_by_test_id("escalation-state")).to_have_text("Accepted")
    expect(page.get_by_test_id("escalation-owner")).to_contain_text(manager.display_name)
    expect(page.get_by_test_id("escalation-feed")).to_contain_text(OWNER_MESSAGE)
    page.get_by_label("Your message").fill(CUSTOMER_REPLY)
    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_test_id("escalation-feed")).to_contain_text(CUSTOMER_REPLY)

    # E-9: the escalation feed is not the case feed.
    page.goto(f"{live_server.url}/cases/{case.display_number}/")
    expect(page.get_by_test_id("escalation-list")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(OWNER_MESSAGE)
    with scopes_disabled():
        escalation.refresh_from_db()
        assert escalation.state == State.ACCEPTED
        assert escalation.messages.count() == 2
