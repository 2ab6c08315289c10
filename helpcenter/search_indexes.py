"""Search index of the help center.

Categories are indexed in all four languages so the index is never empty on a
fresh install; articles join them with their own index.
"""

from haystack import indexes

from helpcenter.models import Category


class CategoryIndex(indexes.SearchIndex, indexes.Indexable):
    text = indexes.CharField(document=True, use_template=True)
    slug = indexes.CharField(model_attr="slug")

    def get_model(self):
        return Category

    def index_queryset(self, using=None):
        return self.get_model().objects.all()
