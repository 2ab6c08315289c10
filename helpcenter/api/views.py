"""Public, read-only help-center API: search, suggestions, categories, articles."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpcenter import selectors
from helpcenter.api.serializers import (
    ArticleListItemSerializer,
    ArticleSerializer,
    CategorySerializer,
    SearchParamsSerializer,
    SearchResponseSerializer,
    SuggestionSerializer,
)
from helpcenter.models import Category


def _params(request: Request) -> dict:
    params = SearchParamsSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = params.validated_data
    data.setdefault("lang", _request_language())
    data.setdefault("q", "")
    return data


def _request_language() -> str:
    language = get_language() or "en"
    return language if language in {"zh-hans", "en", "ja", "ko"} else "en"


class PublicAPIView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []


@extend_schema(
    parameters=[SearchParamsSerializer],
    responses=SearchResponseSerializer,
    summary="Search published help-center articles",
)
class SearchView(PublicAPIView):
    def get(self, request: Request) -> Response:
        params = _params(request)
        page = selectors.article_search(
            params["q"],
            language=params["lang"],
            category=params.get("category"),
            page=params["page"],
            page_size=params["page_size"],
        )
        body = {
            "count": page.count,
            "query": params["q"],
            "language": page.language,
            "page": page.page,
            "page_size": page.page_size,
            "suggestion": page.suggestion,
            "results": [
                {
                    "key": hit.key,
                    "language": hit.language,
                    "title": hit.title,
                    "category": hit.category,
                    "url": hit.url,
                    "snippet": str(hit.snippet),
                }
                for hit in page.results
            ],
        }
        return Response(body)


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="What the reader has typed so far."),
        OpenApiParameter("lang", str, description="zh-hans, en, ja or ko."),
    ],
    responses=SuggestionSerializer(many=True),
    summary="Article titles to suggest while the reader types",
)
class SuggestView(PublicAPIView):
    def get(self, request: Request) -> Response:
        params = _params(request)
        suggestions = selectors.title_suggestions(params["q"], language=params["lang"])
        return Response({"results": suggestions})


@extend_schema(summary="Help-center categories and sections, in all four languages")
class CategoryListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = CategorySerializer
    queryset = (
        Category.objects.select_related("parent")
        .prefetch_related("sections")
        .order_by("parent_id", "position", "slug")
    )


class CategoryDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = CategorySerializer
    lookup_field = "slug"
    queryset = CategoryListView.queryset


@extend_schema(
    parameters=[
        OpenApiParameter("lang", str, description="zh-hans, en, ja or ko."),
        OpenApiParameter("category", str, description="A category or section slug."),
    ],
    summary="Published articles in one language",
)
class ArticleListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = ArticleListItemSerializer

    def get_queryset(self):
        params = _params(self.request)
        translations = selectors.published_translations(params["lang"]).select_related(
            "article__category"
        )
        if params.get("category"):
            category = Category.objects.get(slug=params["category"])
            return selectors.category_translations(category, params["lang"])
        return translations.order_by("article__key")


@extend_schema(summary="One published article translation, by key and language")
class ArticleDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    serializer_class = ArticleSerializer

    def get_object(self):
        translation = selectors.translation_get(self.kwargs["key"], self.kwargs["language"])
        if translation is None:
            raise Http404
        return translation
