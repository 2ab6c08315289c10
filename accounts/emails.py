"""Build and send the account emails, in the recipient's language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import make_verification_token

EMAIL_KINDS = ("verify_email", "password_reset")


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _links(user: User, kind: str) -> dict[str, str]:
    if kind == "verify_email":
        path = reverse("accounts:verify_email", args=[make_verification_token(user)])
    elif kind == "password_reset":
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    else:
        raise ValueError(f"Unknown account email kind: {kind!r}")
    return {"action_url": _absolute(path), "login_url": _absolute(reverse("accounts:login"))}


def build_account_email(user: User, kind: str) -> EmailMultiAlternatives:
    """Render the `kind` email for `user` (text and HTML) in their preferred language."""
    with translation.override(user.preferred_language):
        context = {
            "user": user,
            "brand_name": settings.SUPPORT_BRAND_NAME,
            "official_channels": settings.OFFICIAL_CHANNELS,
            **_links(user, kind),
        }
        subject = render_to_string(f"accounts/email/{kind}_subject.txt", context)
        text = render_to_string(f"accounts/email/{kind}.txt", context)
        html = render_to_string(f"accounts/email/{kind}.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def send_account_email(user: User, kind: str) -> None:
    build_account_email(user, kind).send()
