import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone, translation

from accounts.middleware import UserTimezoneMiddleware

pytestmark = pytest.mark.django_db

NAVIGATION = ["Help Center", "Announcements", "Submit a request", "My requests", "Chat"]


@pytest.mark.parametrize(
    ("accept_language", "prefix"),
    [
        ("ja,en;q=0.5", "/ja/"),
        ("ko-KR,ko;q=0.9", "/ko/"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "/zh-hans/"),
        ("fr-FR,fr;q=0.9", "/en/"),
    ],
)
def test_visitors_are_sent_to_their_browsers_language(client, accept_language, prefix):
    response = client.get("/", headers={"accept-language": accept_language})
    assert response.status_code == 302
    assert response.url == prefix


def test_saved_language_cookie_beats_the_browser(client):
    client.cookies["portal_language"] = "ko"
    response = client.get("/", headers={"accept-language": "ja"})
    assert response.url == "/ko/"


@pytest.mark.parametrize("language", ["zh-hans", "ja", "ko"])
def test_navigation_is_translated_in_every_language(client, language):
    page = client.get(f"/{language}/").content.decode()
    assert f'<html lang="{language}"' in page
    with translation.override(language):
        for label in NAVIGATION:
            translated = translation.gettext(label)
            assert translated != label, f"{label!r} is not translated into {language}"
            assert translated in page


def test_every_language_is_offered_in_the_switcher(client):
    page = client.get("/en/").content.decode()
    for name in ["简体中文", "English", "日本語", "한국어"]:
        assert name in page


def test_help_center_shows_category_names_in_the_page_language(client):
    from tests.helpcenter.factories import CategoryFactory

    CategoryFactory(slug="withdrawal", name_en="Withdrawals", name_ja="出金", name_ko="출금")
    assert "出金" in client.get("/ja/").content.decode()
    assert "출금" in client.get("/ko/").content.decode()
    assert "Withdrawals" in client.get("/en/").content.decode()


def test_visitor_dates_use_the_zone_their_browser_reported():
    request = RequestFactory().get("/")
    request.COOKIES["portal_tz"] = "Asia/Tokyo"
    request.user = AnonymousUser()
    noon_utc = timezone.now().replace(hour=12, minute=0)

    def view(request):
        return HttpResponse(Template("{{ t|date:'H:i e' }}").render(Context({"t": noon_utc})))

    assert UserTimezoneMiddleware(view)(request).content.decode() == "21:00 JST"


def test_a_forged_zone_cookie_falls_back_to_utc():
    request = RequestFactory().get("/")
    request.COOKIES["portal_tz"] = "../../etc/passwd"
    request.user = AnonymousUser()

    def view(request):
        return HttpResponse(timezone.get_current_timezone_name())

    assert UserTimezoneMiddleware(view)(request).content.decode() == "UTC"
