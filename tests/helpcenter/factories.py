import factory

from helpcenter.models import Category


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    icon = "question"
    name_en = factory.Sequence(lambda n: f"Category {n}")
    name_zh_hans = factory.Sequence(lambda n: f"分类 {n}")
    name_ja = factory.Sequence(lambda n: f"カテゴリ {n}")
    name_ko = factory.Sequence(lambda n: f"카테고리 {n}")
