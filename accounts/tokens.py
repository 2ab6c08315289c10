"""Signed, expiring tokens for the email-verification link."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing

from accounts.models import User

_SALT = "accounts.verify-email"


def _email_digest(email: str) -> str:
    # Binds the token to the address it was sent to: changing the address
    # invalidates links sent to the old one.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


def make_verification_token(user: User) -> str:
    return signing.dumps([user.uid, _email_digest(user.email)], salt=_SALT, compress=True)


def user_for_verification_token(token: str) -> User | None:
    """Return the user the token was issued to, or None if it is forged, stale or expired."""
    try:
        uid, digest = signing.loads(
            token, salt=_SALT, max_age=settings.ACCOUNT_VERIFICATION_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    user = User.objects.filter(uid=uid, is_active=True).first()
    if user is None or _email_digest(user.email) != digest:
        return None
    return user
