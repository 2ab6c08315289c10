"""Public help-center pages: home, categories, articles, search, votes, images."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from helpcenter import selectors, services
from helpcenter.forms import SearchForm, VoteForm
from helpcenter.models import ArticleImage, ArticleTranslation, ArticleVote
from helpcenter.paging import page_for, with_neighbour_queries

VISITOR_COOKIE = "portal_visitor"


@login_not_required
def home(request: HttpRequest) -> HttpResponse:
    language = get_language()
    return render(
        request,
        "helpcenter/home.html",
        {
            "categories": selectors.categories_for_home(),
            "promoted": selectors.promoted_for_home(language),
            "latest": selectors.latest_for_home(language),
        },
    )


@login_not_required
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug)
    if category is None:
        raise Http404
    articles = page_for(request, selectors.category_translations(category, get_language()))
    return render(request, "helpcenter/category.html", {"category": category, "page": articles})


@login_not_required
def article_detail(request: HttpRequest, key: str) -> HttpResponse:
    language = get_language()
    translation = selectors.translation_get(key, language)
    if translation is None:
        available = _available_or_404(key)
        return render(
            request,
            "helpcenter/article_missing.html",
            {"key": key, "available": available},
            status=404,
        )
    log_id = request.GET.get("sq", "")
    if log_id.isdigit():
        services.search_log_click(log_id=int(log_id), translation=translation)
    return render(
        request,
        "helpcenter/article.html",
        {
            "translation": translation,
            "article": translation.article,
            "available_languages": selectors.available_languages(translation.article),
            "related": selectors.related_translations(translation),
            "vote": _existing_vote(request, translation),
            "vote_form": VoteForm(),
        },
    )


def _available_or_404(key: str) -> list[tuple[str, str]]:
    from helpcenter.models import Article

    article = Article.objects.filter(key=key).first()
    languages = selectors.available_languages(article) if article else []
    if not languages:
        raise Http404
    names = dict(settings.LANGUAGES)
    return [(code, names[code], selectors.article_url(key, code)) for code in languages]


def _visitor_id(request: HttpRequest) -> str:
    return request.COOKIES.get(VISITOR_COOKIE, "")[:64]


def _existing_vote(request: HttpRequest, translation: ArticleTranslation) -> ArticleVote | None:
    votes = ArticleVote.objects.filter(translation=translation)
    if request.user.is_authenticated:
        return votes.filter(user=request.user).first()
    visitor = _visitor_id(request)
    return votes.filter(visitor=visitor).first() if visitor else None


@login_not_required
@require_POST
def article_vote(request: HttpRequest, key: str) -> HttpResponse:
    translation = selectors.translation_get(key, get_language())
    if translation is None:
        raise Http404
    form = VoteForm(request.POST)
    response = HttpResponseRedirect(f"{selectors.article_url(key, translation.language)}#feedback")
    if not form.is_valid():
        messages.error(request, _("Choose yes or no."))
        return response
    visitor = _visitor_id(request) or secrets.token_urlsafe(24)
    existing = _existing_vote(request, translation)
    if existing is not None:
        if form.cleaned_data["comment"] and not existing.helpful:
            services.vote_add_comment(vote=existing, comment=form.cleaned_data["comment"])
            messages.success(request, _("Thank you. Your comment helps us improve this article."))
        else:
            messages.info(request, _("You have already rated this article."))
        return response
    try:
        services.vote_record(
            translation=translation,
            helpful=form.cleaned_data["helpful"],
            user=request.user if request.user.is_authenticated else None,
            visitor=visitor,
            comment=form.cleaned_data["comment"],
        )
    except services.AlreadyVoted:
        messages.info(request, _("You have already rated this article."))
        return response
    messages.success(request, _("Thank you for your feedback."))
    if not request.user.is_authenticated:
        response.set_cookie(
            VISITOR_COOKIE, visitor, max_age=60 * 60 * 24 * 365, httponly=True, samesite="Lax"
        )
    return response


@login_not_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    language = get_language()
    context = {
        "form": form,
        "query": request.GET.get("q", "")[:200],
        "categories": selectors.categories_for_home(),
    }
    if not form.is_valid():
        return render(request, "helpcenter/search.html", context, status=400)
    query, category = form.cleaned_data["q"], form.cleaned_data["category"]
    page_number = form.cleaned_data["page"] or 1
    results = selectors.article_search(
        query, language=language, category=category or None, page=page_number
    )
    log = None
    if query and page_number == 1:
        log = services.search_log_record(query=query, language=language, result_count=results.count)
    with_neighbour_queries(results, request)
    context.update({"results": results, "category": category, "search_log": log})
    return render(request, "helpcenter/search.html", context)


@login_not_required
@require_GET
@cache_control(public=True, max_age=60 * 60 * 24 * 30, immutable=True)
def article_image(request: HttpRequest, name: str) -> FileResponse:
    image = get_object_or_404(ArticleImage, file=f"helpcenter/images/{name}")
    content_type = "image/jpeg" if image.format_extension == "jpg" else "image/png"
    response = FileResponse(image.file.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
