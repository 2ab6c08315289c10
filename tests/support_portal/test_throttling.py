import pytest
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict_rates(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "5/minute"}
    )


def test_anonymous_api_clients_are_limited_per_minute(client, strict_rates):
    codes = [client.get("/api/v1/helpcenter/categories/").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    response = client.get("/api/v1/helpcenter/categories/")
    assert 0 < int(response["Retry-After"]) <= 61


def test_signed_in_users_have_their_own_allowance(client, strict_rates, customer):
    for _ in range(3):
        client.get("/api/v1/helpcenter/categories/")
    client.force_login(customer)
    assert client.get("/api/v1/me/").status_code == 200
