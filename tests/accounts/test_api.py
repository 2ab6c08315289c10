import pytest

pytestmark = pytest.mark.django_db


def test_me_needs_authentication(client):
    assert client.get("/api/v1/me/").status_code == 403


def test_me_shows_the_public_uid_never_the_primary_key(client, customer):
    client.force_login(customer)
    body = client.get("/api/v1/me/").json()
    assert body["uid"] == customer.uid
    assert body["role"] == "customer"
    assert body["preferred_language"] == "zh-hans"
    assert "id" not in body and "password" not in body


def test_me_updates_preferences_and_refuses_bad_input(client, customer):
    client.force_login(customer)
    ok = client.patch("/api/v1/me/", {"time_zone": "Asia/Tokyo"}, content_type="application/json")
    assert ok.status_code == 200
    bad = client.patch(
        "/api/v1/me/",
        {"time_zone": "Mars/Base", "display_name": "<b>x</b>"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"time_zone", "display_name"}
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Tokyo"
    assert customer.display_name == "李伟"


def test_me_cannot_change_uid_or_email(client, customer):
    client.force_login(customer)
    client.patch(
        "/api/v1/me/",
        {"uid": "123456789", "email": "x@example.com"},
        content_type="application/json",
    )
    customer.refresh_from_db()
    assert customer.email == "li.wei@example.com"
    assert customer.uid != "123456789"


def test_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/", headers={"accept": "application/json"})
    assert response.status_code == 200
    assert "/api/v1/me/" in response.json()["paths"]
