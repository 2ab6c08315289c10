"""A real Celery worker and beat, in child processes, on the real broker.

The children import the test settings with `TEST_VAR_DIR` set to this process's
VAR_DIR (shared file cache and filesystem broker in the embedded round; with
`REDIS_URL` inherited, Redis in the other round) and `DATABASE_URL` set to the
test database this process uses, so they see the rows the tests commit.

Used by the `worker` tests and by bench/notifications_speed.py. Test modules
import the fixtures they use (`celery_children_fixture`, `queue_to_broker_fixture`).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from kombu import pools

from support_portal.celery import app as celery_app

BASE_DIR = Path(django_settings.BASE_DIR)
# Children schedule the heartbeat this often instead of every 15 s.
HEARTBEAT_INTERVAL = 2.0


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
                "CELERY_HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL),
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

    def start_worker(self, name: str = "worker") -> None:
        self._start(
            name,
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            f"--hostname=test-{name}-{uuid.uuid4().hex[:8]}@%h",
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

    def kill(self, name: str) -> None:
        """SIGKILL the child at once, as a crash or the OOM killer would: no clean-up runs."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

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
        time.sleep(0.25)


@contextmanager
def publishing_to(url: str, transport_options: dict[str, Any]) -> Iterator[None]:
    """Make this process publish tasks to another broker (or to one that is not there).

    Celery keeps pools of broker connections; they are dropped on the way in
    and out, so the next task published connects to the broker in force.
    """
    conf = celery_app.conf
    previous = (conf.broker_url, conf.broker_write_url, conf.broker_transport_options)

    def switch(broker_url, write_url, options) -> None:
        conf.broker_url, conf.broker_write_url = broker_url, write_url
        conf.broker_transport_options = options
        # kombu keeps its pools in a global registry: clear it, not just ours.
        pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    switch(url, None, transport_options)
    try:
        yield
    finally:
        switch(*previous)


def unreachable_broker(folder: Path) -> tuple[str, dict[str, Any]]:
    """A broker URL and options of this round's kind where no broker is.

    Redis: a loopback port nothing listens on (connections are refused).
    Filesystem: a message folder that does not exist (writes fail).
    """
    options = dict(django_settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    url = django_settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        options["data_folder_out"] = str(folder / "no-such-broker-folder")
        return url, options
    return f"redis://127.0.0.1:{free_port()}/0", options


class RedisServer:
    """A private redis-server on a free loopback port, stopped and started on that same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        import redis

        executable = shutil.which("redis-server")
        assert executable, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                executable,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """A real outage: the server is gone, connections are refused."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


# Fixtures, imported by the modules that use them. Named through `name=` so the
# import does not clash with the test arguments that request them.


@pytest.fixture(name="celery_children")
def celery_children_fixture(transactional_db, tmp_path) -> Iterator[CeleryChildren]:
    children = CeleryChildren(tmp_path)
    try:
        yield children
    finally:
        children.stop_all()
        # Shown by pytest only when the test fails.
        print(children.log_text())  # noqa: T201


@pytest.fixture(name="queue_to_broker")
def queue_to_broker_fixture() -> Iterator[None]:
    """Make `delay()` in this process publish to the broker instead of running eagerly."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
