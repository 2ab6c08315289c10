"""The IMAP poller against a real IMAP server: a private Dovecot on a loopback port."""

from __future__ import annotations

import getpass
import imaplib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, connections

from tests.celery_children import (  # noqa: F401 - fixtures
    celery_children_fixture,
    free_port,
    wait_for,
)
from tickets import tasks
from tickets.mail_imap import imap_poll
from tickets.models import (
    InboundEmail,
    InboundSource,
    InboundStatus,
    Notification,
    NotificationKind,
    Ticket,
    TicketEvent,
)

EMAILS = Path(__file__).parent / "emails"
MB = 1024 * 1024
USER, PASSWORD = "support@example.com", "imap-test-password"


class Dovecot:
    """A throw-away Dovecot serving one mailbox over plain IMAP on 127.0.0.1."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.folder = Path(tempfile.mkdtemp(prefix="portal-imap-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Dovecot:
        # Dovecot refuses to run its login and mail processes as root: when the
        # tests are root, they run as the users the Debian package created.
        if os.geteuid() == 0:
            internal, login, mail = "dovecot", "dovenull", "dovecot"
        else:
            internal = login = mail = getpass.getuser()
        self.folder.chmod(0o755)
        for name in ("mail", "home"):
            (self.folder / name).mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.folder / name, mail, mail)
        (self.folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        config = self.folder / "dovecot.conf"
        config.write_text(
            f"""
base_dir = {self.folder}/run
state_dir = {self.folder}/state
log_path = {self.folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.folder}/mail/%u
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail} gid={mail} home={self.folder}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
        )
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                self.client().logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = self.folder / "dovecot.log"
                    raise AssertionError(
                        "Dovecot did not start:\n" + (log.read_text() if log.exists() else "")
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        shutil.rmtree(self.folder, ignore_errors=True)

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def deliver(self, raw: bytes, *, seen: bool = False, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            status, _data = client.append(folder, r"(\Seen)" if seen else None, None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def messages(self, folder: str = "INBOX") -> list[tuple[bytes, set[str]]]:
        """(Message-ID header line, flags but \\Recent) of every message in `folder`."""
        client = self.client()
        try:
            status, _data = client.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _status, data = client.uid(
                "FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
            )
        finally:
            client.logout()
        found = []
        for item in data:
            if isinstance(item, tuple):
                flags = set(re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split())
                flags.discard("\\Recent")  # depends on which session looked first
                found.append((item[1].strip(), flags))
        return found


@pytest.fixture(scope="module")
def dovecot_binary() -> str:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.access(binary, os.X_OK):
        pytest.skip("Dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    return binary


@pytest.fixture
def imap_server(dovecot_binary, settings, general) -> Iterator[Dovecot]:
    """A fresh mailbox, and the portal configured to poll it."""
    server = Dovecot(dovecot_binary).start()
    settings.INBOUND_IMAP_HOST = "127.0.0.1"
    settings.INBOUND_IMAP_PORT = server.port
    settings.INBOUND_IMAP_SSL = False
    settings.INBOUND_IMAP_USER = USER
    settings.INBOUND_IMAP_PASSWORD = PASSWORD
    settings.INBOUND_IMAP_FOLDER = "INBOX"
    settings.INBOUND_IMAP_PROCESSED_FOLDER = "Processed"
    settings.INBOUND_EMAIL_CATEGORY = general.slug
    try:
        yield server
    finally:
        server.stop()


def sample(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def header(name: str) -> bytes:
    """The Message-ID header line of a sample, as the server returns it."""
    return re.search(rb"(?im)^Message-ID:[^\n]*", sample(name)).group(0).strip()


@pytest.mark.django_db
def test_nothing_is_polled_without_a_configured_mailbox(settings):
    settings.INBOUND_IMAP_HOST = ""

    assert imap_poll() is None


@pytest.mark.django_db
def test_unread_mail_is_imported_then_marked_read_and_moved(imap_server):
    imap_server.deliver(sample("new_request_ko.eml"))
    imap_server.deliver(sample("malformed.eml"))
    imap_server.deliver(sample("mailing_list.eml"))
    imap_server.deliver(sample("forwarded.eml"), seen=True)  # somebody already read it

    result = imap_poll()

    assert (result.imported, result.failed, result.moved) == (3, 0, 3)
    rows = InboundEmail.objects.order_by("pk")
    assert [(row.status, row.source) for row in rows] == [
        (InboundStatus.NEW_TICKET, InboundSource.IMAP),
        (InboundStatus.QUARANTINED, InboundSource.IMAP),
        (InboundStatus.IGNORED, InboundSource.IMAP),
    ]
    assert Ticket.objects.get().requester.email == "seoyeon.park@example.kr"
    # Only the message it did not import is left; the rest sit, read, in the processed folder.
    assert imap_server.messages() == [(header("forwarded.eml"), {"\\Seen"})]
    processed = imap_server.messages("Processed")
    assert len(processed) == 3
    assert all("\\Seen" in flags for _id, flags in processed)

    assert imap_poll().imported == 0
    assert InboundEmail.objects.count() == 3


@pytest.mark.django_db
def test_without_a_processed_folder_mail_is_only_marked_read(imap_server, settings):
    settings.INBOUND_IMAP_PROCESSED_FOLDER = ""
    imap_server.deliver(sample("new_request_ko.eml"))

    result = imap_poll()

    assert (result.imported, result.moved) == (1, 0)
    assert imap_server.messages() == [(header("new_request_ko.eml"), {"\\Seen"})]
    assert imap_poll().imported == 0


@pytest.mark.django_db
def test_an_oversized_message_is_answered_from_its_headers(imap_server, settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1 * MB
    raw = sample("new_request_ko.eml") + b"\n" + b"x" * (2 * MB)
    imap_server.deliver(raw)

    imap_poll()

    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.TOO_LARGE
    assert inbound.size >= len(raw)
    answer = Notification.objects.get()
    assert (answer.kind, answer.to_email) == (
        NotificationKind.EMAIL_TOO_LARGE,
        "seoyeon.park@example.kr",
    )
    assert len(imap_server.messages("Processed")) == 1


@contextmanager
def database_locked(table: str) -> Iterator[None]:
    """Another session holds a write lock, so this process's writes time out (for real)."""
    if connection.vendor == "sqlite":
        # SQLite locks the whole database; wait 0.3 s for it instead of 20.
        options = connection.settings_dict.setdefault("OPTIONS", {})
        previous = options.get("timeout")
        connection.close()
        options["timeout"] = 0.3
        locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()
            connection.close()
            options["timeout"] = previous
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        locker = connections.create_connection("default")
        locker.set_autocommit(False)
        with locker.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # noqa: S608
        try:
            yield
        finally:
            locker.rollback()
            locker.close()
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_mail_the_database_cannot_take_stays_unread_for_the_next_poll(imap_server):
    imap_server.deliver(sample("new_request_ko.eml"))
    imap_server.deliver(sample("forwarded.eml"))

    with database_locked(InboundEmail._meta.db_table):
        result = imap_poll()

    assert (result.imported, result.failed) == (0, 1)  # the poll stops at the first failure
    assert not InboundEmail.objects.exists()
    assert [flags for _id, flags in imap_server.messages()] == [set(), set()]

    result = imap_poll()

    assert (result.imported, result.moved) == (2, 2)
    assert Ticket.objects.count() == 2
    assert imap_server.messages() == []


@pytest.mark.django_db(transaction=True)
def test_a_message_that_keeps_failing_is_quarantined_after_three_polls(imap_server):
    """Request history is locked, the incoming-mail log is not: only this message's import fails.

    (Not the requests table: the log's foreign keys to it are checked at commit.)
    """
    if connection.vendor == "sqlite":
        pytest.skip("SQLite locks the whole database; PostgreSQL can lock one table")
    imap_server.deliver(sample("new_request_ko.eml"))

    with database_locked(TicketEvent._meta.db_table):
        outcomes = [(r.imported, r.failed) for r in (imap_poll(), imap_poll(), imap_poll())]

    assert outcomes == [(0, 1), (0, 1), (0, 1)]
    inbound = InboundEmail.objects.get()
    assert inbound.status == InboundStatus.QUARANTINED
    assert "3 polls" in inbound.reason
    assert imap_server.messages() != []  # still there, unread, until the next poll

    assert imap_poll().imported == 1
    assert imap_server.messages() == []
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_task_polls_the_mailbox(imap_server):
    imap_server.deliver(sample("forwarded.eml"))

    tasks.imap_poll()

    assert InboundEmail.objects.get().status == InboundStatus.NEW_TICKET


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_polls_the_mailbox_when_one_is_configured(imap_server, celery_children, general):
    """Real beat and worker processes: mail delivered to the server becomes a request."""
    celery_children.extra_env.update(
        {
            "INBOUND_IMAP_HOST": "127.0.0.1",
            "INBOUND_IMAP_PORT": str(imap_server.port),
            "INBOUND_IMAP_SSL": "false",
            "INBOUND_IMAP_USER": USER,
            "INBOUND_IMAP_PASSWORD": PASSWORD,
            "INBOUND_IMAP_PROCESSED_FOLDER": "Processed",
            "INBOUND_IMAP_POLL_INTERVAL": "1",
            "INBOUND_EMAIL_CATEGORY": general.slug,
        }
    )
    celery_children.start_beat()
    celery_children.start_worker()

    imap_server.deliver(sample("new_request_ko.eml"))

    ticket = wait_for(
        lambda: Ticket.objects.first(),
        timeout=60,
        children=celery_children,
        what="the polled email to become a request",
    )
    assert ticket.requester.email == "seoyeon.park@example.kr"
    wait_for(
        lambda: imap_server.messages("Processed"),
        timeout=20,
        children=celery_children,
        what="the message to be moved",
    )
    assert imap_server.messages() == []
