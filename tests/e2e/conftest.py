"""Browser tests: pytest-playwright driving the system Chromium against Django's live server.

Playwright cannot download its own browsers here, so the tests launch Debian's Chromium
(``/usr/bin/chromium``, or the path in ``CHROMIUM_PATH``). Without it every test in this
directory is skipped with the reason, instead of failing.

    .venv/bin/python -m pytest tests/e2e -q            # or: -m e2e
    .venv/bin/python -m pytest tests/e2e --headed      # watch it (needs a display)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

# Playwright's sync API runs an asyncio event loop in this (the main) thread. Django sees the
# running loop and refuses ORM calls from the test body and from fixtures (creating users,
# flushing the live server's database) with SynchronousOnlyOperation. Those calls are plain
# synchronous code that only happens to share the thread with the loop, so allow them.
pass

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Playwright's own defaults are 30 s for actions and 5 s for assertions; against a local
# live server a page that has not appeared within 10 s is not going to.
TIMEOUT_MS = 10_000

CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these, Chromium phones home (updates, safe browsing, sync) on start.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

E2E_DIR = Path(__file__).resolve().parent

expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or DEFAULT_CHROMIUM


def chromium_missing_reason() -> str | None:
    path = chromium_path()
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return None
    return f"Chromium not installed at {path}: apt-get install chromium (or set CHROMIUM_PATH)"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``e2e``; skip them all when there is no Chromium.

    ``tryfirst`` so the marker is there before ``-m`` deselects. The hook sees the whole
    session's items, so it touches only those below this directory.
    """
    reason = chromium_missing_reason()
    for item in items:
        if not item.path.is_relative_to(E2E_DIR):
            continue
        item.add_marker(pytest.mark.e2e)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options (``--headed``, ``--slowmo``) plus the system
    Chromium. Headless unless ``--headed`` is given."""
    return {
        "headless": True,
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(pytestconfig: pytest.Config) -> str | None:
    """The same as pytest-playwright's fallback ``base_url`` fixture (``--base-url`` or the
    ``base_url`` ini value), which pytest 9 warns about: it is an instance-method session
    fixture. The tests here build URLs from ``live_server.url`` instead."""
    return pytestconfig.getoption("--base-url", None) or pytestconfig.getini("base_url") or None


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context
