"""The help-center search index: one document per published article translation."""

from haystack import indexes

from helpcenter.markdown import plain_text
from helpcenter.models import ArticleTranslation
from helpcenter.search.analysis import body_analyzer, portal_analyzer, spelling_analyzer


class ArticleTranslationIndex(indexes.SearchIndex, indexes.Indexable):
    """Field types on Whoosh are fixed by `helpcenter.search.backend.SCHEMA`."""

    text = indexes.CharField(document=True, analyzer=body_analyzer())
    title = indexes.CharField(model_attr="title", analyzer=portal_analyzer())
    summary = indexes.CharField(model_attr="summary", indexed=False)
    # Unstemmed Latin vocabulary for "did you mean".
    spelling = indexes.CharField(analyzer=spelling_analyzer())
    key = indexes.CharField(model_attr="article__key")
    language = indexes.CharField(model_attr="language")
    # The article's category and its parent, so a filter on either finds it.
    categories = indexes.MultiValueField()
    category = indexes.CharField(model_attr="article__category__slug")

    def get_model(self):
        return ArticleTranslation

    def index_queryset(self, using=None):
        return (
            self.get_model()
            .objects.published()
            .select_related("article__category__parent")
            .order_by("pk")
        )

    def read_queryset(self, using=None):
        return self.index_queryset(using)

    def prepare_text(self, obj) -> str:
        return "\n".join([obj.title, obj.summary, " ".join(obj.tags), plain_text(obj.body_html)])

    def prepare_spelling(self, obj) -> str:
        return self.prepare_text(obj)

    def prepare_categories(self, obj) -> list[str]:
        category = obj.article.category
        return [category.slug] + ([category.parent.slug] if category.parent_id else [])
