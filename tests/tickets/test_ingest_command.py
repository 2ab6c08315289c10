"""`manage.py ingest_email`: one message on stdin, or every message of a Maildir or mbox."""

import io
import mailbox
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from tests.celery_children import database_url_of_test_database
from tickets.models import InboundEmail, InboundSource, InboundStatus, Ticket

EMAILS = Path(__file__).parent / "emails"
MAILBOX_SAMPLES = ["new_request_ko.eml", "forwarded.eml", "malformed.eml", "mailing_list.eml"]


@pytest.fixture(autouse=True)
def desk(settings, general):
    settings.INBOUND_EMAIL_CATEGORY = general.slug


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue().splitlines()


def outcomes(lines: list[str]) -> list[str]:
    return [line.split("\t")[1] for line in lines]


def test_one_message_on_stdin(monkeypatch):
    raw = (EMAILS / "new_request_ko.eml").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))

    [line] = run()

    ticket = Ticket.objects.get()
    assert line == f"stdin\tnew_ticket\t{ticket.reference}"
    assert InboundEmail.objects.get().source == InboundSource.COMMAND


def test_every_message_of_an_mbox_once_however_often_it_runs(tmp_path):
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(path)
    for name in MAILBOX_SAMPLES:
        box.add((EMAILS / name).read_bytes())
    box.close()

    first = run(str(path))
    second = run(str(path))

    assert [line.split("\t")[0] for line in first] == [f"support.mbox#{n}" for n in range(1, 5)]
    assert outcomes(first) == ["new_ticket", "new_ticket", "quarantined", "ignored"]
    assert first[2].endswith("\tno From header")
    assert second == first
    assert Ticket.objects.count() == 2
    assert InboundEmail.objects.count() == 4


def test_every_message_of_a_maildir_which_is_left_as_it_was(tmp_path):
    box = mailbox.Maildir(tmp_path / "Maildir")
    for name in MAILBOX_SAMPLES:
        box.add((EMAILS / name).read_bytes())
    before = sorted(p.name for p in (tmp_path / "Maildir" / "new").iterdir())

    lines = run(str(tmp_path / "Maildir"))

    assert sorted(outcomes(lines)) == ["ignored", "new_ticket", "new_ticket", "quarantined"]
    assert sorted(p.name for p in (tmp_path / "Maildir" / "new").iterdir()) == before


def test_a_single_message_file(tmp_path):
    path = tmp_path / "reply.eml"
    path.write_bytes((EMAILS / "forwarded.eml").read_bytes())

    [line] = run(str(path))

    assert line.startswith("reply.eml\tnew_ticket\tHD-")


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda tmp: tmp / "missing", "no such file or folder"),
        (lambda tmp: tmp, "not a Maildir"),
    ],
)
def test_a_wrong_path_is_a_usage_error(tmp_path, make, error):
    with pytest.raises(CommandError, match=error) as caught:
        run(str(make(tmp_path)))
    assert caught.value.returncode == 1


def test_a_terminal_on_stdin_is_a_usage_error(monkeypatch):
    class Terminal(io.TextIOWrapper):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(io.BytesIO(b"")))

    with pytest.raises(CommandError, match="Pipe one message"):
        run()


@pytest.mark.django_db(transaction=True)
def test_a_mail_server_pipes_a_message_into_the_command(general):
    """What a Postfix pipe transport runs: a separate process, the message on stdin, exit 0."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "support_portal.settings.test",
        "TEST_VAR_DIR": str(django_settings.VAR_DIR),
        "DATABASE_URL": database_url_of_test_database(),
        "INBOUND_EMAIL_CATEGORY": general.slug,
    }
    raw = (EMAILS / "new_request_ko.eml").read_bytes()

    done = subprocess.run(
        [sys.executable, "manage.py", "ingest_email"],
        input=raw,
        capture_output=True,
        env=env,
        cwd=django_settings.BASE_DIR,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr.decode()
    ticket = Ticket.objects.get()
    assert done.stdout.decode() == f"stdin\tnew_ticket\t{ticket.reference}\n"
    assert InboundEmail.objects.get().status == InboundStatus.NEW_TICKET
