"""The zh-hans, ja and ko catalogues: complete, faithful, current and compiled.

Every string a customer can see is translated: a stressed user at 3 a.m. must
not meet English half-way through a withdrawal question.
"""

import contextlib
import io
import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from django.utils.translation import gettext

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
# Every language but the source one has a catalogue.
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# The same options as the documented command:
# manage.py makemessages -l zh_Hans -l ja -l ko --ignore=.venv --ignore=var
#   --ignore=tests --ignore=bench --no-obsolete
MAKEMESSAGES_IGNORE = [".venv", "var", "tests", "bench"]
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge")

# %(name)s, %s, %d, %.2f, %%: Python's printf-style conversions.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0+-]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
# Attributes written for people: their values are translated, the rest must stay.
HUMAN_ATTRIBUTE = re.compile(r'\b(alt|aria-label|placeholder|title)="[^"]*"')


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / translation.to_locale(language) / "LC_MESSAGES" / "django.po"


def load_catalogue(language: str) -> polib.POFile:
    path = catalogue_path(language)
    assert path.is_file(), (
        f"{path} is missing: run makemessages -l {translation.to_locale(language)}"
    )
    return polib.pofile(str(path))


def label(entry: polib.POEntry) -> str:
    return f"{entry.msgid!r} (context {entry.msgctxt!r})" if entry.msgctxt else repr(entry.msgid)


def markup(text: str) -> Counter:
    """The placeholders and HTML tags a string carries, counted."""
    tags = [HUMAN_ATTRIBUTE.sub(r'\1="…"', tag) for tag in HTML_TAG.findall(text)]
    return Counter(PLACEHOLDER.findall(text)) + Counter(tags)


def translations_of(entry: polib.POEntry) -> list[tuple[str, str]]:
    """(source, translation) pairs; these languages have one plural form, which covers n > 1."""
    if entry.msgid_plural:
        return [(entry.msgid_plural, text) for _index, text in sorted(entry.msgstr_plural.items())]
    return [(entry.msgid, entry.msgstr)]


@pytest.fixture(scope="session")
def compiled_catalogues():
    """The .mo files, built as setup builds them (they are not committed)."""
    call_command("compile_catalogues", stdout=io.StringIO())
    # Changing LOCALE_PATHS drops the catalogues this process loaded before the
    # .mo files existed (Django's setting_changed receiver), on entry and exit.
    with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
        pass


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    """Each catalogue entry has a reviewed translation: none empty, none fuzzy."""
    catalogue = load_catalogue(language)

    problems = [f"untranslated: {label(entry)}" for entry in catalogue.untranslated_entries()]
    problems += [f"fuzzy: {label(entry)}" for entry in catalogue.fuzzy_entries()]

    assert not problems, (
        f"{len(problems)} entries of {catalogue_path(language)} need a translator "
        "(translate them; check fuzzy ones, then drop the fuzzy flag):\n" + "\n".join(problems)
    )
    assert not catalogue.metadata_is_fuzzy, f"The header of {catalogue_path(language)} is fuzzy."


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_header_declares_its_language_and_one_plural_form(language):
    """The header names the language, UTF-8 and the single plural form of zh, ja and ko."""
    metadata = load_catalogue(language).metadata

    assert metadata.get("Language") == translation.to_locale(language)
    assert "charset=UTF-8" in metadata.get("Content-Type", "")
    assert metadata.get("Plural-Forms") == "nplurals=1; plural=0;"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_and_html_tag(language):
    """A translation carries exactly the msgid's python-format placeholders and HTML tags."""
    broken = []
    for entry in load_catalogue(language).translated_entries():
        for source, text in translations_of(entry):
            expected, found = markup(source), markup(text)
            if expected != found:
                broken.append(
                    f"{label(entry)}\n    msgstr {text!r}\n"
                    f"    lost {sorted((expected - found).elements())}, "
                    f"added {sorted((found - expected).elements())}"
                )

    assert not broken, (
        f"{len(broken)} translations in {catalogue_path(language)} change placeholders or "
        "HTML tags:\n" + "\n".join(broken)
    )


def test_catalogues_contain_every_string_marked_in_the_source(tmp_path):
    """Every string marked in code and templates is in each committed catalogue."""
    missing_tools = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if missing_tools:
        pytest.fail(
            f"{', '.join(missing_tools)} not found on PATH: install Debian's `gettext` package "
            "(apt-get install gettext) so makemessages can extract the strings to compare."
        )

    # makemessages sends each source file to the nearest `locale` folder above it,
    # so run from BASE_DIR it would rewrite the committed catalogues whatever
    # LOCALE_PATHS says. Run it on a copy of the source without them instead.
    source = tmp_path / "source"
    shutil.copytree(
        settings.BASE_DIR,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "locale", "__pycache__", ".*_cache", "node_modules"
        ),
    )
    extracted = tmp_path / "locale"
    with override_settings(LOCALE_PATHS=[extracted]), contextlib.chdir(source):
        call_command(
            "makemessages",
            locale=["ja"],
            ignore_patterns=MAKEMESSAGES_IGNORE,
            no_obsolete=True,
            verbosity=0,
        )
    fresh = polib.pofile(str(extracted / "ja" / "LC_MESSAGES" / "django.po"))
    marked = {(entry.msgctxt, entry.msgid): entry for entry in fresh}
    assert marked, "makemessages found no string marked for translation."

    out_of_date = {}
    for language in LANGUAGES:
        committed = {(entry.msgctxt, entry.msgid) for entry in load_catalogue(language)}
        missing = sorted(
            (key for key in marked if key not in committed), key=lambda key: (key[0] or "", key[1])
        )
        if missing:
            out_of_date[translation.to_locale(language)] = [label(marked[key]) for key in missing]

    assert not out_of_date, (
        "The catalogues are out of date with the source. Run\n"
        "  .venv/bin/python manage.py makemessages -l zh_Hans -l ja -l ko --ignore=.venv "
        "--ignore=var --ignore=tests --ignore=bench --no-obsolete\n"
        "and translate the new entries. Missing:\n"
        + "\n".join(
            f"  {locale_name}: {', '.join(labels)}" for locale_name, labels in out_of_date.items()
        )
    )


@pytest.mark.usefixtures("compiled_catalogues")
@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_translates_at_run_time(language):
    """Once compiled, the catalogue replaces the English at run time."""
    expected = load_catalogue(language).find("My requests").msgstr

    with translation.override(language):
        shown = gettext("My requests")

    assert shown != "My requests"
    assert shown == expected
