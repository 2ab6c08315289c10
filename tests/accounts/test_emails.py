import pytest

from accounts.emails import send_account_email


@pytest.mark.django_db
def test_verification_email_reaches_a_real_smtp_server_in_the_users_language(
    customer, smtp_server, settings
):
    settings.PORTAL_BASE_URL = "https://help.example.com"
    customer.email_verified_at = None
    send_account_email(customer, "verify_email")

    message = smtp_server.wait_for(customer.email)
    assert "确认" in message["Subject"] or "confirm" in message["Subject"].lower()
    text = smtp_server.text_of(message)
    assert "https://help.example.com/zh-hans/accounts/verify/" in text
    assert "https://help.example.com/zh-hans/accounts/verify/" in smtp_server.html_of(message)
