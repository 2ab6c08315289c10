"""Shapes of the public help-center API (a stable contract: integrators rely on it)."""

from django.conf import settings
from rest_framework import serializers

from helpcenter.forms import MAX_QUERY_LENGTH, clean_query_text
from helpcenter.models import LANGUAGE_SUFFIXES, ArticleTranslation, Category
from helpcenter.selectors import article_url

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
MAX_PAGE_SIZE = 50


class LanguageField(serializers.ChoiceField):
    default_error_messages = {
        "invalid_choice": "Unknown language {input!r}: use one of zh-hans, en, ja, ko.",
    }

    def __init__(self, **kwargs):
        super().__init__(choices=LANGUAGE_CODES, **kwargs)


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_QUERY_LENGTH,
        help_text='What the reader typed: keywords, a "quoted phrase" or a whole sentence.',
    )
    lang = LanguageField(
        required=False, help_text="zh-hans, en, ja or ko (default: the request's language)."
    )
    category = serializers.SlugField(required=False, help_text="A category or section slug.")
    page = serializers.IntegerField(required=False, min_value=1, max_value=500, default=1)
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        default=10,
        help_text=f"Results per page, at most {MAX_PAGE_SIZE}.",
    )

    def validate_q(self, value: str) -> str:
        clean_query_text(value)  # refuses binary junk; the query itself is used as given
        return value

    def validate_page_size(self, value: int) -> int:
        return min(value, MAX_PAGE_SIZE)

    def validate_category(self, value: str) -> str:
        if not Category.objects.filter(slug=value).exists():
            raise serializers.ValidationError(f"Unknown category {value!r}.")
        return value


class SearchHitSerializer(serializers.Serializer):
    key = serializers.CharField()
    language = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField(help_text="The slug of the article's category or section.")
    url = serializers.CharField()
    snippet = serializers.CharField(help_text="An HTML excerpt; matches are wrapped in <mark>.")


class SearchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    query = serializers.CharField()
    language = serializers.CharField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    suggestion = serializers.CharField(allow_null=True)
    results = SearchHitSerializer(many=True)


class SuggestionSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()


class CategorySerializer(serializers.ModelSerializer):
    names = serializers.SerializerMethodField()
    descriptions = serializers.SerializerMethodField()
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sections = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["slug", "parent", "icon", "position", "names", "descriptions", "sections"]

    def get_names(self, category) -> dict[str, str]:
        return {code: getattr(category, f"name_{sfx}") for code, sfx in LANGUAGE_SUFFIXES.items()}

    def get_descriptions(self, category) -> dict[str, str]:
        return {
            code: getattr(category, f"description_{sfx}") for code, sfx in LANGUAGE_SUFFIXES.items()
        }

    def get_sections(self, category) -> list[str]:
        if category.parent_id:
            return []
        return [section.slug for section in category.sections.all()]


class ArticleSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="article.key")
    category = serializers.CharField(source="article.category.slug")
    url = serializers.SerializerMethodField()

    class Meta:
        model = ArticleTranslation
        fields = [
            "key", "language", "title", "summary", "tags", "category", "url",
            "body", "body_html", "toc", "published_at", "updated_at",
        ]  # fmt: skip

    def get_url(self, translation) -> str:
        return article_url(translation.article.key, translation.language)


class ArticleListItemSerializer(ArticleSerializer):
    class Meta(ArticleSerializer.Meta):
        fields = ["key", "language", "title", "summary", "tags", "category", "url", "updated_at"]
