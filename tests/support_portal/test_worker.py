"""A real Celery worker and beat, in child processes, on the real broker.

The children import the test settings with `TEST_VAR_DIR` set to this process's
VAR_DIR (shared file cache and filesystem broker in the embedded round; with
`REDIS_URL` inherited, Redis in the other round) and `DATABASE_URL` set to the
test database this process uses, so they see the rows the tests commit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from accounts.tasks import account_email_send
from support_portal.celery import app as celery_app
from support_portal.health import HEARTBEAT_CACHE_KEY
from tests.accounts.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The child beat schedules the heartbeat every 2 s instead of 15 s (settings read
# CELERY_HEARTBEAT_INTERVAL); its first run comes one interval after beat starts,
# and children need a few seconds to import Django.
BEAT_INTERVAL = 2.0
HEARTBEAT_WAIT = 30.0
BASE_DIR = Path(django_settings.BASE_DIR)


def database_url_of_test_database() -> str:
    """The URL of the database this process is connected to (the test database)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = quote(str(db.get("HOST") or ""), safe="")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"
    raise NotImplementedError(f"No DATABASE_URL for the {connection.vendor} backend")


class CeleryChildren:
    """Start and stop `celery worker` / `celery beat` child processes; keep their logs."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self.extra_env: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "support_portal.settings.test",
                "TEST_VAR_DIR": str(django_settings.VAR_DIR),
                "CELERY_TASK_ALWAYS_EAGER": "false",
                "DATABASE_URL": database_url_of_test_database(),
                "PYTHONUNBUFFERED": "1",
                "CELERY_HEARTBEAT_INTERVAL": str(BEAT_INTERVAL),
                **self.extra_env,
            }
        )
        return env

    def _start(self, name: str, *args: str) -> None:
        assert name not in self.processes, f"{name} is already running"
        log = self.log_dir / f"{name}-{len(self.logs)}.log"
        self.logs[f"{name} ({log.name})"] = log
        with log.open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "support_portal", *args],
                cwd=BASE_DIR,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> None:
        self._start(
            "worker",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--hostname=test-worker-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )

    def start_beat(self) -> None:
        schedule = self.log_dir / f"beat-schedule-{uuid.uuid4().hex[:8]}"
        self._start("beat", "beat", "--loglevel=INFO", f"--schedule={schedule}")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(
                    f"celery {name} exited with {process.returncode}\n{self.log_text()}"
                )

    def log_text(self) -> str:
        parts = []
        for label, path in self.logs.items():
            text = path.read_text(errors="replace") if path.exists() else "(no log)"
            parts.append(f"----- celery {label} -----\n{text[-20000:]}")
        return "\n".join(parts)


@pytest.fixture
def celery_children(transactional_db, tmp_path) -> Iterator[CeleryChildren]:
    children = CeleryChildren(tmp_path)
    try:
        yield children
    finally:
        children.stop_all()
        # Shown by pytest only when the test fails.
        print(children.log_text())  # noqa: T201


@pytest.fixture
def built_index() -> None:
    from haystack import connections

    # A fresh backend built from the current settings, whatever earlier tests did.
    connections.reload("default")
    call_command("rebuild_index", interactive=False, verbosity=0)


@pytest.fixture
def queue_to_broker() -> Iterator[None]:
    """Make `delay()` in this process publish to the broker instead of running eagerly."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, children: CeleryChildren, what: str
) -> Any:
    """Poll `predicate` until it returns something truthy; fail with the children's logs."""
    deadline = time.monotonic() + timeout
    while True:
        children.check_alive()
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


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
