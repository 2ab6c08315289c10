"""Import incoming email: one message on stdin, or every message of a Maildir or mbox.

    python manage.py ingest_email < message.eml          (e.g. a Postfix pipe transport)
    python manage.py ingest_email /var/mail/support      (an mbox file)
    python manage.py ingest_email ~/Maildir              (a Maildir folder)
    python manage.py ingest_email message.eml            (one message in a file)

Prints one line per message: where it came from, what it became, the request
and the reason. Running it twice over the same mail imports nothing twice. The
source is only read, never changed.

Exit status: 0 whatever became of the messages (refused and quarantined mail is
recorded, that is the outcome); 1 on a usage error; 75 (EX_TEMPFAIL) when the
database or the file storage failed and nothing was recorded, so that a mail
server piping into this command keeps the message and delivers it again later.
"""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets import mail_ingest
from tickets.models import InboundEmail, InboundSource

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = (
        "Import incoming email into support requests: one RFC 822 message on stdin, or "
        "every message of a Maildir folder or an mbox file given as PATH."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            help="A Maildir folder, an mbox file or a single message file (default: stdin).",
        )

    def handle(self, *args, path: str | None, **options):
        for label, raw in self._messages(path):
            try:
                inbound = mail_ingest.ingest(raw, source=InboundSource.COMMAND)
            except mail_ingest.TRANSIENT_ERRORS as exc:
                raise CommandError(
                    f"{label}: not imported, the database or file storage is failing "
                    f"({exc}); nothing was recorded, try again later",
                    returncode=EX_TEMPFAIL,
                ) from exc
            self.stdout.write(_outcome(label, inbound))

    def _messages(self, path: str | None) -> Iterator[tuple[str, bytes]]:
        if path is None:
            if sys.stdin.isatty():
                raise CommandError("Pipe one message into the command, or give a PATH.")
            yield "stdin", sys.stdin.buffer.read()
            return
        location = Path(path)
        if location.is_dir():
            if not ((location / "cur").is_dir() or (location / "new").is_dir()):
                raise CommandError(f"{path} is a folder but not a Maildir (no cur/ or new/).")
            maildir = mailbox.Maildir(location, factory=None, create=False)
            for key in sorted(maildir.keys()):
                yield key, maildir.get_bytes(key)
        elif location.is_file():
            with location.open("rb") as handle:
                is_mbox = handle.read(5) == b"From "
            if not is_mbox:
                yield location.name, location.read_bytes()
                return
            mbox = mailbox.mbox(location, factory=None, create=False)
            for number, key in enumerate(mbox.keys(), start=1):
                yield f"{location.name}#{number}", mbox.get_bytes(key)
        else:
            raise CommandError(f"{path}: no such file or folder.")


def _outcome(label: str, inbound: InboundEmail) -> str:
    reference = inbound.ticket.reference if inbound.ticket_id else "-"
    line = f"{label}\t{inbound.status}\t{reference}"
    return f"{line}\t{inbound.reason}" if inbound.reason else line
