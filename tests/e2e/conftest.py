"""Browser tests: pytest-playwright driving the system Chromium against Django's live server.

Playwright cannot download its own browsers here, so the tests launch Debian's Chromium
(``/usr/bin/chromium``, or the path in ``CHROMIUM_PATH``). Without it every test in this
directory is skipped with the reason, instead of failing.

    .venv/bin/python -m pytest tests/e2e -q            # or: -m e2e
    .venv/bin/python -m pytest tests/e2e --headed      # watch it (needs a display)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

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


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark every test of this directory ``e2e``, and skip it when there is no Chromium.

    (Called for items below this directory only, and before ``-m`` deselects.)
    """
    item.add_marker(pytest.mark.e2e)
    reason = chromium_missing_reason()
    if reason:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests after all others (see ``_allow_orm_beside_playwrights_loop``).

    ``trylast``: after pytest-django's own reordering by database use. This hook sees the
    whole session's items.
    """
    e2e = [item for item in items if item.path.is_relative_to(E2E_DIR)]
    if e2e:
        others = [item for item in items if not item.path.is_relative_to(E2E_DIR)]
        items[:] = others + e2e


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwrights_loop() -> Iterator[None]:
    """Set DJANGO_ALLOW_ASYNC_UNSAFE for the browser tests.

    Playwright's sync API runs an asyncio event loop in the main thread, and from the start
    of the session-scoped ``playwright`` fixture to the end of the session that loop counts
    as running there. Django sees it and refuses every ORM call of the test bodies and
    fixtures (creating users, flushing the live server's database) with
    SynchronousOnlyOperation, although they are plain synchronous code that merely shares
    the thread with the loop. So allow them.

    Not at import time: conftests are imported at collection, so the variable would be set
    for the whole run, and subprocesses of other tests inherit it (``manage.py check
    --deploy`` then fails with async.E001). Session-scoped and autouse, it is set before
    ``playwright`` starts and cleared after it stops; the browser tests run last, so no
    other test runs with it, or beside the loop.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


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
