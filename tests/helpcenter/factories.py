import factory

from helpcenter import services
from helpcenter.models import Article, ArticleStatus, ArticleTranslation, Category


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    icon = "question"
    name_en = factory.Sequence(lambda n: f"Category {n}")
    name_zh_hans = factory.Sequence(lambda n: f"分类 {n}")
    name_ja = factory.Sequence(lambda n: f"カテゴリ {n}")
    name_ko = factory.Sequence(lambda n: f"카테고리 {n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    """An article without translations, created through `services.article_create`."""

    class Meta:
        model = Article

    key = factory.Sequence(lambda n: f"article-{n}")
    category = factory.SubFactory(CategoryFactory)
    position = 0

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.article_create(**kwargs)


class ArticleTranslationFactory(factory.django.DjangoModelFactory):
    """A translation saved through `services.translation_save` (rendered body, first revision).

    A draft unless told otherwise: `ArticleTranslationFactory(published=True)`.
    """

    class Meta:
        model = ArticleTranslation

    article = factory.SubFactory(ArticleFactory)
    language = "en"
    title = factory.Sequence(lambda n: f"Article title {n}")
    summary = ""
    body = "## First step\n\nOpen the **app**.\n"
    tags = factory.LazyFunction(list)
    status = ArticleStatus.DRAFT
    editor = None

    class Params:
        published = factory.Trait(status=ArticleStatus.PUBLISHED)
        archived = factory.Trait(status=ArticleStatus.ARCHIVED)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        translation, _changed = services.translation_save(**kwargs)
        return translation
