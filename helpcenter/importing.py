"""Read and write the help center as a folder of Markdown files (a stable contract).

Format: `_categories.yaml` (a list of `{slug, parent, names, descriptions?, icon?}`)
and one Markdown file per translation with YAML front matter (`key`, `language`,
`title`, `category`, optional `tags`, `summary`, `status`). Files whose names
start with `_` are not articles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from helpcenter import services
from helpcenter.models import (
    CATEGORY_ICONS,
    LANGUAGE_SUFFIXES,
    Article,
    ArticleStatus,
    ArticleTranslation,
    Category,
)

LANGUAGES = [code for code, _name in settings.LANGUAGES]
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(?P<meta>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(?P<body>.*)\Z", re.S
)
ICONS = {value for value, _label in CATEGORY_ICONS}
DEFAULT_STATUS = ArticleStatus.PUBLISHED


class ImportProblem(Exception):
    """A file that cannot be imported; the message names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path.name}: {problem}")
        self.path, self.problem = path, problem


@dataclass
class CategoryRow:
    slug: str
    parent: str | None
    names: dict[str, str]
    descriptions: dict[str, str]
    icon: str | None


@dataclass
class TranslationRow:
    path: Path
    key: str
    language: str
    title: str
    category: str
    tags: list[str]
    summary: str
    status: str
    body: str


@dataclass
class ImportReport:
    categories_created: int = 0
    categories_updated: int = 0
    articles_created: int = 0
    translations_created: int = 0
    translations_updated: int = 0
    translations_unchanged: int = 0
    changed_translations: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"categories: {self.categories_created} created, {self.categories_updated} updated",
            f"articles: {self.articles_created} created",
            f"translations: {self.translations_created} created, "
            f"{self.translations_updated} updated, {self.translations_unchanged} unchanged",
        ]


# ----------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------


def _text_map(path: Path, value, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportProblem(path, f"{what} must be a mapping of language code to text")
    unknown = set(value) - set(LANGUAGES)
    if unknown:
        raise ImportProblem(path, f"{what} has unknown languages: {', '.join(sorted(unknown))}")
    return {language: str(text or "").strip() for language, text in value.items()}


def read_categories(path: Path) -> list[CategoryRow]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportProblem(path, f"not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise ImportProblem(path, "expected a list of categories")
    rows, seen = [], set()
    for number, item in enumerate(data, start=1):
        where = f"entry {number}"
        if not isinstance(item, dict):
            raise ImportProblem(path, f"{where} is not a mapping")
        slug = str(item.get("slug") or "")
        if not KEY_PATTERN.match(slug):
            raise ImportProblem(path, f"{where} has an invalid slug {slug!r}")
        if slug in seen:
            raise ImportProblem(path, f"category {slug!r} is listed twice")
        names = _text_map(path, item.get("names"), f"category {slug!r} names")
        if not names.get("en"):
            raise ImportProblem(path, f"category {slug!r} needs at least an English name")
        icon = item.get("icon")
        if icon is not None and icon not in ICONS:
            raise ImportProblem(path, f"category {slug!r} has an unknown icon {icon!r}")
        parent = item.get("parent")
        rows.append(
            CategoryRow(
                slug=slug,
                parent=str(parent) if parent else None,
                names=names,
                descriptions=_text_map(
                    path, item.get("descriptions"), f"category {slug!r} descriptions"
                ),
                icon=icon,
            )
        )
        seen.add(slug)
    return rows


def read_translation(path: Path) -> TranslationRow:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportProblem(path, "not UTF-8 text") from None
    match = FRONT_MATTER.match(text)
    if match is None:
        raise ImportProblem(path, "missing YAML front matter between '---' lines")
    try:
        meta = yaml.safe_load(match.group("meta")) or {}
    except yaml.YAMLError as exc:
        raise ImportProblem(path, f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise ImportProblem(path, "front matter must be a mapping")
    for required in ("key", "language", "title", "category"):
        if not meta.get(required):
            raise ImportProblem(path, f"front matter needs '{required}'")
    key, language = str(meta["key"]), str(meta["language"])
    if not KEY_PATTERN.match(key):
        raise ImportProblem(path, f"invalid key {key!r} (lowercase letters, digits and hyphens)")
    if language not in LANGUAGES:
        raise ImportProblem(path, f"unknown language {language!r} (use {', '.join(LANGUAGES)})")
    tags = meta.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str | int | float) for t in tags):
        raise ImportProblem(path, "tags must be a list of words")
    status = str(meta.get("status") or DEFAULT_STATUS)
    if status not in ArticleStatus.values:
        raise ImportProblem(path, f"unknown status {status!r} (use draft, published or archived)")
    title = str(meta["title"]).strip()
    if len(title) > 200:
        raise ImportProblem(path, "title is longer than 200 characters")
    summary = str(meta.get("summary") or "").strip()
    if len(summary) > 400:
        raise ImportProblem(path, "summary is longer than 400 characters")
    return TranslationRow(
        path=path,
        key=key,
        language=language,
        title=title,
        category=str(meta["category"]),
        tags=[str(t) for t in tags],
        summary=summary,
        status=status,
        body=match.group("body").strip() + "\n",
    )


def read_folder(folder: Path) -> tuple[list[CategoryRow], list[TranslationRow]]:
    """Parse and cross-check the whole folder; raise ImportProblem on the first problem."""
    if not folder.is_dir():
        raise ImportProblem(folder, "is not a folder")
    categories_file = folder / "_categories.yaml"
    categories = read_categories(categories_file) if categories_file.exists() else []
    translations = [
        read_translation(path)
        for path in sorted(folder.glob("*.md"))
        if not path.name.startswith("_")
    ]

    known = {row.slug for row in categories} | set(Category.objects.values_list("slug", flat=True))
    for row in categories:
        if row.parent and row.parent not in known:
            raise ImportProblem(
                categories_file, f"category {row.slug!r} has an unknown parent {row.parent!r}"
            )
    seen: dict[tuple[str, str], Path] = {}
    category_of_key: dict[str, tuple[str, Path]] = {}
    for row in translations:
        if row.category not in known:
            raise ImportProblem(row.path, f"unknown category {row.category!r}")
        if (row.key, row.language) in seen:
            raise ImportProblem(
                row.path,
                f"{row.key} [{row.language}] is also in {seen[(row.key, row.language)].name}",
            )
        seen[(row.key, row.language)] = row.path
        previous = category_of_key.setdefault(row.key, (row.category, row.path))
        if previous[0] != row.category:
            raise ImportProblem(
                row.path,
                f"category {row.category!r} differs from {previous[0]!r} in {previous[1].name}; "
                "all translations of an article share one category",
            )
    return categories, translations


# ----------------------------------------------------------------------------
# Writing to the database
# ----------------------------------------------------------------------------


def _category_fields(row: CategoryRow, parent: Category | None, position: int) -> dict:
    fields = {"parent": parent, "position": position}
    if row.icon:
        fields["icon"] = row.icon
    for language, suffix in LANGUAGE_SUFFIXES.items():
        fields[f"name_{suffix}"] = row.names.get(language) or row.names["en"]
        fields[f"description_{suffix}"] = row.descriptions.get(language, "")
    return fields


def import_folder(folder: Path, *, editor=None) -> ImportReport:
    """Import a folder in one transaction: all of it, or nothing (ImportProblem)."""
    categories, translations = read_folder(folder)
    report = ImportReport()
    with transaction.atomic():
        by_slug = {c.slug: c for c in Category.objects.all()}
        positions: dict[str | None, int] = {}
        for row in _parents_first(categories):
            position = positions[row.parent] = positions.get(row.parent, -1) + 1
            wanted = _category_fields(
                row, by_slug.get(row.parent) if row.parent else None, position
            )
            try:
                by_slug[row.slug] = _save_category(by_slug.get(row.slug), row, wanted, report)
            except ValidationError as exc:
                raise ImportProblem(
                    folder / "_categories.yaml", f"{row.slug}: {_message(exc)}"
                ) from exc

        articles = {a.key: a for a in Article.objects.filter(key__in={r.key for r in translations})}
        for row in translations:
            article = articles.get(row.key)
            if article is None:
                article = services.article_create(key=row.key, category=by_slug[row.category])
                articles[row.key] = article
                report.articles_created += 1
            elif article.category_id != by_slug[row.category].pk:
                article.category = by_slug[row.category]
                article.save(update_fields=["category"])
            existed = ArticleTranslation.objects.filter(
                article=article, language=row.language
            ).exists()
            try:
                translation, changed = services.translation_save(
                    article=article,
                    language=row.language,
                    title=row.title,
                    summary=row.summary,
                    body=row.body,
                    tags=row.tags,
                    status=row.status,
                    editor=editor,
                    note=f"imported from {row.path.name}",
                    reindex=False,
                )
            except ValidationError as exc:
                raise ImportProblem(row.path, _message(exc)) from exc
            if changed:
                report.changed_translations.append(translation.pk)
                if existed:
                    report.translations_updated += 1
                else:
                    report.translations_created += 1
            else:
                report.translations_unchanged += 1
    return report


def _save_category(category, row: CategoryRow, wanted: dict, report: ImportReport) -> Category:
    if category is None:
        report.categories_created += 1
        return services.category_save(category=Category(slug=row.slug, **wanted))
    if any(getattr(category, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(category, name, value)
        report.categories_updated += 1
        return services.category_save(category=category)
    return category


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _parents_first(rows: list[CategoryRow]) -> list[CategoryRow]:
    return [r for r in rows if not r.parent] + [r for r in rows if r.parent]


# ----------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------


def _dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def export_folder(folder: Path) -> int:
    """Write every category and translation in the import format; return the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    categories = Category.objects.select_related("parent").order_by(
        "parent__position", "position", "slug"
    )
    rows = []
    for category in sorted(categories, key=lambda c: (c.parent_id is not None, c.position, c.slug)):
        rows.append(
            {
                "slug": category.slug,
                "parent": category.parent.slug if category.parent else None,
                "icon": category.icon,
                "names": {
                    lang: getattr(category, f"name_{sfx}")
                    for lang, sfx in LANGUAGE_SUFFIXES.items()
                },
                "descriptions": {
                    lang: getattr(category, f"description_{sfx}")
                    for lang, sfx in LANGUAGE_SUFFIXES.items()
                },
            }
        )
    (folder / "_categories.yaml").write_text(_dump(rows), encoding="utf-8")
    count = 1
    for translation in ArticleTranslation.objects.select_related("article__category").order_by(
        "article__key", "language"
    ):
        meta = {
            "key": translation.article.key,
            "language": translation.language,
            "title": translation.title,
            "category": translation.article.category.slug,
            "tags": translation.tags,
            "summary": translation.summary,
            "status": translation.status,
        }
        text = f"---\n{_dump(meta)}---\n{translation.body}"
        path = folder / f"{translation.article.key}.{translation.language}.md"
        path.write_text(text, encoding="utf-8")
        count += 1
    return count
