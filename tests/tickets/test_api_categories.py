"""Integrators discover the request categories and their field keys through the API."""

import pytest
from rest_framework.test import APIClient

from tickets.defaults import ensure_default_categories

pytestmark = pytest.mark.django_db
URL = "/api/v1/tickets/categories/"


@pytest.fixture
def api(customer):
    ensure_default_categories()
    client = APIClient()
    client.force_authenticate(customer)
    return client


def test_categories_list_fields_with_labels_in_the_asked_language(
    api, django_assert_max_num_queries
):
    with django_assert_max_num_queries(3):
        response = api.get(URL, {"lang": "ja"})
    assert response.status_code == 200
    withdrawal = next(c for c in response.json() if c["slug"] == "withdrawal")
    assert withdrawal["name"] == "出金"
    fields = {field["key"]: field for field in withdrawal["fields"]}
    assert fields["txid"]["type"] == "txid" and fields["txid"]["required"] is True
    assert {"value": "TRC20", "label": "TRON (TRC20)"} in fields["network"]["choices"]
    assert fields["amount"]["choices"] is None


def test_inactive_categories_are_not_offered(api):
    from tickets.models import TicketCategory

    TicketCategory.objects.filter(slug="api").update(is_active=False)
    slugs = [category["slug"] for category in api.get(URL).json()]
    assert "api" not in slugs and "withdrawal" in slugs


def test_unknown_language_is_a_clear_400(api):
    response = api.get(URL, {"lang": "fr"})
    assert response.status_code == 400
    assert "zh-hans" in response.json()["lang"][0]


def test_anonymous_callers_are_refused():
    assert APIClient().get(URL).status_code in {401, 403}
