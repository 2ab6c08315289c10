import os
import secrets
import subprocess
import sys

from django.conf import settings


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_check_without_warnings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="support_portal.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="help.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "support_portal.settings.production",
            "DJANGO_ALLOWED_HOSTS": "help.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_redis_url_switches_cache_broker_and_channel_layer():
    script = (
        "from django.conf import settings as s;"
        "print(s.CACHES['default']['BACKEND']);"
        "print(s.CELERY_BROKER_URL);"
        "print(s.CHANNEL_LAYERS['default']['BACKEND'])"
    )
    with_redis = _manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        DJANGO_SETTINGS_MODULE="support_portal.settings.local",
        REDIS_URL="redis://127.0.0.1:6399/3",
    )
    without = _manage(
        "shell",
        "--no-imports",
        "-c",
        script,
        DJANGO_SETTINGS_MODULE="support_portal.settings.local",
        REDIS_URL="",
    )
    assert with_redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6399/3",
        "channels_redis.core.RedisChannelLayer",
    ]
    assert without.stdout.split() == [
        "django.core.cache.backends.filebased.FileBasedCache",
        "filesystem://",
        "channels.layers.InMemoryChannelLayer",
    ]


def test_media_files_have_no_public_url_route(client):
    assert client.get(f"{settings.MEDIA_URL}anything.png").status_code in {302, 404}
