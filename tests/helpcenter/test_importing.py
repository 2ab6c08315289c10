import textwrap
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from helpcenter.models import Article, ArticleRevision, ArticleTranslation, Category
from helpcenter.selectors import article_search

pytestmark = pytest.mark.django_db

CATEGORIES = """\
- slug: withdrawal
  parent: null
  icon: withdraw
  names: {zh-hans: 提币, en: Withdrawals, ja: 出金, ko: 출금}
- slug: withdrawal-pending
  parent: withdrawal
  names: {zh-hans: 提币未到账, en: Withdrawal not received, ja: 出金が届かない, ko: 출금 미수령}
"""


def article(
    key="withdrawal-not-received",
    language="en",
    title="My withdrawal has not arrived",
    category="withdrawal-pending",
    extra="",
    body="## Check the TXID\n\nUse a block explorer.\n",
):
    return (
        textwrap.dedent(f"""\
        ---
        key: {key}
        language: {language}
        title: "{title}"
        category: {category}
        tags: [withdrawal, txid]
        summary: Check the TXID first.
        {extra}
        ---
        """)
        + body
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "_categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    (tmp_path / "withdrawal-not-received.en.md").write_text(article(), encoding="utf-8")
    (tmp_path / "withdrawal-not-received.zh-hans.md").write_text(
        article(language="zh-hans", title="提币未到账怎么办", body="提币需要区块确认。\n"),
        encoding="utf-8",
    )
    (tmp_path / "_README.md").write_text("not an article", encoding="utf-8")
    return tmp_path


def test_import_creates_categories_articles_revisions_and_indexes(folder, search_index, capsys):
    call_command("import_articles", str(folder))
    assert Category.objects.get(slug="withdrawal-pending").parent.slug == "withdrawal"
    assert Category.objects.get(slug="withdrawal").name_ja == "出金"
    translations = ArticleTranslation.objects.filter(article__key="withdrawal-not-received")
    assert sorted(translations.values_list("language", flat=True)) == ["en", "zh-hans"]
    assert ArticleRevision.objects.count() == 2
    assert [h.key for h in article_search("提币", language="zh-hans").results] == [
        "withdrawal-not-received"
    ]
    assert "translations: 2 created" in capsys.readouterr().out


def test_second_import_changes_nothing(folder, search_index, capsys):
    call_command("import_articles", str(folder))
    before = ArticleTranslation.objects.values_list("pk", "updated_at")
    before = list(before)
    call_command("import_articles", str(folder))
    assert list(ArticleTranslation.objects.values_list("pk", "updated_at")) == before
    assert ArticleRevision.objects.count() == 2
    assert "2 unchanged" in capsys.readouterr().out


def test_changed_file_updates_its_translation_with_a_revision(folder, search_index):
    call_command("import_articles", str(folder))
    (folder / "withdrawal-not-received.en.md").write_text(
        article(title="Withdrawal not received"), encoding="utf-8"
    )
    call_command("import_articles", str(folder))
    translation = ArticleTranslation.objects.get(language="en")
    assert translation.title == "Withdrawal not received"
    assert translation.revisions.count() == 2


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("bad.en.md", "no front matter at all", "missing YAML front matter"),
        ("bad.en.md", article(language="fr"), "unknown language 'fr'"),
        ("bad.en.md", article(category="nowhere"), "unknown category 'nowhere'"),
        ("bad.en.md", article(key="Not A Key"), "invalid key"),
        ("bad.en.md", article(extra="status: live"), "unknown status 'live'"),
        ("bad.en.md", "---\nkey: [unclosed\n---\nbody", "not valid YAML"),
        ("bad.en.md", article(title=""), "needs 'title'"),
        ("dup.en.md", article(), "is also in"),
        (
            "other.ja.md",
            article(language="ja", category="withdrawal"),
            "all translations of an article share one category",
        ),
    ],
)
def test_a_malformed_file_stops_the_import_naming_the_file(folder, filename, content, problem):
    (folder / filename).write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("import_articles", str(folder))
    assert filename in str(error.value) or "withdrawal-not-received" in str(error.value)
    assert problem in str(error.value)
    assert not Article.objects.exists()
    assert not Category.objects.filter(slug="withdrawal").exists()


def test_broken_categories_file_is_reported(folder):
    (folder / "_categories.yaml").write_text("- slug: x\n  parent: missing\n  names: {en: X}\n")
    with pytest.raises(CommandError, match="_categories.yaml: category 'x' has an unknown parent"):
        call_command("import_articles", str(folder))


def test_export_writes_what_import_reads(folder, tmp_path, search_index):
    call_command("import_articles", str(folder))
    out = tmp_path / "exported"
    call_command("export_articles", str(out))
    assert (out / "_categories.yaml").exists()
    assert (
        (out / "withdrawal-not-received.zh-hans.md")
        .read_text(encoding="utf-8")
        .startswith("---\nkey: withdrawal-not-received\nlanguage: zh-hans\n")
    )
    before = list(ArticleTranslation.objects.values_list("pk", "updated_at"))
    call_command("import_articles", str(out))
    assert list(ArticleTranslation.objects.values_list("pk", "updated_at")) == before
