"""The help-center editor console: articles, translations, revisions, feedback, categories,
synonyms and the search log. Every page needs `helpcenter.edit_helpcenter`.

Views parse input, read through `helpcenter.selectors`, write through `helpcenter.services`
and render; a service's ValidationError becomes a form error and nothing is written.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpcenter import console_forms as forms
from helpcenter import markdown, selectors, services
from helpcenter.models import ArticleStatus, SearchSynonym
from helpcenter.paging import page_for

editor_required = permission_required("helpcenter.edit_helpcenter", raise_exception=True)

LANGUAGE_NAMES = dict(settings.LANGUAGES)
# Multipart framing around the image (boundaries, headers, the alt text, the CSRF token).
UPLOAD_OVERHEAD_BYTES = 64 * 1024
STATUS_MESSAGES = {
    "save": gettext_lazy("Draft saved."),
    "publish": gettext_lazy("Published: readers can see this version now."),
    "unpublish": gettext_lazy("Unpublished: the translation is a draft again."),
    "archive": gettext_lazy("Archived: the translation is hidden from readers."),
}


# ----------------------------------------------------------------------------
# Articles
# ----------------------------------------------------------------------------


@editor_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    form = forms.ArticleFilterForm(request.GET)
    form.is_valid()  # Invalid filters are shown with their errors and ignored.
    filters = form.cleaned_data
    articles = selectors.console_articles(
        query=filters.get("q", ""),
        category=filters.get("category"),
        language=filters.get("language", ""),
        status=filters.get("status", ""),
    )
    page = page_for(request, articles)
    return render(
        request,
        "helpcenter/console/article_list.html",
        {
            "filter_form": form,
            "page": page,
            "rows": selectors.console_article_rows(page.object_list),
            "languages": settings.LANGUAGES,
        },
    )


@editor_required
@require_http_methods(["GET", "POST"])
def article_create(request: HttpRequest) -> HttpResponse:
    form = forms.ArticleCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(
                key=form.cleaned_data["key"], category=form.cleaned_data["category"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Article created. Write its first translation."))
            return redirect("helpcenter_console:article_editor", key=article.key)
    return render(
        request,
        "helpcenter/console/article_create.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@dataclass
class EditorSide:
    position: str  # "left" or "right"
    language: str
    language_name: str
    translation: object
    form: forms.TranslationForm
    upload_form: forms.ImageUploadForm
    preview_html: str


def _default_right(left: str) -> str:
    codes = selectors.LANGUAGE_CODES
    if left != "en":
        return "en"
    return codes[(codes.index(left) + 1) % len(codes)]


def _editor_languages(request: HttpRequest) -> tuple[str, str]:
    """The two languages to show: ?left=…&right=…, else the editor's language and English."""
    codes = selectors.LANGUAGE_CODES
    preferred = getattr(request.user, "preferred_language", "") or "en"
    left = request.GET.get("left", "")
    if left not in codes:
        left = preferred if preferred in codes else "en"
    right = request.GET.get("right", "")
    if right not in codes or right == left:
        right = _default_right(left)
    return left, right


def _editor_url(key: str, left: str, right: str, anchor: str = "") -> str:
    url = reverse("helpcenter_console:article_editor", args=[key])
    return f"{url}?{urlencode({'left': left, 'right': right})}" + (f"#{anchor}" if anchor else "")


def _article_or_404(key: str):
    article = selectors.console_article_get(key)
    if article is None:
        raise Http404
    return article


def _render_editor(
    request: HttpRequest,
    article,
    *,
    settings_form: forms.ArticleSettingsForm | None = None,
    bound_form: forms.TranslationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    left, right = _editor_languages(request)
    translations = selectors.console_translations(article)
    sides = []
    for position, language in (("left", left), ("right", right)):
        translation = translations.get(language)
        if bound_form is not None and bound_form.language == language:
            form = bound_form
            preview_html = markdown.render(form.data.get(form.add_prefix("body"), "")).html
        else:
            form = forms.TranslationForm(language=language, translation=translation)
            preview_html = translation.body_html if translation else ""
        sides.append(
            EditorSide(
                position=position,
                language=language,
                language_name=LANGUAGE_NAMES[language],
                translation=translation,
                form=form,
                upload_form=forms.ImageUploadForm(auto_id=f"id_{language}_upload_%s"),
                preview_html=preview_html,
            )
        )
    conflict = bound_form.conflict if bound_form is not None else None
    return render(
        request,
        "helpcenter/console/article_editor.html",
        {
            "article": article,
            "settings_form": settings_form or forms.ArticleSettingsForm(article=article),
            "sides": sides,
            "left": left,
            "right": right,
            "languages": settings.LANGUAGES,
            "editor_query": urlencode({"left": left, "right": right}),
            "editor_url": _editor_url(article.key, left, right),
            "conflict": conflict,
            "conflict_revision": selectors.latest_revision(conflict) if conflict else None,
            "max_image_mb": settings.HELPCENTER_IMAGE_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@editor_required
@require_GET
def article_editor(request: HttpRequest, key: str) -> HttpResponse:
    return _render_editor(request, _article_or_404(key))


@editor_required
@require_POST
def article_settings(request: HttpRequest, key: str) -> HttpResponse:
    article = _article_or_404(key)
    form = forms.ArticleSettingsForm(request.POST, article=article)
    if form.is_valid():
        try:
            services.article_update(
                article=article,
                category=form.cleaned_data["category"],
                position=form.cleaned_data["position"],
                promoted=form.cleaned_data["promoted"],
                promoted_on_home=form.cleaned_data["promoted_on_home"],
                related=form.cleaned_data["related"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Article settings saved."))
            left, right = _editor_languages(request)
            return redirect(_editor_url(article.key, left, right))
        # article_update changed the instance before refusing: show the stored settings.
        article = _article_or_404(key)
    return _render_editor(request, article, settings_form=form, status=400)


@editor_required
@require_POST
def translation_save(request: HttpRequest, key: str, language: str) -> HttpResponse:
    if language not in selectors.LANGUAGE_CODES:
        raise Http404
    article = _article_or_404(key)
    form = forms.TranslationForm(request.POST, language=language)
    if not form.is_valid():
        return _render_editor(request, article, bound_form=form, status=400)
    data = form.cleaned_data
    try:
        _translation, changed = services.translation_save_unless_stale(
            article=article,
            language=language,
            seen_updated_at=data["seen_updated_at"],
            title=data["title"],
            summary=data["summary"],
            body=data["body"],
            tags=data["tags"],
            status=form.status,
            editor=request.user,
            note=data["note"],
        )
    except services.StaleTranslation as exc:
        form.mark_conflict(exc.current)
        return _render_editor(request, article, bound_form=form, status=409)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _render_editor(request, article, bound_form=form, status=400)
    if changed:
        messages.success(request, str(STATUS_MESSAGES[data["action"]]))
    else:
        messages.info(request, _("Nothing changed, so nothing was saved."))
    left, right = _editor_languages(request)
    return redirect(_editor_url(article.key, left, right, anchor=f"side-{language}"))


@editor_required
@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The sanitised HTML of a Markdown body, for the editor's live preview."""
    form = forms.PreviewForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": form.errors["body"][0]}, status=400)
    return JsonResponse({"html": markdown.render(form.cleaned_data["body"]).html})


def _too_large_message() -> str:
    return _("The image is larger than %(size)d MB.") % {
        "size": settings.HELPCENTER_IMAGE_MAX_BYTES // (1024 * 1024)
    }


def _upload_answer(
    request: HttpRequest,
    *,
    next_url: str,
    error: str = "",
    markdown_text: str = "",
    status: int = 400,
) -> HttpResponse:
    """JSON for the editor's script; a redirect to `next_url` with a message for a plain post."""
    if "application/json" in request.headers.get("Accept", ""):
        if error:
            return JsonResponse({"error": error}, status=status)
        return JsonResponse({"markdown": markdown_text})
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Image uploaded. Paste this where it belongs in the body: %(markdown)s")
            % {"markdown": markdown_text},
        )
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("helpcenter_console:articles")
    return redirect(next_url)


@csrf_exempt  # Checked by _image_upload below, once the size is known to be sensible.
@editor_required
@require_POST
def image_upload(request: HttpRequest) -> HttpResponse:
    """Store an image for an article and answer with the Markdown that shows it.

    The declared size is checked before the body is parsed: the CSRF check reads the whole
    multipart body, so it runs after (csrf_exempt outside, csrf_protect inside).
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.HELPCENTER_IMAGE_MAX_BYTES + UPLOAD_OVERHEAD_BYTES:
        # The body stays unread, so its "next" field is unknown: go back where the form was.
        return _upload_answer(
            request,
            next_url=request.META.get("HTTP_REFERER", ""),
            error=_too_large_message(),
            status=413,
        )
    return _image_upload(request)


@csrf_protect
def _image_upload(request: HttpRequest) -> HttpResponse:
    form = forms.ImageUploadForm(request.POST, request.FILES)
    answer = functools.partial(_upload_answer, request, next_url=request.POST.get("next", ""))
    if not form.is_valid():
        errors = form.errors.get("image") or form.errors.get("alt") or [_("Choose an image.")]
        return answer(error=errors[0])
    upload = form.cleaned_data["image"]
    if upload.size > settings.HELPCENTER_IMAGE_MAX_BYTES:
        return answer(error=_too_large_message(), status=413)
    try:
        image = services.image_upload(data=upload.read(), editor=request.user)
    except ValidationError as exc:
        return answer(error=exc.messages[0])
    url = reverse("article_image", args=[image.name])
    return answer(markdown_text=f"![{form.cleaned_data['alt']}]({url})")


# ----------------------------------------------------------------------------
# Revisions
# ----------------------------------------------------------------------------

FIELD_LABELS = {
    "title": gettext_lazy("Title"),
    "summary": gettext_lazy("Summary"),
    "body": gettext_lazy("Body"),
    "tags": gettext_lazy("Tags"),
    "status": gettext_lazy("Status"),
}


def _translation_or_404(key: str, language: str):
    translation = selectors.console_translation_get(key, language)
    if translation is None:
        raise Http404
    return translation


@editor_required
@require_GET
def revision_list(request: HttpRequest, key: str, language: str) -> HttpResponse:
    translation = _translation_or_404(key, language)
    page = page_for(request, selectors.translation_revisions(translation))
    return render(
        request,
        "helpcenter/console/revision_list.html",
        {
            "translation": translation,
            "article": translation.article,
            "language_name": LANGUAGE_NAMES[language],
            "page": page,
            "field_labels": FIELD_LABELS,
            "status_labels": dict(ArticleStatus.choices),
            "editor_url": _editor_url(key, language, _default_right(language)),
        },
    )


@editor_required
@require_GET
def revision_diff(request: HttpRequest, key: str, language: str, pk: int) -> HttpResponse:
    translation = _translation_or_404(key, language)
    revision = get_object_or_404(selectors.translation_revisions(translation), pk=pk)
    revision.translation = translation
    diffs = selectors.revision_compare(revision)
    return render(
        request,
        "helpcenter/console/revision_diff.html",
        {
            "translation": translation,
            "article": translation.article,
            "language_name": LANGUAGE_NAMES[language],
            "revision": revision,
            "diffs": diffs,
            "field_labels": FIELD_LABELS,
            "identical": not any(diff.changed for diff in diffs),
        },
    )


@editor_required
@require_POST
def revision_restore(request: HttpRequest, key: str, language: str, pk: int) -> HttpResponse:
    translation = _translation_or_404(key, language)
    revision = get_object_or_404(selectors.translation_revisions(translation), pk=pk)
    revision.translation = translation
    before = translation.updated_at
    try:
        restored = services.revision_restore(revision=revision, editor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("helpcenter_console:revisions", key=key, language=language)
    if restored.updated_at == before:
        messages.info(request, _("That revision is already the current text."))
    else:
        messages.success(
            request,
            _("Revision of %(when)s restored; the restore is itself a new revision.")
            % {"when": date_format(timezone.localtime(revision.created_at), "DATETIME_FORMAT")},
        )
    return redirect(_editor_url(key, language, _default_right(language), anchor=f"side-{language}"))


# ----------------------------------------------------------------------------
# Feedback and search log
# ----------------------------------------------------------------------------


@editor_required
@require_GET
def feedback(request: HttpRequest) -> HttpResponse:
    form = forms.FeedbackFilterForm(request.GET)
    form.is_valid()
    language = form.cleaned_data.get("language", "")
    key = form.cleaned_data.get("article", "")
    return render(
        request,
        "helpcenter/console/feedback.html",
        {
            "filter_form": form,
            "comments": page_for(
                request, selectors.votes_with_comments(language=language, key=key)
            ),
            "counts": page_for(
                request,
                selectors.translation_feedback_counts(language=language, key=key),
                "cpage",
            ),
            "language_names": LANGUAGE_NAMES,
        },
    )


@editor_required
@require_GET
def search_log(request: HttpRequest) -> HttpResponse:
    form = forms.SearchLogFilterForm(request.GET)
    form.is_valid()
    language = form.cleaned_data.get("language", "")
    period = form.cleaned_data.get("period") or "7"
    since = None if period == "all" else timezone.now() - timedelta(days=int(period))
    return render(
        request,
        "helpcenter/console/search_log.html",
        {
            "filter_form": form,
            "top": page_for(request, selectors.search_log_summary(language=language, since=since)),
            "misses": page_for(
                request,
                selectors.search_log_summary(language=language, since=since, misses_only=True),
                "mpage",
            ),
            "language_names": LANGUAGE_NAMES,
        },
    )


# ----------------------------------------------------------------------------
# Categories
# ----------------------------------------------------------------------------


@editor_required
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    page = page_for(request, selectors.categories_for_home())
    return render(request, "helpcenter/console/category_list.html", {"page": page})


def _category_form(request: HttpRequest, category=None) -> HttpResponse:
    form = forms.CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.category_save(category=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Category “%(name)s” saved.") % {"name": saved.name})
            return redirect("helpcenter_console:categories")
    return render(
        request,
        "helpcenter/console/category_form.html",
        {"form": form, "category": category},
        status=400 if form.errors else 200,
    )


@editor_required
@require_http_methods(["GET", "POST"])
def category_create(request: HttpRequest) -> HttpResponse:
    return _category_form(request)


@editor_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug)
    if category is None:
        raise Http404
    return _category_form(request, category)


# ----------------------------------------------------------------------------
# Synonyms
# ----------------------------------------------------------------------------


@editor_required
@require_GET
def synonym_list(request: HttpRequest) -> HttpResponse:
    page = page_for(request, selectors.synonym_list())
    return render(
        request,
        "helpcenter/console/synonym_list.html",
        {"page": page, "language_names": LANGUAGE_NAMES},
    )


def _synonym_form(request: HttpRequest, group: SearchSynonym | None = None) -> HttpResponse:
    initial = {"language": group.language, "terms": group.terms} if group else None
    form = forms.SynonymForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.synonym_save(
                terms=form.cleaned_data["terms"],
                language=form.cleaned_data["language"],
                group=group,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Synonyms saved; searches use them from now on."))
            return redirect("helpcenter_console:synonyms")
    return render(
        request,
        "helpcenter/console/synonym_form.html",
        {"form": form, "group": group},
        status=400 if form.errors else 200,
    )


@editor_required
@require_http_methods(["GET", "POST"])
def synonym_create(request: HttpRequest) -> HttpResponse:
    return _synonym_form(request)


@editor_required
@require_http_methods(["GET", "POST"])
def synonym_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _synonym_form(request, get_object_or_404(SearchSynonym, pk=pk))


@editor_required
@require_http_methods(["GET", "POST"])
def synonym_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(SearchSynonym, pk=pk)
    if request.method == "POST":
        services.synonym_delete(group=group)
        messages.success(request, _("Synonym group deleted."))
        return redirect("helpcenter_console:synonyms")
    return render(
        request,
        "helpcenter/console/synonym_confirm_delete.html",
        {"group": group, "language_names": LANGUAGE_NAMES},
    )
