import pytest

from tests.helpcenter.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_home_lists_categories_with_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    for _ in range(3):
        parent = CategoryFactory()
        CategoryFactory(parent=parent)
    with django_assert_max_num_queries(3):
        page = client.get("/en/")
    assert page.status_code == 200
    for _ in range(10):
        parent = CategoryFactory()
        CategoryFactory(parent=parent)
    with django_assert_max_num_queries(3):
        client.get("/en/")


def test_category_page_lists_its_sections(client):
    parent = CategoryFactory(slug="deposit", name_en="Deposits")
    CategoryFactory(slug="deposit-not-credited", parent=parent, name_en="Deposit not credited")
    page = client.get("/en/categories/deposit/").content.decode()
    assert "Deposit not credited" in page


def test_unknown_category_is_404(client):
    assert client.get("/en/categories/no-such-thing/").status_code == 404


def test_search_page_escapes_the_query(client):
    page = client.get("/en/search/", {"q": '<script>alert("x")</script>'}).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
