"""POST /api/v1/tickets/inbound-email/: mail providers handing over raw incoming email."""

import base64
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from tickets.models import InboundEmail, InboundSource, InboundStatus, Notification, Ticket

EMAILS = Path(__file__).parent / "emails"
URL = "/api/v1/tickets/inbound-email/"
TOKEN = "s3cret-token-for-the-mail-provider-0f4e2a"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def desk(settings, general):
    settings.INBOUND_EMAIL_TOKEN = TOKEN
    settings.INBOUND_EMAIL_CATEGORY = general.slug
    settings.INBOUND_EMAIL_RATE = "1000/minute"


@pytest.fixture
def provider():
    """The provider's HTTP client; CSRF checks on, as for any cross-site POST."""
    return Client(enforce_csrf_checks=True)


def post(client, raw: bytes, *, auth: str | None = f"Bearer {TOKEN}", **headers):
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = auth
    return client.post(URL, data=raw, content_type="message/rfc822", **headers)


def test_a_new_request_arrives_by_http(provider):
    response = post(provider, (EMAILS / "new_request_ko.eml").read_bytes())

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert response.json() == {
        "message_id": "20261104181209.6f1a2b@mail.example.kr",
        "outcome": "new_ticket",
        "reason": "",
        "ticket": ticket.reference,
    }
    assert InboundEmail.objects.get().source == InboundSource.HTTP
    assert ticket.requester.email == "seoyeon.park@example.kr"


def test_a_repeated_delivery_answers_the_same_and_imports_nothing(provider):
    raw = (EMAILS / "new_request_ko.eml").read_bytes()

    first = post(provider, raw)
    second = post(provider, raw)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert Ticket.objects.count() == 1


def test_the_token_is_accepted_as_the_basic_auth_password(provider):
    credentials = base64.b64encode(f"mailgun:{TOKEN}".encode()).decode()

    response = post(provider, (EMAILS / "forwarded.eml").read_bytes(), auth=f"Basic {credentials}")

    assert response.status_code == 200
    assert response.json()["outcome"] == "new_ticket"


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Token {TOKEN}",
        "Basic " + base64.b64encode(b"user:wrong").decode(),
        "Basic not-base64!",
    ],
)
def test_without_the_right_token_nothing_is_imported(provider, auth):
    response = post(provider, (EMAILS / "forwarded.eml").read_bytes(), auth=auth)

    assert response.status_code == 403
    assert not InboundEmail.objects.exists()


def test_without_a_configured_token_the_endpoint_does_not_exist(provider, settings):
    settings.INBOUND_EMAIL_TOKEN = ""

    response = post(provider, (EMAILS / "forwarded.eml").read_bytes(), auth="Bearer ")

    assert response.status_code == 404
    assert not InboundEmail.objects.exists()


def test_only_raw_mime_is_accepted(provider):
    response = provider.post(
        URL,
        data={"email": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    empty = post(provider, b"")

    assert response.status_code == 415
    assert empty.status_code == 400
    assert not InboundEmail.objects.exists()


def test_a_body_over_the_size_limit_is_not_read_whole_and_the_sender_is_told(provider, settings):
    """Larger than Django's 2.5 MB in-memory limit too: the view reads the stream itself."""
    settings.INBOUND_EMAIL_MAX_BYTES = 3 * MB
    raw = (EMAILS / "new_request_ko.eml").read_bytes() + b"\n" + b"x" * (4 * MB)

    response = post(provider, raw)

    assert response.status_code == 200
    assert response.json()["outcome"] == "too_large"
    inbound = InboundEmail.objects.get()
    assert inbound.size == len(raw)
    assert Notification.objects.get().to_email == "seoyeon.park@example.kr"
    assert not User.objects.filter(email="seoyeon.park@example.kr").exists()


def test_a_message_between_django_and_our_limits_is_imported(provider, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 5 * MB
    raw = (EMAILS / "new_request_ko.eml").read_bytes() + b"\n" + b"x" * (3 * MB)

    response = post(provider, raw)

    assert response.json()["outcome"] == "new_ticket"


def test_a_malformed_message_is_a_recorded_outcome_not_an_error(provider):
    response = post(provider, (EMAILS / "malformed.eml").read_bytes())

    assert response.status_code == 200
    assert response.json()["outcome"] == InboundStatus.QUARANTINED
    assert response.json()["reason"] == "no From header"


def test_deliveries_are_rate_limited(provider, settings):
    settings.INBOUND_EMAIL_RATE = "2/minute"
    raw = (EMAILS / "forwarded.eml").read_bytes()

    codes = [post(provider, raw).status_code for _ in range(3)]

    assert codes == [200, 200, 429]
