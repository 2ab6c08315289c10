import pytest
from django.utils import translation

from accounts.emails import send_account_email


@pytest.mark.django_db
def test_verification_email_reaches_a_real_smtp_server_in_the_users_language(
    customer, smtp_server, settings
):
    settings.PORTAL_BASE_URL = "https://help.example.com"
    send_account_email(customer, "verify_email")

    message = smtp_server.wait_for(customer.email)
    with translation.override("zh-hans"):
        expected_subject = translation.gettext(
            "Confirm your email address for %(brand_name)s Support"
        ) % {"brand_name": settings.SUPPORT_BRAND_NAME}
    assert expected_subject != "Confirm your email address for Example Exchange Support"
    assert message["Subject"].strip() == expected_subject
    assert message.get_content_type() == "multipart/alternative"
    verify_url = "https://help.example.com/zh-hans/accounts/verify/"
    assert verify_url in smtp_server.text_of(message)
    assert verify_url in smtp_server.html_of(message)


@pytest.mark.django_db
def test_password_reset_email_links_to_the_reset_form(customer, smtp_server, settings):
    settings.PORTAL_BASE_URL = "https://help.example.com"
    send_account_email(customer, "password_reset")
    text = smtp_server.text_of(smtp_server.wait_for(customer.email))
    assert "https://help.example.com/zh-hans/accounts/password/reset/" in text
