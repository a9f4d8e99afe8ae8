"""Service levels in a browser: the designated contact sees the case's targets on its page
and the month's report (S-2, S-3, S-6, S-8)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases import services
from cases.models import Channel
from tests.cases import acting_as
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, open_case

pytestmark = pytest.mark.e2e


def test_designated_contact_sees_the_targets_and_the_report(
    page: Page, live_server, analyst, dc_a, org_a
):
    # DOMAIN S-2, S-3, S-6, S-8
    case = open_case(dc_a, org_a, subject="Calls drop after transfer", priority="high")
    with acting_as(analyst):
        services.case_request_info(
            case=case, actor=analyst, body="Which trunk?", channel=Channel.ADMIN,
            now=timezone.now(),
        )  # fmt: skip

    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.display_number}/")

    panel = page.get_by_test_id("sla-panel")
    expect(panel.get_by_role("heading", name="Service levels")).to_be_visible()
    expect(panel.get_by_test_id("sla-response-met")).to_have_text("Met")
    expect(panel.get_by_test_id("sla-resolution")).to_contain_text("Paused since")

    page.goto(f"{live_server.url}/cases/reports/service-levels/")
    report = page.get_by_test_id("sla-report")
    expect(report).to_contain_text("Org A")
    expect(report).to_contain_text("100%")
    with page.expect_download() as download:
        page.get_by_test_id("export-link").click()
    assert download.value.suggested_filename.startswith("service-levels-all-")
