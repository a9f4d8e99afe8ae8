"""Signing in and out, My Support Access, My Profile and tenant isolation, in a browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from tests.e2e.helpers import login
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.e2e


def test_designated_contact_signs_in_sees_access_and_signs_out(
    page: Page, live_server, dc_a, ro_a, dc_b
):
    # The email typed in upper case: sign-in is case-insensitive.
    login(page, live_server, dc_a.email.upper(), DEFAULT_PASSWORD)

    expect(page.get_by_test_id("user-name")).to_have_text(dc_a.display_name)
    expect(page.get_by_test_id("org-name")).to_have_text(["Org A"])
    card = page.get_by_role("region", name="Org A")
    expect(card).to_contain_text("Designated contact")
    expect(card).to_contain_text("A Production")
    expect(page.get_by_role("region", name="Org B")).to_have_count(0)

    card.get_by_role("link", name="My Support Access").click()
    expect(page).to_have_url(f"{live_server.url}/organizations/org-a/access/")
    table = page.get_by_test_id("access-table")
    me = table.get_by_role("row").filter(has_text=dc_a.email)
    expect(me).to_contain_text(dc_a.display_name)
    expect(me).to_contain_text("Designated contact")
    expect(table).to_contain_text(ro_a.email)
    expect(table).not_to_contain_text(dc_b.email)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("user-name")).to_have_count(0)

    # Signed out, a protected page sends the browser to the sign-in page.
    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/accounts/profile/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_on_the_login_page(page: Page, live_server, dc_a):
    login_url = f"{live_server.url}/accounts/login/"
    page.goto(login_url)
    page.get_by_label("Email", exact=True).fill(dc_a.email)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("That email and password do not match")
    expect(page).to_have_url(login_url)
    expect(page.get_by_label("Email", exact=True)).to_have_value(dc_a.email)
    expect(page.get_by_test_id("user-name")).to_have_count(0)


def test_profile_saves_phone_and_time_zone_and_rejects_an_unknown_zone(
    page: Page, live_server, dc_a
):
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="My Profile").click()
    expect(page.get_by_role("heading", name="My Profile")).to_be_visible()

    phone = page.get_by_label("Phone", exact=True)
    time_zone = page.get_by_label("Time zone", exact=True)
    phone.fill("+49 89 1234 5678")
    time_zone.fill("Europe/Berlin")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("Your profile is saved.")
    expect(phone).to_have_value("+49 89 1234 5678")
    expect(time_zone).to_have_value("Europe/Berlin")
    user = User.objects.get(pk=dc_a.pk)
    assert (user.phone, user.time_zone) == ("+49 89 1234 5678", "Europe/Berlin")

    # An unknown zone: an error at the field, and nothing is saved (not the phone either).
    phone.fill("+49 89 9999 0000")
    time_zone.fill("Mars/Olympus")
    page.get_by_role("button", name="Save").click()

    field = page.locator(".field", has=time_zone)
    expect(field.get_by_role("alert")).to_contain_text("not a known time zone")
    expect(time_zone).to_have_value("Mars/Olympus")
    expect(page.get_by_role("status")).to_have_count(0)
    user = User.objects.get(pk=dc_a.pk)
    assert (user.phone, user.time_zone) == ("+49 89 1234 5678", "Europe/Berlin")


def test_another_organizations_page_is_not_found(page: Page, live_server, dc_a, org_b):
    login(page, live_server, dc_a.email, DEFAULT_PASSWORD)

    for path in ("/organizations/org-b/", "/organizations/org-b/access/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("Org B")

    # The same user's own organization is there: the 404 is about the tenant, not the URL.
    response = page.goto(f"{live_server.url}/organizations/org-a/")
    assert response is not None
    assert response.status == 200
    expect(page.get_by_role("heading", name="Org A", level=1)).to_be_visible()
