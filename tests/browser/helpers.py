"""What several browser tests do the way a person does it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polib
from django.conf import settings
from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@cache
def _catalogue(language_dir: str, mtime: float) -> polib.POFile:  # noqa: ARG001 - cache key
    return polib.pofile(str(_po_path(language_dir)))


def _po_path(language_dir: str) -> Path:
    return Path(settings.LOCALE_PATHS[0]) / language_dir / "LC_MESSAGES" / "django.po"


def translated(language_dir: str, msgid: str, msgctxt: str | None = None) -> str:
    """The translation of `msgid` in locale/<language_dir>/LC_MESSAGES/django.po, right now.

    The catalogues are being translated while these tests are written: the expected text is
    read from the .po instead of being copied into the test. Fails clearly when the entry is
    missing, untranslated, fuzzy (compile_catalogues leaves those out) or still English.
    """
    path = _po_path(language_dir)
    catalogue = _catalogue(language_dir, path.stat().st_mtime)
    entry = catalogue.find(msgid, msgctxt=msgctxt if msgctxt is not None else False)
    where = f"{path.relative_to(settings.BASE_DIR)}"
    assert entry is not None, f"{where} has no entry for {msgid!r}"
    assert entry.translated(), f"{where} has no usable (non-empty, non-fuzzy) msgstr for {msgid!r}"
    assert entry.msgstr.strip() != msgid, f"{where} translates {msgid!r} as English"
    return entry.msgstr


def main_navigation(page: Page):
    """The site's main navigation: the one navigation landmark in the header."""
    return page.get_by_role("banner").get_by_role("navigation")


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill the sign-in form the page shows and submit it."""
    form = page.locator("form").filter(has=page.get_by_role("button", name="Sign in"))
    form.get_by_label("Email address").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def account_menu(page: Page, name: str):
    """The account menu button in the header (a <details> summary showing the user's name)."""
    return page.locator("details.account-menu > summary").filter(
        has_text=re.compile(rf"^\s*{re.escape(name)}\b")
    )


def open_account_menu(page: Page, name: str) -> None:
    summary = account_menu(page, name)
    expect(summary).to_be_visible()
    summary.click()
    expect(page.locator("details.account-menu")).to_have_attribute("open", "")
