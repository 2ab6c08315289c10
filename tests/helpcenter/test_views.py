import pytest
from django.utils import translation

from helpcenter.models import ArticleVote
from tests.helpcenter.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_home_has_a_constant_number_of_queries(client, publish, django_assert_max_num_queries):
    for n in range(3):
        parent = CategoryFactory()
        CategoryFactory(parent=parent)
        publish(f"a{n}", "en", f"Article {n}", category=parent.slug)
    with django_assert_max_num_queries(4):
        assert client.get("/en/").status_code == 200
    for n in range(3, 15):
        parent = CategoryFactory()
        CategoryFactory(parent=parent)
        publish(f"a{n}", "en", f"Article {n}", category=parent.slug)
    with django_assert_max_num_queries(4):
        client.get("/en/")


def test_home_shows_pinned_articles(client, publish):
    translation = publish("reset-2fa", "en", "Reset 2FA")
    translation.article.promoted_on_home = True
    translation.article.save()
    page = client.get("/en/").content.decode()
    assert "Popular articles" in page and "/en/articles/reset-2fa/" in page


def test_category_page_lists_its_and_its_sections_articles_paginated(client, publish, settings):
    settings.HELPCENTER_PAGE_SIZE = 2
    parent = CategoryFactory(slug="deposit", name_en="Deposits")
    CategoryFactory(slug="deposit-not-credited", parent=parent, name_en="Deposit not credited")
    publish("d1", "en", "Deposit one", category="deposit")
    publish("d2", "en", "Deposit two", category="deposit-not-credited")
    publish("d3", "en", "Deposit three", category="deposit")
    first = client.get("/en/categories/deposit/").content.decode()
    second = client.get("/en/categories/deposit/?page=2").content.decode()
    assert "Deposit not credited" in first
    assert first.count("/en/articles/d") + second.count("/en/articles/d") == 3


def test_unknown_category_is_404(client):
    assert client.get("/en/categories/no-such-thing/").status_code == 404


def test_article_page_shows_body_toc_and_existing_languages(
    client, publish, django_assert_max_num_queries
):
    publish("reset-2fa", "en", "Reset 2FA", "## Before you start\n\ntext\n\n## Steps\n\n1. one")
    publish("reset-2fa", "ja", "二段階認証のリセット", "本文")
    with django_assert_max_num_queries(8):
        page = client.get("/en/articles/reset-2fa/").content.decode()
    assert '<h2 id="h-before-you-start">Before you start</h2>' in page
    assert 'href="#h-steps"' in page
    assert 'href="/ja/articles/reset-2fa/"' in page
    assert 'href="/ko/articles/reset-2fa/"' not in page


def test_missing_translation_offers_the_existing_languages(client, publish):
    publish("reset-2fa", "en", "Reset 2FA")
    response = client.get("/ko/articles/reset-2fa/")
    assert response.status_code == 404
    assert "/en/articles/reset-2fa/" in response.content.decode()


def test_drafts_and_unknown_keys_are_404(client, publish):
    publish("secret", "en", "Unreleased", status="draft")
    assert client.get("/en/articles/secret/").status_code == 404
    assert client.get("/en/articles/nothing-here/").status_code == 404


def test_visitor_votes_once_and_can_say_what_was_missing(client, publish):
    translation = publish("reset-2fa", "en", "Reset 2FA")
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "no"})
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "yes"})
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "no", "comment": "Needs screenshots"})
    votes = list(ArticleVote.objects.all())
    translation.refresh_from_db()
    assert len(votes) == 1 and votes[0].helpful is False
    assert votes[0].comment == "Needs screenshots"
    assert (translation.helpful_yes, translation.helpful_no) == (0, 1)


def test_signed_in_user_votes_once_across_browsers(client, publish, customer):
    publish("reset-2fa", "en", "Reset 2FA")
    client.force_login(customer)
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "yes"})
    client.cookies.clear()
    client.force_login(customer)
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "yes"})
    assert ArticleVote.objects.count() == 1


def test_vote_with_bad_input_changes_nothing(client, publish):
    publish("reset-2fa", "en", "Reset 2FA")
    client.post("/en/articles/reset-2fa/vote/", {"helpful": "maybe"})
    assert ArticleVote.objects.count() == 0
    assert client.post("/en/articles/nothing/vote/", {"helpful": "yes"}).status_code == 404


def test_search_page_shows_highlighted_results_and_logs_the_search(client, search_index, publish):
    from helpcenter.models import SearchLog

    publish("withdrawal-fees", "en", "Withdrawal fees", "Fees depend on the network.")
    page = client.get("/en/search/", {"q": "withdrawal fees"}).content.decode()
    assert "<mark>Withdrawal</mark>" in page
    log = SearchLog.objects.get()
    assert (log.query, log.result_count) == ("withdrawal fees", 1)
    client.get(f"/en/articles/withdrawal-fees/?sq={log.pk}")
    log.refresh_from_db()
    assert log.clicked.article.key == "withdrawal-fees"


def test_no_results_page_offers_chat_and_a_request(client, search_index):
    page = client.get("/en/search/", {"q": "zzzz nothing"}).content.decode()
    assert "No articles match" in page
    assert "/en/chat/" in page and "/en/requests/new/" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 201}, "limited to 200 characters"),
        ({"q": "abc\x07def"}, "cannot be searched"),
        ({"q": "abc\x00def"}, "Null characters are not allowed"),
        ({"q": "fees", "category": "no-such-category"}, "no such category"),
        ({"q": "fees", "page": "-1"}, ""),
    ],
)
def test_bad_search_input_is_a_clear_400(client, search_index, params, message):
    response = client.get("/en/search/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_search_page_escapes_the_query(client, search_index):
    page = client.get("/en/search/", {"q": '<script>alert("x")</script>'}).content.decode()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page


def test_search_errors_are_translated(client, search_index):
    response = client.get("/ja/search/", {"q": "x" * 201})
    with translation.override("ja"):
        expected = translation.gettext("Searches are limited to %(limit_value)d characters.")
    assert expected.split("%")[0] in response.content.decode()


def test_search_pages_link_to_each_other_keeping_the_query_and_topic(client, search_index, publish):
    for n in range(12):
        publish(f"fees-{n}", "en", f"Withdrawal fees {n}", category="withdrawal")
    first = client.get("/en/search/", {"q": "fees", "category": "withdrawal"}).content.decode()
    assert 'href="?q=fees&amp;category=withdrawal&amp;page=2"' in first
    assert "Page 1 of 2" in first
    second = client.get("/en/search/", {"q": "fees", "category": "withdrawal", "page": 2})
    assert 'href="?q=fees&amp;category=withdrawal&amp;page=1"' in second.content.decode()
