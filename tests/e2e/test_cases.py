"""The case lifecycle in a browser: open a case with the service checklist, post an update
with a file, close, reopen, search and export (issue 3, "Customer portal")."""

from __future__ import annotations

import importlib
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from cases.models import Case, CaseUpdate, CloudService, ProductGroup
from core.tenancy import scopes_disabled
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD, CaseFactory

pytestmark = pytest.mark.e2e

SEED = importlib.import_module("cases.migrations.0002_services_and_groups")


@pytest.fixture
def services(transactional_db) -> None:
    """The cloud services of the data migration: a browser test's database is flushed
    after each test, which removes migration-seeded rows for the tests that follow."""
    groups = {
        slug: ProductGroup.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in SEED.GROUPS
    }
    for slug, name, group, items in SEED.SERVICES:
        CloudService.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "product_group": groups[group],
                "checklist": SEED.checklist(items),
            },
        )


def test_designated_contact_opens_updates_closes_reopens_and_exports(
    page: Page, live_server, services, dc_a, tmp_path
):
    # DOMAIN C-4, C-8, C-10, C-11, C-12, C-13, C-14
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Open a case").click()
    expect(page.get_by_role("heading", name="Open a case", level=1)).to_be_visible()
    expect(page.get_by_test_id("one-issue-note")).to_be_visible()

    # Choosing the service fills the description with its checklist (htmx).
    description = page.get_by_label("Description", exact=True)
    expect(description).to_have_value("")
    page.get_by_label("Cloud service").select_option("routing")
    expect(description).to_have_value(re.compile("Good and bad call examples"))
    page.get_by_label("Sub-type").select_option("problem")
    page.get_by_label("Subject").fill("Calls drop after transfer to billing")
    description.fill(description.input_value() + "\nHappens on every blind transfer.")
    page.get_by_role("radio", name=re.compile(r"^Medium")).check()
    page.get_by_label("Business impact").fill("Agents have to call customers back.")
    page.get_by_role("button", name="Open the case").click()

    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Case \d{8} is open"))
    number = page.get_by_test_id("case-number").inner_text()
    expect(page).to_have_url(f"{live_server.url}/cases/{number}/")
    expect(page.get_by_test_id("case-status")).to_have_text("Open")

    # A public update with a file.
    log = tmp_path / "transfer.txt"
    log.write_text("10:02:11 transfer to 4711 dropped\n")
    page.get_by_label("Your update").fill("Here is the log of a dropped call.")
    page.get_by_label("Attachments (optional)").set_input_files(str(log))
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_role("status")).to_have_text("Your update is posted.")
    feed = page.get_by_test_id("feed")
    expect(feed).to_contain_text("Here is the log of a dropped call.")
    expect(feed.get_by_role("link", name="transfer.txt")).to_be_visible()

    # Close, then reopen with a reason.
    page.get_by_label("Comment (optional)").fill("Works after the reboot.")
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Closed")
    page.get_by_label("Why reopen the case?").fill("It fails again since this morning.")
    page.get_by_role("button", name="Reopen the case").click()
    expect(page.get_by_role("status")).to_contain_text("The case is reopened")
    expect(page.get_by_test_id("case-status")).to_have_text("Open")
    expect(page.get_by_test_id("case-sub-status")).to_have_text("Customer Responded")

    with scopes_disabled():
        case = Case.objects.get(number=int(number))
        assert case.contact_id == dc_a.pk
        assert case.service.slug == "routing"
        assert "Good and bad call examples" in case.description
        assert CaseUpdate.objects.filter(case=case, attachments__name="transfer.txt").exists()

    # The search box takes a case number.
    page.get_by_role("searchbox", name="Search cases").fill(str(int(number)))
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{live_server.url}/cases/{number}/")

    # All Cases exports exactly its rows.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="All Cases").click()
    expect(page.get_by_test_id("case-table")).to_contain_text(number)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export to Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with zipfile.ZipFile(download.path()) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "Calls drop after transfer to billing" in sheet
    assert number in sheet


def test_show_more_appends_the_next_five_of_my_cases(
    page: Page, live_server, services, dc_a, org_a
):
    # DOMAIN C-13
    for i in range(7):
        CaseFactory(organization=org_a, contact=dc_a, subject=f"Queue case {i}")
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My Cases").click()

    rows = page.get_by_test_id("case-table").locator("tbody tr[data-case]")
    expect(rows).to_have_count(5)
    page.get_by_role("link", name="Show more").click()
    expect(rows).to_have_count(7)
    expect(rows.nth(5).get_by_role("link")).to_be_focused()
    expect(page.get_by_role("link", name="Show more")).to_have_count(0)
    expect(page).to_have_url(f"{live_server.url}/cases/mine/")  # appended in place
