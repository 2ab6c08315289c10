import socket

import pytest
from django.core.management import call_command
from django.test import override_settings

from support_portal.health import record_worker_heartbeat

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def built_index():
    call_command("rebuild_index", interactive=False, verbosity=0)


def test_healthz_is_public_and_reports_every_component_up(client, built_index):
    record_worker_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {
        "database",
        "cache",
        "channel_layer",
        "celery_worker",
        "search_index",
    }
    assert all(part["status"] == "up" for part in body["components"].values())


def test_healthz_is_503_without_a_worker_heartbeat(client, built_index):
    response = client.get("/healthz")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["celery_worker"]["status"] == "down"
    assert components["database"]["status"] == "up"


def test_stale_heartbeat_counts_as_down(client, built_index, settings):
    record_worker_heartbeat()
    settings.CELERY_HEARTBEAT_MAX_AGE = -1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["celery_worker"]["error"] == "heartbeat is stale"


def test_unreachable_cache_is_reported_down(client, built_index, settings):
    record_worker_heartbeat()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["cache"]["status"] == "down"
    assert components["cache"]["error"] == "ConnectionError"
    # The exception text names hosts and ports: not for anonymous callers.
    assert "error_detail" not in components["cache"]


def test_unreachable_channel_layer_is_reported_down(client, built_index, settings):
    from channels.layers import channel_layers

    record_worker_heartbeat()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_closed_port()}/0"]},
        }
    }
    channel_layers.backends.clear()
    try:
        response = client.get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    assert response.json()["components"]["channel_layer"]["status"] == "down"


def test_unusable_search_index_is_reported_down(client, tmp_path):
    from haystack import connections

    record_worker_heartbeat()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the index folder should be")
    broken = {
        "default": {
            "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
            "PATH": str(blocker / "index"),
        }
    }
    with override_settings(HAYSTACK_CONNECTIONS=broken):
        connections.reload("default")
        try:
            response = client.get("/healthz")
        finally:
            connections.reload("default")
    connections.reload("default")
    assert response.status_code == 503
    assert response.json()["components"]["search_index"]["status"] == "down"


def test_staff_see_the_exception_text(client, built_index, portal_admin):
    client.force_login(portal_admin)
    cache_url = f"redis://127.0.0.1:{_closed_port()}/0"
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": cache_url,
            }
        }
    ):
        components = client.get("/healthz").json()["components"]
    assert "127.0.0.1" in components["cache"]["error_detail"]
