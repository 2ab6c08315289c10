"""A real Celery worker and beat, in child processes, on the real broker.

The children import the test settings with `TEST_VAR_DIR` set to this process's
VAR_DIR (shared file cache and filesystem broker in the embedded round; with
`REDIS_URL` inherited, Redis in the other round) and `DATABASE_URL` set to the
test database this process uses, so they see the rows the tests commit.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction

from accounts.tasks import account_email_send
from support_portal.health import HEARTBEAT_CACHE_KEY
from tests.accounts.factories import UserFactory
from tests.celery_children import (  # noqa: F401 - fixtures
    HEARTBEAT_INTERVAL,
    celery_children_fixture,
    queue_to_broker_fixture,
    wait_for,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The child beat schedules the heartbeat every 2 s instead of 15 s (settings read
# CELERY_HEARTBEAT_INTERVAL); its first run comes one interval after beat starts,
# and children need a few seconds to import Django.
BEAT_INTERVAL = HEARTBEAT_INTERVAL
HEARTBEAT_WAIT = 30.0


@pytest.fixture
def built_index() -> None:
    from haystack import connections

    # A fresh backend built from the current settings, whatever earlier tests did.
    connections.reload("default")
    call_command("rebuild_index", interactive=False, verbosity=0)


def healthz(client) -> tuple[int, dict[str, Any]]:
    response = client.get("/healthz")
    return response.status_code, response.json()


def test_beat_and_worker_make_healthz_all_green(client, celery_children, built_index):
    status, body = healthz(client)
    assert status == 503, body
    assert body["components"]["celery_worker"]["status"] == "down"

    celery_children.start_beat()
    celery_children.start_worker()

    def worker_up():
        status, body = healthz(client)
        return (status, body) if body["components"]["celery_worker"]["status"] == "up" else None

    status, body = wait_for(
        worker_up, timeout=HEARTBEAT_WAIT, children=celery_children, what="the worker heartbeat"
    )
    assert status == 200, body
    assert body["status"] == "ok"
    assert {name: part["status"] for name, part in body["components"].items()} == dict.fromkeys(
        body["components"], "up"
    )
    assert body["components"]["celery_worker"]["last_heartbeat_seconds_ago"] < BEAT_INTERVAL + 5


def test_task_queued_on_commit_is_sent_by_the_real_worker_over_smtp(
    celery_children, smtp_server, queue_to_broker, mailoutbox
):
    celery_children.extra_env["TEST_EMAIL_URL"] = f"smtp://{smtp_server.host}:{smtp_server.port}"
    celery_children.start_worker()

    user = UserFactory(unverified=True, email="new.customer@example.com", preferred_language="en")
    with transaction.atomic():
        account_email_send.delay_on_commit(user.pk, "verify_email")
        # Nothing is published before the commit.
        assert smtp_server.inbox == []

    message = wait_for(
        lambda: [m for m in smtp_server.inbox if user.email in str(m["To"])],
        timeout=45,
        children=celery_children,
        what="the verification email",
    )[0]
    assert "confirm" in message["Subject"].lower()
    text = smtp_server.text_of(message)
    assert f"{django_settings.PORTAL_BASE_URL}/en/accounts/verify/" in text
    # The worker sent it, not this process.
    assert mailoutbox == []
    wait_for(
        lambda: "succeeded" in celery_children.log_text(),
        timeout=10,
        children=celery_children,
        what="the task's success in the worker log",
    )


def test_healthz_reports_the_worker_down_while_it_is_stopped(
    client, celery_children, built_index, settings
):
    from django.core.cache import cache

    celery_children.start_beat()
    celery_children.start_worker()
    wait_for(
        lambda: cache.get(HEARTBEAT_CACHE_KEY),
        timeout=HEARTBEAT_WAIT,
        children=celery_children,
        what="the first worker heartbeat",
    )

    celery_children.stop("worker")
    last_beat = cache.get(HEARTBEAT_CACHE_KEY)
    # Beat keeps scheduling heartbeats, but nobody runs them: once more than one
    # interval has passed, a live worker would have refreshed the timestamp.
    settings.CELERY_HEARTBEAT_MAX_AGE = int(BEAT_INTERVAL) + 1

    def reported_down():
        status, body = healthz(client)
        return (status, body) if status == 503 else None

    status, body = wait_for(
        reported_down,
        timeout=BEAT_INTERVAL + 15,
        children=celery_children,
        what="/healthz to report the stopped worker",
    )
    components = body["components"]
    assert components["celery_worker"]["status"] == "down"
    assert components["celery_worker"]["error"] == "heartbeat is stale"
    assert cache.get(HEARTBEAT_CACHE_KEY) == last_beat
    others = {name: part["status"] for name, part in components.items() if name != "celery_worker"}
    assert others == dict.fromkeys(["database", "cache", "channel_layer", "search_index"], "up")
