import pytest

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/helpcenter/search/"


@pytest.fixture
def content(search_index, publish):
    for n in range(12):
        publish(f"fees-{n}", "en", f"Withdrawal fees part {n}", "Network fees explained.")
    publish("withdrawal-not-received", "zh-hans", "提币未到账怎么办", "提币需要区块确认。")
    publish("draft-article", "zh-hans", "提币草稿", "草稿", status="draft")


def test_search_contract(client, content):
    body = client.get(SEARCH, {"q": "提币", "lang": "zh-hans"}).json()
    assert body["count"] == 1
    assert body["query"] == "提币"
    assert body["results"] == [
        {
            "key": "withdrawal-not-received",
            "language": "zh-hans",
            "title": "提币未到账怎么办",
            "category": "general",
            "url": "/zh-hans/articles/withdrawal-not-received/",
            "snippet": body["results"][0]["snippet"],
        }
    ]
    assert "<mark>提币</mark>" in body["results"][0]["snippet"]


def test_search_is_paginated_ten_by_default_fifty_at_most(client, content):
    first = client.get(SEARCH, {"q": "fees", "lang": "en"}).json()
    second = client.get(SEARCH, {"q": "fees", "lang": "en", "page": 2}).json()
    assert first["count"] == 12 and len(first["results"]) == 10 and len(second["results"]) == 2
    assert (
        client.get(SEARCH, {"q": "fees", "lang": "en", "page_size": 500}).json()["page_size"] == 50
    )
    beyond = client.get(SEARCH, {"q": "fees", "lang": "en", "page": 9})
    assert beyond.status_code == 200 and beyond.json()["results"] == []


def test_nothing_matching_is_an_empty_list(client, content):
    body = client.get(SEARCH, {"q": "qqqqzzzz", "lang": "en"}).json()
    assert (body["count"], body["results"]) == (0, [])


def test_the_query_is_returned_exactly_as_given(client, content):
    query = '  "Withdrawal fees"  <b>x</b> '
    assert client.get(SEARCH, {"q": query, "lang": "en"}).json()["query"] == query


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "x", "lang": "fr"}, "lang"),
        ({"q": "x" * 201, "lang": "en"}, "q"),
        ({"q": "a\x07b", "lang": "en"}, "q"),
        ({"q": "x", "lang": "en", "page": "0"}, "page"),
        ({"q": "x", "lang": "en", "page": "abc"}, "page"),
        ({"q": "x", "lang": "en", "category": "nowhere"}, "category"),
    ],
)
def test_bad_parameters_are_a_clear_400(client, content, params, field):
    response = client.get(SEARCH, params)
    assert response.status_code == 400
    assert field in response.json()


def test_invalid_language_message_names_the_choices(client):
    message = client.get(SEARCH, {"q": "x", "lang": "xx"}).json()["lang"][0]
    assert "zh-hans, en, ja, ko" in message


def test_drafts_are_invisible_to_the_public(client, content):
    assert client.get("/api/v1/helpcenter/articles/draft-article/zh-hans/").status_code == 404
    keys = [
        r["key"] for r in client.get(SEARCH, {"q": "草稿", "lang": "zh-hans"}).json()["results"]
    ]
    assert "draft-article" not in keys


def test_article_by_key_and_language(client, content):
    body = client.get("/api/v1/helpcenter/articles/withdrawal-not-received/zh-hans/").json()
    assert body["title"] == "提币未到账怎么办"
    assert "<p>" in body["body_html"]
    assert client.get("/api/v1/helpcenter/articles/withdrawal-not-received/ko/").status_code == 404


def test_categories_in_four_languages(client, content):
    result = client.get("/api/v1/helpcenter/categories/").json()["results"][0]
    assert set(result["names"]) == {"zh-hans", "en", "ja", "ko"}


def test_suggestions_give_titles(client, content):
    body = client.get("/api/v1/helpcenter/suggest/", {"q": "提币", "lang": "zh-hans"}).json()
    assert body["results"][0]["title"] == "提币未到账怎么办"


def test_endpoints_are_in_the_openapi_schema(client):
    paths = client.get("/api/schema/", headers={"accept": "application/json"}).json()["paths"]
    for path in ["search/", "suggest/", "categories/", "articles/{key}/{language}/"]:
        assert f"/api/v1/helpcenter/{path}" in paths
