"""Every write to the help center: articles, translations, revisions, votes, images, synonyms.

The console, the importer, the API and the admin call these functions. A save
renders the Markdown, keeps a revision, and queues the search-index update for
after the commit, so an editor never waits on the index.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from helpcenter import markdown
from helpcenter.models import (
    Article,
    ArticleImage,
    ArticleRevision,
    ArticleStatus,
    ArticleTranslation,
    ArticleVote,
    Category,
    SearchLog,
    SearchSynonym,
)
from helpcenter.tasks import article_reindex
from support_portal.uploads import UploadKind, clean_upload

TRACKED_FIELDS = ("title", "summary", "body", "tags", "status")
MAX_TAGS = 20


class AlreadyVoted(Exception):
    """This reader has already said whether the article helped."""


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = []
    for tag in tags:
        tag = str(tag).strip()[:40]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(count)d tags.") % {"count": MAX_TAGS}})
    return cleaned


def article_create(*, key: str, category: Category, position: int = 0) -> Article:
    """Create the language-independent part of an article."""
    article = Article(key=key, category=category, position=position)
    article.full_clean()
    article.save()
    return article


def article_update(
    *,
    article: Article,
    category: Category,
    position: int,
    promoted: bool,
    promoted_on_home: bool,
    related: Iterable[Article] = (),
) -> Article:
    """Change where an article lives and how it is promoted; reindex its translations."""
    article.category = category
    article.position = position
    article.promoted = promoted
    article.promoted_on_home = promoted_on_home
    article.full_clean()
    with transaction.atomic():
        article.save()
        article.related.set([r for r in related if r.pk != article.pk])
        for translation_id in article.translations.values_list("pk", flat=True):
            article_reindex.delay_on_commit(translation_id)
    return article


def translation_save(
    *,
    article: Article,
    language: str,
    title: str,
    summary: str = "",
    body: str = "",
    tags: Iterable[str] = (),
    status: str = ArticleStatus.DRAFT,
    editor=None,
    note: str = "",
    reindex: bool = True,
) -> tuple[ArticleTranslation, bool]:
    """Create or update one translation; keep a revision when anything changed.

    Returns (translation, changed). Saving identical content changes nothing,
    which keeps repeated imports idempotent. `reindex=False` leaves the search
    index to the caller (the importer indexes a whole batch at once).
    """
    values = {
        "title": title.strip(),
        "summary": summary.strip(),
        "body": body.replace("\r\n", "\n").strip() + ("\n" if body.strip() else ""),
        "tags": _clean_tags(tags),
        "status": status,
    }
    with transaction.atomic():
        translation = (
            ArticleTranslation.objects.select_for_update()
            .filter(article=article, language=language)
            .first()
        )
        created = translation is None
        if created:
            translation = ArticleTranslation(article=article, language=language, author=editor)
        changed = [name for name in TRACKED_FIELDS if getattr(translation, name) != values[name]]
        if not created and not changed:
            return translation, False
        for name, value in values.items():
            setattr(translation, name, value)
        rendered = markdown.render(translation.body)
        translation.body_html, translation.toc = rendered.html, rendered.toc
        now = timezone.now()
        translation.updated_at = now
        if translation.status == ArticleStatus.PUBLISHED and translation.published_at is None:
            translation.published_at = now
        translation.full_clean(exclude=["article", "author"])
        translation.save()
        ArticleRevision.objects.create(
            translation=translation,
            editor=editor,
            created_at=now,
            changed_fields=list(TRACKED_FIELDS) if created else changed,
            note=note[:200],
            **values,
        )
        if reindex:
            article_reindex.delay_on_commit(translation.pk)
    return translation, True


def _save_again(
    translation: ArticleTranslation, *, editor, note: str, **changes
) -> ArticleTranslation:
    """Save `translation` with some fields changed, through `translation_save`."""
    fields = {name: getattr(translation, name) for name in TRACKED_FIELDS} | changes
    saved, _changed = translation_save(
        article=translation.article,
        language=translation.language,
        editor=editor,
        note=note,
        **fields,
    )
    return saved


def translation_set_status(
    *, translation: ArticleTranslation, status: str, editor=None
) -> ArticleTranslation:
    """Publish, unpublish (back to draft) or archive a translation."""
    return _save_again(translation, editor=editor, note=f"status → {status}", status=status)


def revision_restore(*, revision: ArticleRevision, editor=None) -> ArticleTranslation:
    """Make an old revision the current content (itself recorded as a new revision)."""
    restored = {name: getattr(revision, name) for name in ("title", "summary", "body", "tags")}
    return _save_again(
        revision.translation, editor=editor, note=f"restored revision {revision.pk}", **restored
    )


def vote_record(
    *,
    translation: ArticleTranslation,
    helpful: bool,
    user=None,
    visitor: str = "",
    comment: str = "",
) -> ArticleVote:
    """Record "Was this helpful?" once per signed-in user, or per visitor cookie.

    Raises AlreadyVoted for a second answer from the same reader.
    """
    if user is None and not visitor:
        raise ValueError("A vote needs a user or a visitor id.")
    try:
        with transaction.atomic():
            vote = ArticleVote.objects.create(
                translation=translation,
                user=user,
                visitor="" if user is not None else visitor,
                helpful=helpful,
                comment="" if helpful else comment.strip()[:1000],
            )
            counter = "helpful_yes" if helpful else "helpful_no"
            ArticleTranslation.objects.filter(pk=translation.pk).update(**{counter: F(counter) + 1})
    except IntegrityError as exc:
        raise AlreadyVoted from exc
    return vote


def vote_add_comment(*, vote: ArticleVote, comment: str) -> ArticleVote:
    """Add "what was missing" to a "no" vote after the fact."""
    if not vote.helpful:
        vote.comment = comment.strip()[:1000]
        vote.save(update_fields=["comment"])
    return vote


def image_upload(*, data: bytes, editor=None) -> ArticleImage:
    """Verify an uploaded image, strip its metadata by re-encoding, and store it.

    Raises ValidationError for anything that is not a PNG, JPEG, WebP or GIF
    image that decodes completely within the size limits (see support_portal.uploads).
    """
    clean = clean_upload(
        data,
        allowed={UploadKind.IMAGE},
        max_bytes=settings.HELPCENTER_IMAGE_MAX_BYTES,
        max_pixels=settings.HELPCENTER_IMAGE_MAX_PIXELS,
    )
    record = ArticleImage(
        format_extension=clean.extension,
        width=clean.width,
        height=clean.height,
        uploaded_by=editor,
    )
    record.file.save(f"image.{clean.extension}", ContentFile(clean.content), save=False)
    record.save()
    return record


def synonym_save(
    *, terms: str, language: str = "", group: SearchSynonym | None = None
) -> SearchSynonym:
    """Create or change a synonym group; the next search in any process uses it."""
    from helpcenter.selectors import forget_synonyms

    group = group or SearchSynonym()
    group.terms, group.language = terms, language
    group.full_clean()
    group.save()
    forget_synonyms()
    return group


def synonym_delete(*, group: SearchSynonym) -> None:
    from helpcenter.selectors import forget_synonyms

    group.delete()
    forget_synonyms()


def search_log_record(*, query: str, language: str, result_count: int) -> SearchLog:
    return SearchLog.objects.create(query=query[:200], language=language, result_count=result_count)


def search_log_click(*, log_id: int, translation: ArticleTranslation) -> None:
    """Remember which result a search led to (the first click counts)."""
    SearchLog.objects.filter(pk=log_id, clicked__isnull=True, language=translation.language).update(
        clicked=translation
    )


def category_save(*, category: Category) -> Category:
    category.full_clean()
    category.save()
    return category


# -- console --
# Added for the editor console (helpcenter.console_views). The functions above are unchanged.


class StaleTranslation(Exception):
    """The translation changed (or was created) after the editor opened it."""

    def __init__(self, current: ArticleTranslation | None):
        super().__init__("The translation changed since it was loaded.")
        self.current = current


def translation_save_unless_stale(
    *,
    article: Article,
    language: str,
    seen_updated_at,
    **fields,
) -> tuple[ArticleTranslation, bool]:
    """`translation_save`, refused when someone saved the translation after the editor loaded it.

    `seen_updated_at` is the translation's `updated_at` when the form was rendered, or None
    when the translation did not exist yet. Raises StaleTranslation (nothing is written).
    The check and the save run in one transaction that holds the row lock (on SQLite the
    IMMEDIATE write lock), so two editors cannot both pass the check and overwrite each other.
    """
    with transaction.atomic():
        current = (
            ArticleTranslation.objects.select_for_update()
            .filter(article=article, language=language)
            .first()
        )
        if (current.updated_at if current else None) != seen_updated_at:
            raise StaleTranslation(current)
        return translation_save(article=article, language=language, **fields)
