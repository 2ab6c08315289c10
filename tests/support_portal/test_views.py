import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_console_sends_visitors_to_sign_in(client):
    response = client.get("/en/console/")
    assert response.status_code == 302
    assert response.url == "/en/accounts/login/?next=/en/console/"


def test_console_is_closed_to_customers(client, customer):
    client.force_login(customer)
    response = client.get("/en/console/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()


@pytest.mark.parametrize("persona", ["agent", "supervisor", "portal_admin"])
def test_console_opens_for_agents_and_above(client, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get("/en/console/")
    assert response.status_code == 200
    assert 'name="presence"' in response.content.decode()


def test_console_link_is_shown_only_to_agents(client, customer, agent):
    client.force_login(customer)
    assert "/en/console/" not in client.get("/en/").content.decode()
    client.force_login(agent)
    assert "/en/console/" in client.get("/en/").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/en/",
        "/en/search/?q=usdt",
        "/en/announcements/",
        "/en/accounts/login/",
        "/en/accounts/signup/",
        "/en/accounts/password/reset/",
        "/healthz",
        "/api/schema/",
    ],
)
def test_public_pages_need_no_sign_in(client, path):
    assert client.get(path).status_code in {200, 503}


@pytest.mark.parametrize(
    "path",
    [
        "/en/requests/",
        "/en/requests/new/",
        "/en/chat/",
        "/en/accounts/profile/",
        "/en/accounts/password/change/",
        "/en/console/",
    ],
)
def test_private_pages_redirect_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/en/accounts/login/")


def test_every_stylesheet_and_script_is_served_from_our_static_files(client, agent):
    client.force_login(agent)
    pages = [client.get(path).content.decode() for path in ("/en/", "/en/console/")]
    for page in pages:
        assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
        assert assets
        for url in assets:
            assert url.startswith("/static/"), url
            assert finders.find(url.removeprefix("/static/")), url


def test_api_docs_use_local_assets_only(client):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
    assert "/static/drf_spectacular_sidecar/" in page


def test_seed_demo_creates_every_role_and_is_idempotent(settings, capsys):
    from accounts.models import User
    from helpcenter.models import Category

    settings.DEBUG = True
    call_command("seed_demo")
    first = capsys.readouterr().out
    counts = (User.objects.count(), Category.objects.count())
    call_command("seed_demo")
    capsys.readouterr()

    assert (User.objects.count(), Category.objects.count()) == counts
    roles = {user.role.value for user in User.objects.all()}
    assert roles == {"customer", "agent", "supervisor", "admin"}
    assert "demo-agent-2026" in first
    languages = set(User.objects.values_list("preferred_language", flat=True))
    assert languages == {"zh-hans", "en", "ja", "ko"}


def test_seed_demo_hides_passwords_outside_development(settings, capsys):
    settings.DEBUG = False
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "demo-" not in output
    assert "(password hidden)" in output


def test_demo_users_can_sign_in(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=__import__("io").StringIO())
    response = client.post(
        "/en/accounts/login/",
        {"username": "agent.ja@example.com", "password": "demo-agent-2026"},
    )
    assert response.status_code == 302
    assert response.url == "/ja/"
