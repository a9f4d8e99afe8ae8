"""Steps shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def login(page: Page, live_server, email: str, password: str) -> None:
    """Sign in through the login form and wait until the dashboard shows the user."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    expect(page.get_by_test_id("user-name")).to_be_visible()
