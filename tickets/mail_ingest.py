"""Incoming email: turn one raw message into a reply, a new request or a recorded refusal.

The ``ingest_email`` command, the IMAP poller (tickets.mail_imap) and the HTTP
endpoint for mail providers (tickets.api.inbound) all call ``ingest``. Every
message leaves one `InboundEmail` row, whatever became of it:

- a Message-ID seen before: nothing happens, the first row is returned (the
  unique column decides, so two deliveries at once cannot both import it);
- larger than INBOUND_EMAIL_MAX_BYTES: TOO_LARGE, only its headers are kept,
  and the sender gets a polite EMAIL_TOO_LARGE answer;
- not a usable message: QUARANTINED with the reason and the raw bytes, never
  retried by itself (so a poller or a provider cannot loop on it);
- sent by the desk itself, a bounce, an auto-reply or list mail: IGNORED and
  never answered (no mail loops); on the request it belongs to, an internal
  EMAIL_IGNORED event says it came;
- from the requester (or an address CC'd on the request) on a request it
  threads to: REPLY, posted through `services.ticket_reply`, which reopens a
  solved request or opens a linked follow-up after the reopen window;
- anything else: NEW_TICKET for the sender (under a new unverified account
  when the address has none), or REFUSED with an EMAIL_REFUSED answer when
  INBOUND_EMAIL_CREATE_ACCOUNTS is off.

Threading tries, in this order, the Message-IDs in In-Reply-To/References
(of emails the desk sent, `Notification.email_message_id`, and of emails it
received), the request named in a plus address (support+hd-7k3p9q@…) among
the recipients, and the reference in the subject. The first request whose
requester or CC list contains the sender wins; a stranger quoting someone
else's reference gets a request of their own, never a reply on that one.

All the writes for one email happen in one transaction; automatic answers go
through the outbox (`tickets.notifications.queue`), so they are sent after the
commit, by the worker.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import user_create_from_email
from support_portal import uploads
from tickets import automations, notifications, services
from tickets.mail_parsing import (
    MalformedEmail,
    ParsedEmail,
    header_block,
    message_id_of,
    parse_email,
    parse_email_headers,
)
from tickets.models import (
    BODY_MAX_LENGTH,
    REFERENCE_ALPHABET,
    REFERENCE_RE,
    SUBJECT_MAX_LENGTH,
    Attachment,
    Channel,
    EventKind,
    InboundEmail,
    InboundStatus,
    Message,
    Notification,
    NotificationKind,
    Ticket,
    TicketCategory,
    TicketEvent,
)

logger = logging.getLogger(__name__)

MB = 1024 * 1024
# The stored copy of the whole message, attached to the message it became.
ORIGINAL_NAME = "original-email.eml"
ORIGINAL_KIND = "email"
ORIGINAL_CONTENT_TYPE = "message/rfc822"
# Only so many thread ids are looked up: a References header can list hundreds.
MAX_THREAD_IDS = 50
MAX_CC = 20
MAX_REFUSED_LISTED = 20
# Automatic answers (refused, too large) per address and day. Stops a loop with
# an auto-responder that does not mark its mail as automatic, and keeps forged
# senders from turning the desk into a spam cannon.
MAX_ANSWERS_PER_ADDRESS_PER_DAY = 5
# Errors that say the database or the file storage is failing, not that this
# email is bad: nothing is recorded, and the caller keeps the message and tries
# again later. (Image decoding errors never get here: support_portal.uploads
# turns them into refusals.)
TRANSIENT_ERRORS = (OperationalError, InterfaceError, OSError)

_REFERENCE_IN_SUBJECT_RE = re.compile(
    rf"[\[【(]?\s*HD-[{REFERENCE_ALPHABET}]{{6}}\s*[\]】)]?", re.IGNORECASE | re.ASCII
)
_REPLY_PREFIX_RE = re.compile(r"^\s*(?:(?:re|aw|sv|回复|答复|回覆|返信|답장)\s*[:：]\s*)+", re.I)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Entry points ---------------------------------------------------------------------------


def ingest(raw: bytes, *, source: str) -> InboundEmail:
    """Import one raw RFC 822 message received through `source` (an InboundSource value).

    Returns the message's `InboundEmail` row, or the existing row when the
    same Message-ID was imported before. Nothing about the message itself
    makes this raise: a bad message is quarantined and a failure while
    importing it too (the error is logged). It raises only when the
    database or the file storage fails (`TRANSIENT_ERRORS`); nothing was
    recorded then, so the caller should keep the message and try again later.
    """
    if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
        return ingest_oversized(raw, size=len(raw), source=source)
    try:
        parsed = parse_email(raw, max_bytes=settings.INBOUND_EMAIL_MAX_BYTES)
    except MalformedEmail as exc:
        return quarantine(raw, source=source, reason=exc.reason)
    return _import(parsed, content=raw, source=source, decide=_decide)


def ingest_oversized(head: bytes, *, size: int, source: str) -> InboundEmail:
    """Record a message of `size` bytes that is over the limit, from its beginning `head`.

    For callers that will not read a message that large (the IMAP poller
    fetches only the headers; the endpoint stops reading at the limit).
    Only the header block is stored. The sender is told, unless a machine
    sent it.
    """
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    reason = f"message is {size} bytes, the limit is {limit}"
    block = header_block(head)
    try:
        parsed = parse_email_headers(block, size=size)
    except MalformedEmail as exc:
        return _record_unparsed(
            block, source=source, status=InboundStatus.TOO_LARGE, reason=f"{reason}; {exc.reason}"
        )

    def decide(job: _Job) -> None:
        job.inbound.status = InboundStatus.TOO_LARGE
        job.inbound.reason = reason
        _answer(job.parsed, NotificationKind.EMAIL_TOO_LARGE, limit_mb=limit // MB)

    return _import(parsed, content=block, source=source, decide=decide)


def quarantine(raw: bytes, *, source: str, reason: str) -> InboundEmail:
    """Record `raw` as QUARANTINED with `reason`, keeping its bytes for a later look.

    For a message that cannot be imported; also what the IMAP poller calls
    for a message whose import keeps failing, so that it is not tried for
    ever. Returns the existing row when the message was recorded before.
    """
    return _record_unparsed(raw, source=source, status=InboundStatus.QUARANTINED, reason=reason)


def message_key(message_id: str) -> str:
    """The form Message-IDs are stored and compared in: no brackets, lower case, ≤ 250 chars."""
    key = message_id.strip().strip("<>").strip().lower()
    if len(key) > 250:
        key = f"{hashlib.sha256(key.encode()).hexdigest()}@long.invalid"
    return key


# Recording ---------------------------------------------------------------------------------


@dataclass
class _Job:
    """One email being imported, inside its transaction."""

    inbound: InboundEmail
    parsed: ParsedEmail
    sha256: str
    # Attachment files written so far: a rollback keeps files, so they are removed by hand.
    stored: list[Attachment] = field(default_factory=list)


class _Duplicate(Exception):
    """The Message-ID was recorded by another delivery meanwhile."""


def _import(parsed: ParsedEmail, *, content: bytes, source: str, decide) -> InboundEmail:
    key = message_key(parsed.message_id)
    existing = InboundEmail.objects.filter(email_message_id=key).first()
    if existing is not None:
        return existing
    inbound = InboundEmail(
        email_message_id=key,
        source=source,
        sender=parsed.sender[:254],
        subject=parsed.subject[:500],
        size=parsed.size,
        # Set by `decide` before the commit; the row is never seen without it.
        status=InboundStatus.QUARANTINED,
    )
    # Written before the transaction: the file must outlive a rollback, because a
    # failed import is quarantined with it.
    inbound.raw.save("message.eml", ContentFile(content), save=False)
    job = _Job(inbound=inbound, parsed=parsed, sha256=hashlib.sha256(content).hexdigest())
    try:
        with transaction.atomic():
            if not _insert(inbound):
                raise _Duplicate
            decide(job)
            inbound.save(update_fields=["status", "reason", "ticket", "message"])
    except _Duplicate:
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(email_message_id=key)
    except TRANSIENT_ERRORS:
        _remove_files(job.stored)
        inbound.raw.delete(save=False)
        raise
    except Exception as exc:  # noqa: BLE001 - any other failure is about this email: quarantine it
        _remove_files(job.stored)
        logger.exception("Incoming email %s could not be imported; quarantined", key)
        reason = f"import failed ({type(exc).__name__}: {str(exc)[:300]})"
        return _quarantine_stored(inbound, reason=reason)
    logger.info("Incoming email %s: %s %s", key, inbound.status, inbound.reason)
    return inbound


def _insert(inbound: InboundEmail) -> bool:
    """Insert the row; False when its Message-ID is already recorded (the unique index decides).

    On PostgreSQL a concurrent insert of the same id waits here until the
    first transaction ends, then fails: exactly one delivery imports the email.
    """
    try:
        with transaction.atomic():
            inbound.save(force_insert=True)
    except IntegrityError:
        if InboundEmail.objects.filter(email_message_id=inbound.email_message_id).exists():
            return False
        raise
    return True


def _quarantine_stored(inbound: InboundEmail, *, reason: str) -> InboundEmail:
    """Record the email whose import failed as quarantined, with the raw file already stored."""
    row = InboundEmail(
        email_message_id=inbound.email_message_id,
        source=inbound.source,
        sender=inbound.sender,
        subject=inbound.subject,
        size=inbound.size,
        raw=inbound.raw.name,
        status=InboundStatus.QUARANTINED,
        reason=reason,
        received_at=inbound.received_at,
    )
    if not _insert(row):
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(email_message_id=row.email_message_id)
    return row


def _record_unparsed(raw: bytes, *, source: str, status: str, reason: str) -> InboundEmail:
    """Record a message that cannot be parsed (or need not be), with the best facts at hand."""
    key = message_key(message_id_of(raw))
    existing = InboundEmail.objects.filter(email_message_id=key).first()
    if existing is not None:
        return existing
    try:
        headers = parse_email_headers(raw, size=len(raw))
        sender, subject = headers.sender, headers.subject
    except MalformedEmail:
        sender = subject = ""
    inbound = InboundEmail(
        email_message_id=key,
        source=source,
        sender=sender[:254],
        subject=subject[:500],
        size=len(raw),
        status=status,
        reason=reason[:2000],
    )
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    try:
        inserted = _insert(inbound)
    except BaseException:
        inbound.raw.delete(save=False)
        raise
    if not inserted:
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(email_message_id=key)
    logger.warning("Incoming email %s: %s (%s)", key, status, reason)
    return inbound


def _remove_files(attachments: list[Attachment]) -> None:
    for attachment in attachments:
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)


# Deciding -----------------------------------------------------------------------------------


def _decide(job: _Job) -> None:
    parsed = job.parsed
    if is_own_address(parsed.sender):
        job.inbound.status = InboundStatus.IGNORED
        job.inbound.reason = "sent from one of the desk's own addresses (mail loop)"
        return None
    if parsed.is_bounce:
        return _ignore(job, reason="delivery failure report (bounce)", code="bounce")
    if parsed.is_auto_submitted:
        return _ignore(job, reason="automatic mail (auto-reply, mailing list or bulk)")
    candidates = _thread_candidates(parsed)
    ticket = next((ticket for ticket, _by_id in candidates if _on_thread(parsed, ticket)), None)
    if ticket is not None:
        _reply(job, ticket)
    else:
        _open(job, quoted=[ticket.reference for ticket, _by_id in candidates])
    if job.inbound.status in (InboundStatus.REPLY, InboundStatus.NEW_TICKET):
        # Outside support hours the sender learns when support is back (once a day).
        automations.reply_out_of_hours(job.inbound.ticket, now=timezone.now())
    return None


def _thread_candidates(
    parsed: ParsedEmail, *, extra_ids: list[str] | None = None
) -> list[tuple[Ticket, bool]]:
    """Requests the email may belong to, most likely first, each with whether a Message-ID
    (In-Reply-To/References, or a bounce's returned message) named it."""
    ids = list(
        dict.fromkeys(
            message_key(value)
            for value in [*(extra_ids or []), *parsed.in_reply_to, *reversed(parsed.references)]
        )
    )[:MAX_THREAD_IDS]
    by_id: dict[str, int] = {}
    if ids:
        for table in (Notification, InboundEmail):
            rows = table.objects.filter(email_message_id__in=ids, ticket__isnull=False)
            for key, ticket_id in rows.values_list("email_message_id", "ticket_id"):
                by_id.setdefault(key, ticket_id)
    ticket_ids = list(dict.fromkeys(by_id[key] for key in ids if key in by_id))
    references = list(dict.fromkeys([*_plus_references(parsed), parsed.ticket_reference]))
    references = [reference for reference in references if reference]
    tickets = Ticket.objects.select_related("requester")
    found_by_pk = tickets.in_bulk(ticket_ids)
    found_by_reference = {
        ticket.reference: ticket for ticket in tickets.filter(reference__in=references)
    }
    candidates: list[tuple[Ticket, bool]] = []
    seen: set[int] = set()
    for ticket, by_id_match in [
        *((found_by_pk.get(pk), True) for pk in ticket_ids),
        *((found_by_reference.get(reference), False) for reference in references),
    ]:
        if ticket is not None and ticket.pk not in seen:
            seen.add(ticket.pk)
            candidates.append((ticket, by_id_match))
    return candidates


def _plus_references(parsed: ParsedEmail) -> list[str]:
    """References named by a plus address of the reply address (support+hd-7k3p9q@…)."""
    local, _at, domain = settings.SUPPORT_REPLY_ADDRESS.lower().rpartition("@")
    found = []
    for address in [*parsed.to, *parsed.cc, *parsed.delivered_to]:
        name, _at, address_domain = address.rpartition("@")
        base, plus, tag = name.partition("+")
        if (
            plus
            and base == local
            and address_domain == domain
            and REFERENCE_RE.fullmatch(tag.upper())
        ):
            found.append(tag.upper())
    return found


def _on_thread(parsed: ParsedEmail, ticket: Ticket) -> bool:
    """Whether the sender may write on `ticket`: its requester or an address CC'd on it."""
    return parsed.sender == ticket.requester.email.lower() or parsed.sender in ticket.cc_emails


def is_own_address(address: str) -> bool:
    """Whether `address` reaches the desk itself (the reply address and its plus forms,
    DEFAULT_FROM_EMAIL, SERVER_EMAIL, INBOUND_EMAIL_OWN_ADDRESSES)."""
    own = {
        email.utils.parseaddr(value)[1].lower()
        for value in [
            settings.SUPPORT_REPLY_ADDRESS,
            settings.DEFAULT_FROM_EMAIL,
            settings.SERVER_EMAIL,
            *settings.INBOUND_EMAIL_OWN_ADDRESSES,
        ]
    }
    address = address.lower()
    name, _at, domain = address.rpartition("@")
    return address in own or f"{name.partition('+')[0]}@{domain}" in own


def _ignore(job: _Job, *, reason: str, code: str = "automatic") -> None:
    """Record automatic mail without answering it; note it on its request, if it has one.

    Only a request named by a Message-ID, or one the sender is on, gets the
    note: a forged subject reference must not write on anyone's request.
    """
    parsed = job.parsed
    job.inbound.status = InboundStatus.IGNORED
    job.inbound.reason = reason
    candidates = _thread_candidates(parsed, extra_ids=parsed.returned_message_ids)
    ticket = next(
        (ticket for ticket, by_id in candidates if by_id or _on_thread(parsed, ticket)), None
    )
    if ticket is None:
        return
    TicketEvent.objects.create(
        ticket=ticket,
        kind=EventKind.EMAIL_IGNORED,
        new_value={"reason": code, "from": parsed.sender, "subject": parsed.subject[:200]},
        is_public=False,
    )
    job.inbound.ticket = ticket


def _refuse(job: _Job, *, reason: str, answer: bool) -> None:
    job.inbound.status = InboundStatus.REFUSED
    job.inbound.reason = reason
    if answer:
        _answer(job.parsed, NotificationKind.EMAIL_REFUSED)


def _answer(parsed: ParsedEmail, kind: str, **context) -> Notification | None:
    """Queue a polite automatic answer to the sender, unless answering could start a loop."""
    sender = parsed.sender
    if (
        parsed.is_auto_submitted
        or parsed.is_bounce
        or is_own_address(sender)
        or not is_usable_address(sender)
    ):
        return None
    if not _may_answer_today(sender):
        return None
    # A known customer reads their own language; anyone else the one they wrote in.
    customer = User.objects.filter(email__iexact=sender).only("preferred_language").first()
    language = customer.preferred_language if customer else parsed.language_guess
    key = f"inbound:{kind}:{message_key(parsed.message_id)}"
    if len(key) > 200:
        key = f"inbound:{kind}:{hashlib.sha256(key.encode()).hexdigest()}"
    return notifications.queue(
        kind,
        to_email=sender,
        language=language or "en",
        context={
            "subject": parsed.subject,
            # A made-up id names no email the sender has: nothing to reply to.
            "in_reply_to": "" if parsed.message_id_synthetic else parsed.message_id,
            **context,
        },
        dedupe_key=key,
    )


def _may_answer_today(address: str) -> bool:
    """Count an automatic answer to `address`; False once today's allowance is used up.

    A cache counter, not a query: the outbox table is large and not indexed by
    address, and a flood of refused mail must stay cheap. Counted before the
    transaction commits, so a rolled-back import may use up one answer.
    """
    day = timezone.now().date().isoformat()
    key = f"inbound-answers:{day}:{hashlib.sha256(address.encode()).hexdigest()}"
    cache.add(key, 0, timeout=2 * 24 * 3600)
    try:
        return cache.incr(key) <= MAX_ANSWERS_PER_ADDRESS_PER_DAY
    except ValueError:  # expired between add() and incr()
        return True


def is_usable_address(address: str) -> bool:
    if len(address) > 254:
        return False
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


# Replies and new requests ---------------------------------------------------------------------


def _reply(job: _Job, ticket: Ticket) -> None:
    parsed = job.parsed
    author = ticket.requester
    if not author.is_active:
        return _refuse(
            job, reason=f"{ticket.reference}: the requester's account is disabled", answer=False
        )
    with translation.override(ticket.language):
        refused = _store_attachments(job, author)
        # The conversation is the requester's; a colleague they CC'd writes in it under their name.
        prefix = (
            ""
            if parsed.sender == author.email.lower()
            else (_("From %(sender)s:") % {"sender": parsed.sender})
        )
        body = _body(parsed.reply_text, prefix=prefix, refused=refused)
    message = services.ticket_reply(
        ticket=ticket, author=author, body=body, attachments=job.stored, channel=Channel.EMAIL
    )
    _attach_original(job, message, author)
    job.inbound.status = InboundStatus.REPLY
    job.inbound.ticket = message.ticket
    job.inbound.message = message
    if message.ticket_id != ticket.pk:
        job.inbound.reason = f"reply to {ticket.reference} opened follow-up {message.ticket}"


def _open(job: _Job, *, quoted: list[str]) -> None:
    parsed = job.parsed
    user = User.objects.filter(email__iexact=parsed.sender).first()
    if user is None:
        if not is_usable_address(parsed.sender):
            return _refuse(job, reason="the sender address is not usable", answer=False)
        if not settings.INBOUND_EMAIL_CREATE_ACCOUNTS:
            return _refuse(
                job,
                reason="no account for the sender (INBOUND_EMAIL_CREATE_ACCOUNTS is off)",
                answer=True,
            )
        user = _customer_for(parsed)
    elif not user.is_active:
        return _refuse(job, reason="the sender's account is disabled", answer=False)
    category = _category()
    # A known customer's own choice; for a new one, what the text is written in.
    language = user.preferred_language
    with translation.override(language):
        refused = _store_attachments(job, user)
        subject = _subject(parsed)
        description = _body(parsed.reply_text, prefix="", refused=refused)
    ticket = services.ticket_create(
        requester=user,
        category=category,
        subject=subject,
        description=description,
        fields={},
        language=language,
        channel=Channel.EMAIL,
        attachments=job.stored,
        cc_emails=_cc_addresses(parsed),
    )
    message = ticket.messages.get()
    _attach_original(job, message, user)
    job.inbound.status = InboundStatus.NEW_TICKET
    job.inbound.ticket = ticket
    job.inbound.message = message
    if quoted:
        job.inbound.reason = (
            f"quoted {', '.join(quoted)} of another sender: opened a request of its own"
        )


def _customer_for(parsed: ParsedEmail) -> User:
    try:
        return user_create_from_email(
            email=parsed.sender,
            display_name=_display_name(parsed.sender_name),
            preferred_language=parsed.language_guess,
        )
    except IntegrityError:
        # Another email from the same new address was imported meanwhile.
        return User.objects.get(email__iexact=parsed.sender)


def _category() -> TicketCategory:
    slug = settings.INBOUND_EMAIL_CATEGORY
    category = TicketCategory.objects.filter(slug=slug, is_active=True).first()
    if category is None:
        raise ImproperlyConfigured(
            f"INBOUND_EMAIL_CATEGORY: there is no active request category {slug!r}"
        )
    return category


def _store_attachments(job: _Job, uploader: User) -> list[str]:
    """Store the email's files through the web upload checks; return a line per refused file.

    Must run with the request's language active: the lines go into the message.
    """
    limit = settings.TICKET_ATTACHMENTS_PER_MESSAGE
    refused: list[str] = []
    for index, attachment in enumerate(job.parsed.attachments):
        if len(refused) == MAX_REFUSED_LISTED:
            # Hundreds of parts are an attack or a mistake; the original has them all.
            remaining = len(job.parsed.attachments) - index
            refused.append(
                ngettext(
                    "%(count)d more file was not attached.",
                    "%(count)d more files were not attached.",
                    remaining,
                )
                % {"count": remaining}
            )
            break
        name = uploads.clean_filename(attachment.filename)
        if len(job.stored) >= limit:
            error = _("Attach at most %(count)d files to one message.") % {"count": limit}
        else:
            try:
                job.stored.append(
                    services.attachment_store(
                        data=attachment.content, filename=attachment.filename, uploaded_by=uploader
                    )
                )
                continue
            except ValidationError as exc:
                error = " ".join(exc.messages)
        # The same words as a refused upload on the web form.
        refused.append(_("“%(name)s” was not attached: %(error)s") % {"name": name, "error": error})
    return refused


def _attach_original(job: _Job, message: Message, uploader: User) -> None:
    """Attach the stored raw email to `message`, for agents and the customer to download.

    It shares the InboundEmail's private file. It bypasses the upload checks
    on purpose (it is the evidence, refused files included), so it is only
    ever served as a download (tickets.views._serve_attachment).
    """
    Attachment.objects.create(
        message=message,
        uploaded_by=uploader,
        file=job.inbound.raw.name,
        original_name=ORIGINAL_NAME,
        content_type=ORIGINAL_CONTENT_TYPE,
        kind=ORIGINAL_KIND,
        size=job.inbound.size,
        sha256=job.sha256,
    )


# Text ---------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    """Drop what the services refuse in text: NUL and control characters, lone surrogates,
    direction overrides."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char
        for char in text
        if char in "\n\t"
        or (unicodedata.category(char) not in ("Cc", "Cs") and char not in _BIDI_CONTROLS)
    )


def _body(text: str, *, prefix: str, refused: list[str]) -> str:
    """The message text: `prefix`, the new text of the email, then the refused files.

    Must run with the request's language active. An over-long text is cut,
    with a note: the whole email is attached anyway.
    """
    text = _plain(text).strip()
    notes = "\n".join(refused)
    if not text and not notes:
        text = _("(The email had no text.)")
    fixed = "\n\n".join(part for part in (prefix, notes) if part)
    room = BODY_MAX_LENGTH - len(fixed) - 4
    if len(text) > room:
        marker = _("[…] The rest is in the original email, attached.")
        text = text[: max(0, room - len(marker) - 2)].rstrip() + "\n\n" + marker
    return "\n\n".join(part for part in (prefix, text, notes) if part)


def _subject(parsed: ParsedEmail) -> str:
    """A new request's subject: the email's, without "Re:" or another request's reference.

    Must run with the request's language active (for an email without a subject).
    """
    subject = _REFERENCE_IN_SUBJECT_RE.sub(" ", parsed.subject)
    subject = " ".join(_plain(_REPLY_PREFIX_RE.sub("", subject)).split())
    if not subject:
        first_line = next((line for line in parsed.reply_text.splitlines() if line.strip()), "")
        subject = " ".join(_plain(first_line).split())[:80] or _("Email without a subject")
    return subject[:SUBJECT_MAX_LENGTH]


def _display_name(name: str) -> str:
    # accounts.models.validate_display_name: no markup, no control characters, 80 at most.
    return " ".join(_plain(name).replace("<", " ").replace(">", " ").split())[:80]


def _cc_addresses(parsed: ParsedEmail) -> list[str]:
    """The other people on the email: their replies are accepted on the new request."""
    others = dict.fromkeys([*parsed.to, *parsed.cc])
    return [
        address
        for address in others
        if address != parsed.sender and not is_own_address(address) and is_usable_address(address)
    ][:MAX_CC]
