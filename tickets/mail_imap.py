"""Read the support mailbox over IMAP: the beat task `tickets.imap_poll` calls `imap_poll`.

Each poll logs in, selects INBOUND_IMAP_FOLDER and takes up to
INBOUND_IMAP_BATCH unread messages (by UID, oldest first). Each one is
fetched without marking it read (BODY.PEEK), imported with
`mail_ingest.ingest`, and only then marked \\Seen, and moved to
INBOUND_IMAP_PROCESSED_FOLDER when one is set.

Nothing is ever deleted: a message leaves the folder only by MOVE (or COPY
followed by an expunge of that one UID, where the server has UIDPLUS), and
only once the database has a record of it. Repeating a poll is harmless:
`ingest` imports each Message-ID once, so a message read twice (two polls
at once, a crash before the \\Seen flag was stored) is recorded once.

A message over INBOUND_EMAIL_MAX_BYTES is not downloaded: its headers are,
for the polite "too large" answer. A message `ingest` cannot import is
quarantined by `ingest` itself at its first failure and is then done with.
`ingest` raises only when the database or the file storage fails; the
message then stays unread for the next poll, and after
INBOUND_IMAP_MAX_ATTEMPTS such failures it is quarantined so that no message
is retried for ever.

The mailbox should be the desk's own: a person reading it in a mail client
marks messages seen, and seen messages are not imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from tickets import mail_ingest
from tickets.models import InboundSource

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60
# Polls in which importing one message may fail (database or storage errors) before
# it is quarantined.
INBOUND_IMAP_MAX_ATTEMPTS = 3
_FAILURES_KEY = "imap-ingest-failures:{}"
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(RuntimeError):
    """The server refused a command the poll cannot do without (login, select, search)."""


@dataclass
class PollResult:
    imported: int = 0  # recorded by ingest (whatever the outcome: reply, ignored, …)
    failed: int = 0  # left unread for the next poll
    moved: int = 0


def imap_poll() -> PollResult | None:
    """Import the unread messages of the configured mailbox; None when none is configured."""
    if not settings.INBOUND_IMAP_HOST:
        return None
    connection = _connect()
    try:
        return _poll(connection)
    finally:
        # The server may have gone away first; nothing is left to release then.
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            connection.logout()


def _connect() -> imaplib.IMAP4:
    host, port = settings.INBOUND_IMAP_HOST, settings.INBOUND_IMAP_PORT
    if settings.INBOUND_IMAP_SSL:
        connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        connection = imaplib.IMAP4(host, port, timeout=TIMEOUT_SECONDS)
    try:
        connection.login(settings.INBOUND_IMAP_USER, settings.INBOUND_IMAP_PASSWORD)
    except imaplib.IMAP4.error as exc:
        connection.shutdown()
        raise ImapError(f"IMAP login to {host}:{port} failed: {exc}") from exc
    return connection


def _poll(connection: imaplib.IMAP4) -> PollResult:
    folder = settings.INBOUND_IMAP_FOLDER
    _ok(connection.select(_quote(folder)), f"SELECT {folder}")
    processed = settings.INBOUND_IMAP_PROCESSED_FOLDER
    if processed:
        # NO when it exists already; a real problem shows when moving.
        connection.create(_quote(processed))
    data = _ok(connection.uid("SEARCH", "UNSEEN"), "SEARCH UNSEEN")
    uids = (data[0] or b"").split()[: settings.INBOUND_IMAP_BATCH]
    # Servers announce MOVE and UIDPLUS only once logged in; imaplib keeps the greeting's list.
    capabilities = set(_ok(connection.capability(), "CAPABILITY")[0].decode().upper().split())
    result = PollResult()
    for uid in uids:
        raw, size = _fetch(connection, uid)
        if raw is None:
            continue  # expunged by someone else since the search
        try:
            if size > settings.INBOUND_EMAIL_MAX_BYTES:
                mail_ingest.ingest_oversized(raw, size=size, source=InboundSource.IMAP)
            else:
                mail_ingest.ingest(raw, source=InboundSource.IMAP)
        except mail_ingest.TRANSIENT_ERRORS:
            logger.exception("IMAP message %s not imported; left unread", uid.decode())
            result.failed += 1
            if not _give_up(raw):
                break  # the database is down: the rest would fail too
            continue
        result.imported += 1
        result.moved += _done(connection, uid, processed, capabilities)
    connection.close()
    if uids:
        logger.info("IMAP poll: %s", result)
    return result


def _fetch(connection: imaplib.IMAP4, uid: bytes) -> tuple[bytes | None, int]:
    """The message (only its headers when over the size limit) and its size."""
    data = _ok(connection.uid("FETCH", uid, "(RFC822.SIZE)"), "FETCH RFC822.SIZE")
    match = next((m for item in data if (m := _SIZE_RE.search(_bytes(item)))), None)
    if match is None:
        return None, 0
    size = int(match.group(1))
    part = "BODY.PEEK[HEADER]" if size > settings.INBOUND_EMAIL_MAX_BYTES else "BODY.PEEK[]"
    data = _ok(connection.uid("FETCH", uid, f"({part})"), f"FETCH {part}")
    raw = next((item[1] for item in data if isinstance(item, tuple) and len(item) == 2), None)
    return raw, size


def _done(connection: imaplib.IMAP4, uid: bytes, processed: str, capabilities: set[str]) -> int:
    """Mark an imported message read and move it to the processed folder; 1 if moved."""
    connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
    if not processed:
        return 0
    if "MOVE" in capabilities:
        status, _data = connection.uid("MOVE", uid, _quote(processed))
        return int(status == "OK")
    status, _data = connection.uid("COPY", uid, _quote(processed))
    if status != "OK" or "UIDPLUS" not in capabilities:
        # Without UIDPLUS an expunge would remove every \Deleted message, also ones
        # this poll never read: leave the (seen) original where it is.
        return 0
    connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
    connection.uid("EXPUNGE", uid)
    return 1


def _give_up(raw: bytes) -> bool:
    """Count a failed import of `raw`; quarantine it after the last attempt.

    Returns whether the quarantine was recorded (the database answers again).
    """
    key = _FAILURES_KEY.format(hashlib.sha256(raw).hexdigest())
    try:
        cache.add(key, 0, timeout=7 * 24 * 3600)
        failures = cache.incr(key)
    except Exception:  # noqa: BLE001 - without a cache the message is simply tried again
        logger.exception("Could not count IMAP import failures")
        return False
    if failures < INBOUND_IMAP_MAX_ATTEMPTS:
        return False
    try:
        mail_ingest.quarantine(
            raw,
            source=InboundSource.IMAP,
            reason=f"import failed in {failures} polls in a row (database or storage error)",
        )
    except mail_ingest.TRANSIENT_ERRORS:
        return False
    cache.delete(key)
    return True


def _ok(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        raise ImapError(f"IMAP {what} failed: {data!r}")
    return data


def _bytes(item: bytes | tuple) -> bytes:
    return item[0] if isinstance(item, tuple) else (item or b"")


def _quote(mailbox: str) -> str:
    """Quote a mailbox name for a command (imaplib sends arguments as they are)."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'
