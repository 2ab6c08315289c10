"""Personas and helpers shared by the whole suite."""

import pytest

from accounts.roles import Role
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def password() -> str:
    """The password every persona signs in with."""
    return DEFAULT_PASSWORD


@pytest.fixture
def customer(db):
    """Li Wei: a verified customer who reads the portal in Chinese, in Shanghai."""
    return UserFactory(
        email="li.wei@example.com",
        display_name="李伟",
        preferred_language="zh-hans",
        time_zone="Asia/Shanghai",
    )


@pytest.fixture
def other_customer(db):
    """Sato Yuki: another verified customer (Japanese, Tokyo); must never see Li Wei's things."""
    return UserFactory(
        email="sato.yuki@example.com",
        display_name="佐藤 由紀",
        preferred_language="ja",
        time_zone="Asia/Tokyo",
    )


@pytest.fixture
def agent(db):
    """Wang Fang: a front-line agent who answers in Chinese and English."""
    return UserFactory(email="agent.zh@example.com", display_name="王芳", role=Role.AGENT)


@pytest.fixture
def supervisor(db):
    """Maria Chen: supervises the agents; may sign in to the admin."""
    return UserFactory(
        email="supervisor@example.com", display_name="Maria Chen", role=Role.SUPERVISOR
    )


@pytest.fixture
def portal_admin(db):
    """The administrator: every permission."""
    return UserFactory(
        email="admin@example.com", display_name="Portal Admin", role=Role.ADMIN, is_superuser=True
    )


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """Compile the .po catalogues once per run (.mo files are build products)."""
    import io

    from asgiref.local import Local
    from django.core.management import call_command
    from django.utils.translation import trans_real

    call_command("compile_catalogues", stdout=io.StringIO())
    # Catalogues loaded before compiling would be stale.
    trans_real._translations = {}
    trans_real._active = Local()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with an empty cache (throttles, heartbeat)."""
    from django.core.cache import cache

    from helpcenter.selectors import forget_synonyms

    cache.clear()
    forget_synonyms()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """End every test in the default language: a page or email rendered in another
    language must not leak it into the next test."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django's mail goes to it for this test."""
    from tests.smtp import SMTPSink

    sink = SMTPSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = sink.host
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.stop()
