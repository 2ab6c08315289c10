"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Run them in their own pytest invocation (Playwright's sync API owns an event loop):

    DJANGO_ALLOW_ASYNC_UNSAFE=true .venv/bin/pytest tests/browser -q
"""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils.translation.reloader import translation_file_changed
from playwright.sync_api import expect

# Generous for a loaded 2-core machine, far below Playwright's 30 s default.
ACTION_TIMEOUT_MS = 10_000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    """Every test in this folder drives a browser: mark it `browser`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium: Playwright cannot download its own browsers here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """`page.goto("/en/")` opens the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A visitor whose browser speaks English and lives in UTC (desktop: 1280×720)."""
    return {**browser_context_args, "locale": "en-US", "timezone_id": "UTC"}


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """Compile locale/*/LC_MESSAGES/django.po into .mo (not committed) before any page renders.

    Translators edit the .po files while the suite runs elsewhere, so compile at the start of
    every session and drop whatever catalogues Django already loaded.
    """
    call_command("compile_catalogues", stdout=io.StringIO())
    for folder in django_settings.LOCALE_PATHS:
        for mo_file in Path(folder).glob("*/LC_MESSAGES/*.mo"):
            translation_file_changed(sender=None, file_path=mo_file)


@pytest.fixture(autouse=True)
def _portal(live_server, settings):
    """Every test talks to the live server (and so gets a flushed, transactional database);
    links in emails point at it."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def new_context(new_context):
    """Every browser context (`page`, phones) fails fast: the live server answers in ms."""

    def make(**kwargs):
        context = new_context(**kwargs)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context

    return make


@pytest.fixture(autouse=True)
def _expect_timeout():
    expect.set_options(timeout=ACTION_TIMEOUT_MS)


SERVER_START_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def asgi_url(django_db_setup, django_db_blocker):
    """The base URL of a daphne serving `support_portal.asgi` (HTTP and WebSockets).

    Started in a child process the way `channels.testing.ChannelsLiveServerTestCase`
    does it: the child shares the file-based test database and the file cache, so
    the in-process channel layer reaches every page it serves.
    """
    from functools import partial

    from channels.testing.live import make_application, set_database_connection
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    server = DaphneProcess(
        "localhost",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=set_database_connection,
    )
    # Forked while database access is allowed: the child keeps that state. It must
    # not inherit an open SQLite connection either; it opens its own.
    with django_db_blocker.unblock():
        connections.close_all()
        server.start()
    if not server.ready.wait(timeout=SERVER_START_TIMEOUT_S):
        server.terminate()
        raise RuntimeError(f"daphne did not start: {server.errors.get_nowait()!r}")
    yield f"http://localhost:{server.port.value}"
    server.terminate()
    server.join(timeout=10)
