import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.tokens import make_verification_token
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "Newcomer@Example.com",
    "display_name": "New Comer",
    "password1": "a-long-unusual-passphrase",
    "password2": "a-long-unusual-passphrase",
    "time_zone": "Asia/Seoul",
}


def _link_in(message, name: str) -> str:
    """Return the path of the first link in the email whose path contains `name`."""
    match = re.search(r"https?://\S+/" + name + r"/\S+", message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path


def test_sign_up_creates_an_unverified_customer_and_emails_a_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/ko/accounts/signup/", SIGNUP)

    assert response.status_code == 302
    assert response.url == "/ko/accounts/signup/check-your-inbox/"
    user = User.objects.get(email="newcomer@example.com")
    assert not user.is_email_verified
    assert user.preferred_language == "ko"
    assert user.time_zone == "Asia/Seoul"
    assert user.role.value == "customer"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@example.com"]
    assert "/ko/accounts/verify/" in mail.outbox[0].body
    page = client.get(response.url)
    assert "newcomer@example.com" in page.content.decode()


def test_sign_up_refuses_taken_address_and_weak_password(client, customer):
    response = client.post(
        "/en/accounts/signup/",
        {**SIGNUP, "email": "LI.WEI@example.com", "password1": "12345678", "password2": "12345678"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already exists" in errors["email"][0]
    assert errors["password1"]
    assert User.objects.count() == 1


def test_sign_up_refuses_markup_in_name(client):
    response = client.post("/en/accounts/signup/", {**SIGNUP, "display_name": "<img src=x>"})
    assert response.status_code == 200
    assert "cannot contain" in response.context["form"].errors["display_name"][0]
    assert not User.objects.exists()


def test_sign_up_errors_are_translated(client):
    response = client.post("/ja/accounts/signup/", {**SIGNUP, "password2": "something-else"})
    with translation.override("ja"):
        expected = translation.gettext("The two passwords do not match.")
    assert expected in response.context["form"].errors["password2"][0]


def test_verification_link_confirms_the_address_once(client):
    user = UserFactory(unverified=True)
    path = reverse("accounts:verify_email", args=[make_verification_token(user)])

    first = client.get(path)
    again = client.get(path)

    user.refresh_from_db()
    assert user.is_email_verified
    assert first.context["newly_verified"] is True
    assert again.status_code == 200 and again.context["newly_verified"] is False


@pytest.mark.parametrize("token", ["forged", "eyJhIjoxfQ:1tAbCd:abcdefghijklmnop"])
def test_forged_verification_link_changes_nothing(client, token):
    user = UserFactory(unverified=True)
    response = client.get(reverse("accounts:verify_email", args=[token]))
    user.refresh_from_db()
    assert response.status_code == 400
    assert not user.is_email_verified


def test_verification_link_for_an_old_address_no_longer_works(client):
    user = UserFactory(unverified=True, email="old@example.com")
    token = make_verification_token(user)
    User.objects.filter(pk=user.pk).update(email="new@example.com")
    response = client.get(reverse("accounts:verify_email", args=[token]))
    assert response.status_code == 400


def test_unverified_user_cannot_sign_in_and_is_offered_a_new_link(client, password):
    user = UserFactory(unverified=True)
    response = client.post("/en/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 200
    assert response.context["show_resend"] is True
    assert "_auth_user_id" not in client.session


def test_resend_is_silent_about_unknown_addresses_and_rate_limited(
    client, django_capture_on_commit_callbacks
):
    user = UserFactory(unverified=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/accounts/verify/resend/", {"email": user.email})
        client.post("/en/accounts/verify/resend/", {"email": user.email})
        unknown = client.post(
            "/en/accounts/verify/resend/", {"email": "nobody@example.com"}, follow=True
        )
    assert len(mail.outbox) == 1
    assert "nobody@example.com" in unknown.content.decode()


def test_sign_in_lands_in_the_saved_language_and_remembers_it(client, customer, password):
    response = client.post(
        "/en/accounts/login/", {"username": "LI.WEI@example.com", "password": password}
    )
    assert response.status_code == 302
    assert response.url == "/zh-hans/"
    assert response.cookies["portal_language"].value == "zh-hans"


def test_sign_in_keeps_the_next_page_in_the_saved_language(client, customer, password):
    response = client.post(
        "/en/accounts/login/?next=/en/requests/",
        {"username": customer.email, "password": password, "next": "/en/requests/"},
    )
    assert response.url == "/zh-hans/requests/"


def test_sign_in_refuses_an_open_redirect(client, customer, password):
    response = client.post(
        "/en/accounts/login/",
        {"username": customer.email, "password": password, "next": "https://evil.example/"},
    )
    assert response.url == "/zh-hans/"


def test_wrong_password_shows_a_clear_error(client, customer):
    response = client.post("/en/accounts/login/", {"username": customer.email, "password": "x"})
    assert "do not match an account" in response.content.decode()


def test_sign_in_is_locked_after_five_failures_even_with_the_right_password(
    client, customer, password
):
    for _ in range(5):
        client.post("/en/accounts/login/", {"username": customer.email, "password": "wrong"})
    response = client.post(
        "/en/accounts/login/", {"username": customer.email, "password": password}
    )
    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_affect_other_accounts(client, customer, other_customer, password):
    for _ in range(5):
        client.post("/en/accounts/login/", {"username": customer.email, "password": "wrong"})
    response = client.post(
        "/en/accounts/login/", {"username": other_customer.email, "password": password}
    )
    assert response.status_code == 302


def test_sign_out_needs_a_post(client, customer):
    client.force_login(customer)
    assert client.get("/en/accounts/logout/").status_code == 405
    response = client.post("/en/accounts/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_reset_emails_a_working_link_without_revealing_accounts(
    client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/en/accounts/password/reset/", {"email": customer.email})
        unknown = client.post("/en/accounts/password/reset/", {"email": "ghost@example.com"})
    assert known.url == unknown.url == "/en/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    # The email is in the customer's language, whatever page they asked from.
    assert "/zh-hans/accounts/password/reset/" in mail.outbox[0].body

    link = _link_in(mail.outbox[0], "password/reset")
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert done.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password("another-long-passphrase")


def test_an_account_opened_by_email_is_claimed_through_the_reset_link(
    client, django_capture_on_commit_callbacks
):
    """Someone who only ever emailed support sets a password and can then sign in."""
    from accounts.services import user_create_from_email

    user = user_create_from_email(email="seoyeon.park@example.kr", preferred_language="ko")
    assert not user.has_usable_password()

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/en/accounts/password/reset/", {"email": "seoyeon.park@example.kr"})
    [email] = mail.outbox
    form_page = client.get(_link_in(email, "password/reset"), follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-new-passphrase", "new_password2": "a-long-new-passphrase"},
    )

    user.refresh_from_db()
    assert user.check_password("a-long-new-passphrase")
    assert user.is_email_verified
    signed_in = client.post(
        "/en/accounts/login/",
        {"username": "seoyeon.park@example.kr", "password": "a-long-new-passphrase"},
    )
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_password_change_requires_the_old_password(client, customer, password):
    client.force_login(customer)
    bad = client.post(
        "/en/accounts/password/change/",
        {
            "old_password": "nope",
            "new_password1": "x-new-passphrase-1",
            "new_password2": "x-new-passphrase-1",
        },
    )
    assert bad.status_code == 200
    good = client.post(
        "/en/accounts/password/change/",
        {
            "old_password": password,
            "new_password1": "x-new-passphrase-1",
            "new_password2": "x-new-passphrase-1",
        },
    )
    assert good.status_code == 302
    customer.refresh_from_db()
    assert customer.check_password("x-new-passphrase-1")


def test_profile_shows_uid_and_times_in_the_users_zone(client, customer):
    customer.date_joined = customer.date_joined.replace(
        year=2026, month=3, day=1, hour=23, minute=30, second=0, microsecond=0
    )
    customer.save()
    client.force_login(customer)
    page = client.get("/en/accounts/profile/").content.decode()
    assert customer.uid in page
    # 23:30 UTC is 07:30 the next day in Shanghai.
    assert "March 2, 2026, 7:30" in page


def test_profile_update_saves_language_and_zone(client, customer):
    client.force_login(customer)
    response = client.post(
        "/zh-hans/accounts/profile/",
        {"display_name": "Li Wei", "preferred_language": "ja", "time_zone": "Asia/Tokyo"},
    )
    customer.refresh_from_db()
    assert (customer.display_name, customer.preferred_language, customer.time_zone) == (
        "Li Wei",
        "ja",
        "Asia/Tokyo",
    )
    assert response.url == "/ja/accounts/profile/"
    assert response.cookies["portal_language"].value == "ja"


def test_profile_refuses_unknown_zone_and_changes_nothing(client, customer):
    client.force_login(customer)
    response = client.post(
        "/en/accounts/profile/",
        {"display_name": "x", "preferred_language": "en", "time_zone": "Nowhere/City"},
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.time_zone == "Asia/Shanghai"
    assert customer.display_name == "李伟"


def test_language_switcher_saves_the_signed_in_users_preference(client, customer):
    client.force_login(customer)
    response = client.post(
        "/i18n/setlang/", {"language": "ko", "next": "/zh-hans/accounts/profile/"}
    )
    assert response.url == "/ko/accounts/profile/"
    customer.refresh_from_db()
    assert customer.preferred_language == "ko"


def test_language_switcher_ignores_unknown_languages(client, customer):
    client.force_login(customer)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/en/"})
    customer.refresh_from_db()
    assert customer.preferred_language == "zh-hans"


def test_pages_need_sign_in_by_default(client):
    response = client.get("/en/accounts/profile/")
    assert response.status_code == 302
    assert response.url.startswith("/en/accounts/login/?next=")


def test_presence_can_only_be_set_by_agents(client, agent, customer):
    client.force_login(customer)
    assert client.post("/en/accounts/presence/", {"presence": "online"}).status_code == 403

    client.force_login(agent)
    client.post("/en/accounts/presence/", {"presence": "online"})
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.presence == "online"

    client.post("/en/accounts/presence/", {"presence": "asleep"})
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.presence == "online"


def test_sign_up_flood_from_one_network_is_stopped(client):
    for n in range(10):
        client.post("/en/accounts/signup/", {**SIGNUP, "email": f"bot{n}@example.com"})
    response = client.post("/en/accounts/signup/", {**SIGNUP, "email": "bot-final@example.com"})
    assert response.status_code == 200
    assert "Too many accounts" in response.content.decode()
    assert User.objects.count() == 10
    assert not User.objects.filter(email="bot-final@example.com").exists()


def test_password_reset_flood_sends_one_email_a_minute(
    client, customer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            client.post("/en/accounts/password/reset/", {"email": customer.email}) for _ in range(5)
        ]
    assert {r.url for r in responses} == {"/en/accounts/password/reset/sent/"}
    assert len(mail.outbox) == 1


def test_forged_forwarded_for_header_does_not_escape_the_lockout(client, customer, password):
    for n in range(5):
        client.post(
            "/en/accounts/login/",
            {"username": customer.email, "password": "wrong"},
            headers={"x-forwarded-for": f"203.0.113.{n}"},
        )
    response = client.post(
        "/en/accounts/login/",
        {"username": customer.email, "password": password},
        headers={"x-forwarded-for": "198.51.100.7"},
    )
    assert response.status_code == 429


def test_signed_in_user_opening_sign_in_with_itself_as_next_is_not_looped(client, customer):
    client.force_login(customer)
    response = client.get("/en/accounts/login/?next=/en/accounts/login/")
    assert response.status_code == 302
    assert response.url == "/zh-hans/"


# Optional emails -----------------------------------------------------------------------


def test_profile_turns_optional_emails_off_and_on(client, customer):
    client.force_login(customer)
    profile = {
        "display_name": "李伟",
        "preferred_language": "zh-hans",
        "time_zone": "Asia/Shanghai",
    }
    page = client.get("/en/accounts/profile/").content.decode()
    assert 'name="wants_optional_emails"' in page and "checked" in page

    client.post("/en/accounts/profile/", profile)  # an unticked box is not sent
    customer.refresh_from_db()
    assert customer.wants_optional_emails is False

    client.post("/en/accounts/profile/", {**profile, "wants_optional_emails": "on"})
    customer.refresh_from_db()
    assert customer.wants_optional_emails is True


def _unsubscribe_url(user, language="en") -> str:
    from accounts.services import user_unsubscribe_token

    return f"/{language}/accounts/unsubscribe/{user_unsubscribe_token(user)}/"


def test_unsubscribe_link_asks_first_then_turns_optional_emails_off_without_sign_in(
    client, customer
):
    url = _unsubscribe_url(customer)

    asked = client.get(url)
    customer.refresh_from_db()
    # Mail scanners open links by themselves: opening it changes nothing.
    assert asked.status_code == 200
    assert customer.wants_optional_emails is True
    assert "li***@example.com" in asked.content.decode()
    assert customer.email not in asked.content.decode()

    done = client.post(url)
    customer.refresh_from_db()
    assert done.status_code == 200
    assert customer.wants_optional_emails is False
    assert "are turned off" in done.content.decode()


def test_mail_clients_one_click_unsubscribe_needs_no_csrf_token(customer):
    from django.test import Client

    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        _unsubscribe_url(customer),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.wants_optional_emails is False


@pytest.mark.parametrize("token", ["", "bad", "IjEyMyI:forged:signature"])
def test_forged_unsubscribe_link_changes_nothing(client, customer, token):
    response = client.post(f"/en/accounts/unsubscribe/{token or 'x'}/")

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.wants_optional_emails is True


def test_unsubscribe_link_of_another_kind_of_token_does_not_work(client, customer):
    # A verification token is signed with another salt: it cannot unsubscribe.
    response = client.post(f"/en/accounts/unsubscribe/{make_verification_token(customer)}/")

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.wants_optional_emails is True
