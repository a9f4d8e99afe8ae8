"""The care workspace in a browser: an analyst works a new case from the queue, and the
customer sees the result in the portal (issue 4, "Care workspace")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from cases.models import CaseEvent
from core.tenancy import scopes_disabled
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, open_case

pytestmark = pytest.mark.e2e

QUESTION = "Please send a HAR file of a failed login and the agent's browser version."


def test_analyst_takes_a_new_case_requests_info_and_the_customer_sees_it(
    page: Page, live_server, analyst, dc_a, org_a
):
    # DOMAIN C-7, C-8, C-9, C-16
    case = open_case(dc_a, org_a, subject="Agents cannot log in after the update")

    # The analyst signs in and goes from the portal to the care workspace's queues.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill(analyst.email)
    page.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Open the care workspace").click()
    page.get_by_test_id("care-work").get_by_role("link", name="Queues and my open cases").click()
    queues = page.get_by_test_id("queue-counts")
    expect(queues.locator('tr[data-queue="unassigned"] td.count')).to_have_text("1")
    queues.get_by_role("link", name="Unassigned").click()

    page.get_by_role("link", name=case.display_number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Case {case.display_number}")
    expect(page.get_by_test_id("case-sub-status")).to_have_text("New")

    # Take the case.
    take = page.locator('details[data-action="take"]')
    take.locator("summary").click()
    take.get_by_role("button", name="Take", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("You took the case")
    expect(page.get_by_test_id("case-sub-status")).to_have_text("Investigation")
    expect(page.get_by_test_id("case-owner")).to_have_text(analyst.get_full_name())

    # Ask the customer for information, with a public message.
    ask = page.locator('details[data-action="request-info"]')
    ask.locator("summary").click()
    ask.get_by_label("Public message to the customer").fill(QUESTION)
    ask.get_by_role("button", name="Request info").click()
    expect(page.locator(".messagelist")).to_contain_text("Information requested")
    expect(page.get_by_test_id("case-status")).to_have_text("Awaiting Info")
    expect(page.get_by_test_id("case-sub-status")).to_have_text("Info Required from Customer")
    expect(page.get_by_test_id("case-feed")).to_contain_text(QUESTION)
    expect(page.get_by_test_id("case-history")).to_contain_text(
        "Sub status: Investigation → Info Required from Customer"
    )

    # The customer signs in and sees the message and the status on the case page.
    page.context.clear_cookies()
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.display_number}/")
    expect(page.get_by_test_id("case-number")).to_have_text(case.display_number)
    expect(page.get_by_test_id("case-status")).to_have_text("Awaiting Info")
    expect(page.get_by_test_id("feed")).to_contain_text(QUESTION)
    expect(page.get_by_test_id("feed")).to_contain_text(re.compile("Customer Care"))

    with scopes_disabled():
        channels = set(
            CaseEvent.objects.filter(case_id=case.pk, kind=CaseEvent.Kind.TRANSITION).values_list(
                "channel", flat=True
            )
        )
    assert channels == {"admin"}
