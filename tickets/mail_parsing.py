"""Read one raw RFC 822 message into the facts the e-mail intake needs.

The ``ingest_email`` command, the IMAP poller and the HTTP endpoint for mail
providers all call ``parse_email``. It only reads. The caller decides whether
the message becomes a reply, a new ticket or nothing, using what is returned
here: the sender, the subject reference, the thread ids and the auto/bounce
flags. A reply from a stranger that quotes someone else's ``[HD-…]`` is
reported as it is.

Everything is standard library except one step: HTML goes through nh3 before
``html.parser`` reads it. html5ever parses hostile markup in linear time and
gives back well-formed HTML. The stdlib parser's handling of unclosed
comments and tags has changed between 3.11 patch releases and is not linear
on every input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.errors
import email.parser
import email.utils
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from html.parser import HTMLParser
from typing import NamedTuple

import nh3

from tickets.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, REFERENCE_PREFIX

__all__ = [
    "Attachment",
    "MalformedEmail",
    "OversizedEmail",
    "ParsedEmail",
    "header_block",
    "message_id_of",
    "parse_email",
    "parse_email_headers",
]


class MalformedEmail(ValueError):
    """Raised when the input is not a usable RFC 822 message. Quarantine it and do not retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OversizedEmail(ValueError):
    """Raised when the raw message is larger than ``max_bytes``. Nothing has been parsed."""

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"message is {size} bytes, the limit is {max_bytes}")
        self.size = size
        self.max_bytes = max_bytes


class Attachment(NamedTuple):
    """A file that came with the mail; equal to the tuple ``(filename, content_type, content)``."""

    filename: str
    content_type: str
    content: bytes

    def __repr__(self) -> str:
        return f"Attachment({self.filename!r}, {self.content_type!r}, <{len(self.content)} bytes>)"


@dataclass(frozen=True, kw_only=True)
class ParsedEmail:
    """What the intake needs to know about one message. Every text field is already decoded.

    ``message_id``, ``in_reply_to`` and ``references`` hold ids without angle brackets.
    When the message has no Message-ID, ``message_id`` is made from the SHA-256 of the
    raw bytes and ``message_id_synthetic`` is True. The same bytes give the same id, but
    the same mail relayed with different ``Received`` lines does not.

    Addresses are lower-cased and de-duplicated. ``sender_name`` is ``""`` when the From
    header has no display name. ``subject`` and ``sender_name`` are collapsed to one line,
    so a decoded CR/LF cannot start a new header. ``ticket_reference`` is the first
    ``HD-XXXXXX`` in the subject, upper-cased. It comes straight from the sender: check it
    against who sent the mail before threading on it.

    ``text`` is the whole body: the text/plain part, or text taken from the HTML when the
    plain part is missing or blank. ``reply_text`` is the new part only. If stripping the
    quotes and signature would leave nothing, it is the whole text. ``language_guess`` is
    one of "zh-hans", "ja", "ko" or "en", guessed from ``reply_text``.

    ``attachments`` holds every non-body part: files, inline images and, for bounces, the
    delivery status and the returned message. It never holds the text/plain or text/html
    alternatives of the body.

    ``delivered_to`` lists the Delivered-To and X-Original-To addresses: the mailbox the
    message really reached, which a Bcc or a forwarding rule leaves out of To and Cc.
    ``returned_message_ids`` are, for a bounce, the Message-IDs of the returned message (or
    of its headers): the mail that could not be delivered.
    """

    message_id: str
    message_id_synthetic: bool
    in_reply_to: list[str]
    references: list[str]
    sender: str
    sender_name: str
    reply_to: list[str]
    to: list[str]
    cc: list[str]
    subject: str
    ticket_reference: str | None
    text: str
    reply_text: str
    attachments: list[Attachment]
    is_auto_submitted: bool
    is_bounce: bool
    language_guess: str
    date: datetime | None
    size: int
    delivered_to: list[str] = field(default_factory=list)
    returned_message_ids: list[str] = field(default_factory=list)


# The email package is not hardened against hostile input. Its header and MIME parsers can
# raise any of these on a crafted message. A message that breaks the parser is malformed: it
# must be quarantined, not retried.
_PARSER_FAILURES = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    AttributeError,
    LookupError,
    RecursionError,
    email.errors.MessageError,
)

# Deeper nesting than this only shows up in attacks. The stdlib parser recurses once per level.
_MAX_MIME_DEPTH = 50
SYNTHETIC_MESSAGE_ID_DOMAIN = "synthetic.invalid"


def parse_email(raw: bytes, *, max_bytes: int) -> ParsedEmail:
    """Parse one raw RFC 822 message.

    The size is checked before anything is parsed. Raise ``OversizedEmail`` when
    ``len(raw) > max_bytes``. Raise ``MalformedEmail`` when the input is not a usable
    message: it is empty, has no From address (missing, or lost to undecodable bytes),
    has no body and no attachment, or crashes the stdlib parser.
    """
    size = len(raw)
    if size > max_bytes:
        raise OversizedEmail(size, max_bytes)
    try:
        return _parse(bytes(raw))
    except MalformedEmail:
        raise
    except _PARSER_FAILURES as exc:
        detail = str(exc)[:200]  # the text can echo attacker-chosen bytes; keep the reason short
        raise MalformedEmail(f"unparseable message ({type(exc).__name__}: {detail})") from exc


def parse_email_headers(head: bytes, *, size: int) -> ParsedEmail:
    """Parse only the header block at the start of ``head``, for a message too large to read.

    ``head`` is the beginning of the message (at least its headers); ``size`` is the size
    of the whole message. The result has no text and no attachments. Without a Message-ID
    the synthetic id comes from the header block, so the same message gives the same id
    however much of its body the caller read. Raise ``MalformedEmail`` when there is no
    usable From address.
    """
    block = header_block(head)
    try:
        return _parse_headers(block, size=size)
    except MalformedEmail:
        raise
    except _PARSER_FAILURES as exc:
        detail = str(exc)[:200]
        raise MalformedEmail(f"unparseable headers ({type(exc).__name__}: {detail})") from exc


def message_id_of(raw: bytes) -> str:
    """Return the Message-ID of any input, even one ``parse_email`` refuses.

    Falls back to the synthetic id ``parse_email`` would give (SHA-256 of the bytes).
    """
    try:
        headers = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(
            header_block(raw)
        )
        ids = _message_ids(_first(headers, "message-id"))
    except _PARSER_FAILURES:
        ids = []
    return ids[0] if ids else _synthetic_message_id(raw)


# Real header blocks are a few kilobytes; a long run of Received lines stays well below this.
_MAX_HEADER_BYTES = 256 * 1024
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def header_block(raw: bytes) -> bytes:
    """Return the header block at the start of ``raw`` (up to the first blank line)."""
    head = raw[:_MAX_HEADER_BYTES]
    match = _HEADER_END_RE.search(head)
    return head[: match.start()] + b"\n" if match else head


def _parse_headers(block: bytes, *, size: int) -> ParsedEmail:
    if not block.strip():
        raise MalformedEmail("empty message")
    message = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(block)
    hint = message.get_content_charset()
    sender_name, sender = _sender(message, hint=hint)
    subject = _decode_header(_first(message, "subject"), hint=hint)
    return _parsed(
        message,
        id_source=block,
        hint=hint,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text="",
        reply_text="",
        attachments=[],
        is_bounce=_is_bounce(message, [], sender, subject),
        language_guess=_guess_language(subject),
        size=size,
    )


def _sender(message: Message, *, hint: str | None) -> tuple[str, str]:
    from_values = _raw_headers(message, "from")
    if not from_values:
        raise MalformedEmail("no From header")
    senders = _addresses(from_values, hint=hint)
    if not senders:
        raise MalformedEmail("no usable sender address in From")
    return senders[0]


def _parsed(
    message: Message,
    *,
    id_source: bytes,
    hint: str | None,
    sender: str,
    sender_name: str,
    subject: str,
    text: str,
    reply_text: str,
    attachments: list[Attachment],
    is_bounce: bool,
    language_guess: str,
    size: int,
) -> ParsedEmail:
    """The ParsedEmail of `message`: its headers read here, the body's parts given."""
    ids = _message_ids(_first(message, "message-id"))
    return ParsedEmail(
        message_id=ids[0] if ids else _synthetic_message_id(id_source),
        message_id_synthetic=not ids,
        in_reply_to=_message_ids(" ".join(_raw_headers(message, "in-reply-to"))),
        references=_message_ids(" ".join(_raw_headers(message, "references"))),
        sender=sender,
        sender_name=sender_name,
        reply_to=_unique(a for _, a in _addresses(_raw_headers(message, "reply-to"), hint=hint)),
        to=_unique(a for _, a in _addresses(_raw_headers(message, "to"), hint=hint)),
        cc=_unique(a for _, a in _addresses(_raw_headers(message, "cc"), hint=hint)),
        subject=subject,
        ticket_reference=_ticket_reference(subject),
        text=text,
        reply_text=reply_text,
        attachments=attachments,
        is_auto_submitted=_is_auto_submitted(message, subject),
        is_bounce=is_bounce,
        language_guess=language_guess,
        date=_date(_first(message, "date")),
        size=size,
        delivered_to=_delivered_to(message, hint=hint),
        returned_message_ids=_returned_message_ids(attachments) if is_bounce else [],
    )


def _parse(raw: bytes) -> ParsedEmail:
    if not raw.strip():
        raise MalformedEmail("empty message")
    message = email.message_from_bytes(raw, policy=policy.default)
    if not _raw_headers(message, "from"):
        raise MalformedEmail("no From header")

    leaves = _leaf_parts(message)
    bodies = [part for part in leaves if _is_body(part)]
    attachments = _attachments(part for part in leaves if not _is_body(part))
    if not bodies and not attachments:
        raise MalformedEmail("no body parts")
    # Raw 8-bit headers carry no charset. The body's charset is the best guess after UTF-8.
    hint = next((charset for part in bodies if (charset := part.get_content_charset())), None)

    sender_name, sender = _sender(message, hint=hint)
    subject = _decode_header(_first(message, "subject"), hint=hint)
    text = _body_text(bodies)
    reply_text = _reply_text(text, forwarded=bool(_FORWARD_SUBJECT_RE.match(subject)))
    return _parsed(
        message,
        id_source=raw,
        hint=hint,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text,
        reply_text=reply_text,
        attachments=attachments,
        is_bounce=_is_bounce(message, leaves, sender, subject),
        language_guess=_guess_language(reply_text),
        size=len(raw),
    )


def _delivered_to(message: Message, *, hint: str | None) -> list[str]:
    values = _raw_headers(message, "delivered-to") + _raw_headers(message, "x-original-to")
    return _unique(a for _, a in _addresses(values, hint=hint))


# Where a delivery report puts the mail it could not deliver (RFC 3462, RFC 3464).
_RETURNED_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"})


def _returned_message_ids(attachments: list[Attachment]) -> list[str]:
    found: list[str] = []
    for attachment in attachments:
        if attachment.content_type not in _RETURNED_TYPES:
            continue
        try:
            headers = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(
                header_block(attachment.content)
            )
            found.extend(_message_ids(_first(headers, "message-id")))
        except _PARSER_FAILURES:
            continue  # a mangled returned copy only loses the link to the ticket
    return _unique(found)


# --- Headers ----------------------------------------------------------------------------------

_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


def _raw_headers(part: Message, name: str) -> list[str]:
    """Return the unfolded values of header ``name`` exactly as sent.

    These are the raw values, still RFC 2047-encoded. Raw 8-bit bytes appear as
    surrogate escapes. Decoding them here, rather than through the policy's header
    objects, lets every header go through the same charset mapping as the bodies.
    """
    name = name.lower()
    return [_FOLD_RE.sub("", str(value)) for key, value in part.raw_items() if key.lower() == name]


def _first(part: Message, name: str) -> str:
    values = _raw_headers(part, name)
    return values[0] if values else ""


def _one_line(text: str) -> str:
    """Collapse whitespace and control characters to single spaces (no header injection)."""
    return " ".join(_CONTROL_RE.sub(" ", text).split())


def _as_bytes(text: str) -> bytes:
    # Bytes the parser could not read as ASCII come back as surrogate escapes. Undo that.
    return text.encode("utf-8", "surrogateescape")


def _decode_header(value: str, *, hint: str | None = None) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit text, then collapse the result to one line.

    Adjacent encoded words in the same charset are joined as bytes before decoding. Some
    clients split a multi-byte character across two words.
    """
    chunks: list[tuple[str | None, bytearray]] = []
    position = 0
    previous_encoded = False
    for match in _ENCODED_WORD_RE.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        data = _decode_encoded_word(match.group(2), match.group(3))
        if data is None:  # a broken encoded word stays as literal text
            _add_raw(chunks, _as_bytes(between + match.group(0)))
            previous_encoded = False
            continue
        # Whitespace between two encoded words is folding, not content (RFC 2047 section 6.2).
        if between and not (previous_encoded and between.isspace()):
            _add_raw(chunks, _as_bytes(between))
            previous_encoded = False
        charset = match.group(1).split("*", 1)[0].lower()  # drop an RFC 2231 language tag
        if previous_encoded and chunks and chunks[-1][0] == charset:
            chunks[-1][1].extend(data)
        else:
            chunks.append((charset, bytearray(data)))
        previous_encoded = True
    _add_raw(chunks, _as_bytes(value[position:]))
    text = "".join(_decode_bytes(bytes(data), charset, hint=hint) for charset, data in chunks)
    return _one_line(text)


def _add_raw(chunks: list[tuple[str | None, bytearray]], data: bytes) -> None:
    """Append text that was not in an encoded word (its charset is unknown)."""
    if not data:
        return
    if chunks and chunks[-1][0] is None:
        chunks[-1][1].extend(data)
    else:
        chunks.append((None, bytearray(data)))


def _decode_encoded_word(encoding: str, payload: str) -> bytes | None:
    data = _as_bytes(payload)
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    except binascii.Error:
        return None


_ADDRESS_RE = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+")
# Sendmail writes "From: Mail Delivery Subsystem <MAILER-DAEMON>" with no domain.
_DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


def _addresses(values: list[str], *, hint: str | None) -> list[tuple[str, str]]:
    """Return ``(display name, lower-cased address)`` pairs, skipping unusable addresses.

    Addresses are split before display names are decoded. A decoded name that contains
    a comma or ``<…>`` therefore cannot turn into an extra address.
    """
    pairs = []
    for name, address in email.utils.getaddresses(values):
        address = _decode_header(address, hint=hint).lower()
        if _ADDRESS_RE.fullmatch(address) or address in _DAEMON_LOCAL_PARTS:
            pairs.append((_decode_header(name, hint=hint), address))
    return pairs


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_ANGLE_ID_RE = re.compile(r"<([^<>]*)>")


def _message_ids(value: str) -> list[str]:
    """Return the ids in a Message-ID, In-Reply-To or References value, without brackets.

    Some mailers write ids without angle brackets. Bare tokens are accepted only when
    they contain "@", so comments and other stray words are not mistaken for ids.
    """
    value = _decode_header(value)
    found = _ANGLE_ID_RE.findall(value)
    if not found:
        found = [token for token in value.split() if "@" in token]
    return _unique(item for token in found if (item := "".join(token.split())))


def _synthetic_message_id(raw: bytes) -> str:
    return f"{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_MESSAGE_ID_DOMAIN}"


# re.ASCII keeps case-insensitive matching to ASCII letters (Unicode folding would let "K" match
# the Kelvin sign). NFKC has already turned full-width and compatibility forms into ASCII.
_REFERENCE_RE = re.compile(
    rf"(?<![0-9A-Z]){REFERENCE_PREFIX}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}(?![0-9A-Z])",
    re.IGNORECASE | re.ASCII,
)


def _ticket_reference(subject: str) -> str | None:
    # NFKC folds the full-width "ＨＤ－７Ｋ…" that CJK input methods produce.
    match = _REFERENCE_RE.search(unicodedata.normalize("NFKC", subject))
    return match.group(0).upper() if match else None


def _date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(_decode_header(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means UTC with no local offset known (RFC 5322 section 3.3). Python returns it naive.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- Charsets ---------------------------------------------------------------------------------

# Mail is often labelled with a charset narrower than the one it was written in. Decode with
# the superset that the sending clients really use, much as the WHATWG Encoding standard
# does for browsers.
_CHARSET_ALIASES = {
    **dict.fromkeys(
        ["gb2312", "gbk", "x-gbk", "cp936", "euc-cn", "x-euc-cn", "csgb2312", "gb_2312-80"],
        "gb18030",
    ),
    **dict.fromkeys(
        ["shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j"],
        "cp932",
    ),
    **dict.fromkeys(
        ["euc-kr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "windows-949", "x-windows-949"],
        "cp949",
    ),
    **dict.fromkeys(["big5", "x-big5", "csbig5"], "cp950"),
    **dict.fromkeys(["iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1"], "cp1252"),
    "iso-2022-jp": "iso2022_jp",
    "csiso2022jp": "iso2022_jp",
}


def _codec_name(charset: str | None) -> str | None:
    """Return the Python text codec for a MIME charset label, or None if there is none."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        codecs.lookup(label)  # LookupError, or ValueError for a label with a NUL in it
    except (LookupError, ValueError):
        return None
    try:
        b"x".decode(label)  # LookupError for non-text codecs: base64, rot13, zlib…
    except LookupError:
        return None
    except ValueError:
        pass  # a real text codec that cannot decode one lone byte (UTF-16, say)
    return label


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except ValueError:  # UnicodeDecodeError, or a plain UnicodeError from some codecs
        pass
    if codec == "cp950":
        # Hong Kong mail labelled Big5 carries HKSCS characters that Windows' cp950 lacks.
        return _strict(data, "big5hkscs")
    if codec == "iso2022_jp":
        # Japanese Windows clients put NEC row-13 symbols (①, ㈱, №) inside ESC $ B runs.
        # Python has no CP50220. JIS X 0213 plane 1 is a superset of JIS X 0208 and has
        # these symbols at the same code points, so switch the designation and decode again.
        try:
            return data.replace(b"\x1b$B", b"\x1b$(Q").decode("iso2022_jp_2004")
        except ValueError:
            return None
    return None


def _decode_bytes(data: bytes, charset: str | None, *, hint: str | None = None) -> str:
    """Decode text bytes without ever raising.

    With a usable declared charset: try it strictly, then UTF-8, then the charset again
    with replacement characters. UTF-8 is skipped for 7-bit input, because ISO-2022-JP
    text is valid UTF-8 and would decode into escape sequences. With no charset or an
    unknown one: try UTF-8, then ``hint`` (the charset declared elsewhere in the
    message), then Latin-1, which decodes any byte.
    """
    declared = _codec_name(charset)
    if declared is not None and (text := _strict(data, declared)) is not None:
        return text
    if declared is None or not data.isascii():
        for candidate in ("utf-8", _codec_name(hint)):
            if candidate is not None and (text := _strict(data, candidate)) is not None:
                return text
    if declared is not None:
        try:
            return data.decode(declared, "replace")
        except ValueError:  # a few exotic codecs (idna, punycode…) raise even when replacing
            pass
    return data.decode("latin-1")


# --- MIME structure ---------------------------------------------------------------------------


def _leaf_parts(message: Message) -> list[Message]:
    """Return the non-multipart parts, depth first. A ``message/*`` part is one leaf."""
    leaves: list[Message] = []
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        if depth > _MAX_MIME_DEPTH:
            raise MalformedEmail("MIME structure nested too deeply")
        if part.get_content_maintype() == "multipart" and part.is_multipart():
            stack.extend((sub, depth + 1) for sub in reversed(part.get_payload()))
        else:
            leaves.append(part)
    return leaves


def _is_body(part: Message) -> bool:
    """Return whether ``part`` can be the body: unnamed, inline text/plain or text/html."""
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not _raw_filename(part)
    )


def _raw_filename(part: Message) -> str | tuple[str, str, str] | None:
    """Return the filename parameter as sent, or ``(charset, language, value)`` for RFC 2231."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        values = _raw_headers(part, header)
        if not values:
            continue
        # A compat32 message keeps parameters raw, so the charset of an RFC 2231 value goes
        # through the same aliases as the bodies (policy.default would decode GB2312 strictly).
        scratch = Message()
        scratch[header] = values[0]
        value = scratch.get_param(param, header=header)
        if value:
            return value
    return None


def _filename(part: Message, index: int) -> str:
    raw = _raw_filename(part)
    if isinstance(raw, tuple):
        charset, _language, value = raw
        try:
            data = value.encode("latin-1", "surrogateescape")
        except UnicodeEncodeError:
            data = _as_bytes(value)
        name = _one_line(_decode_bytes(data, charset))
    elif raw:
        name = _decode_header(raw)
    else:
        name = ""
    # Keep the last path component only: "C:\\Users\\x\\a.png" and "../../a.png" become "a.png".
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        name = f"attachment-{index}{_EXTENSIONS.get(part.get_content_type(), '')}"
    return name


_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
    "text/plain": ".txt",
    "text/html": ".html",
}


def _attachments(parts: Iterable[Message]) -> list[Attachment]:
    found: list[Attachment] = []
    for part in parts:
        if part.get_content_maintype() == "multipart":
            continue  # a multipart without a usable boundary has no parts to offer
        found.append(
            Attachment(_filename(part, len(found) + 1), part.get_content_type(), _content(part))
        )
    return found


# Writes parsed headers back exactly as received. Refolding them (compat32 does) can raise on
# a hostile header, and would change the bytes of a returned message.
_VERBATIM = policy.default.clone(refold_source="none")


def _content(part: Message) -> bytes:
    if part.get_content_maintype() == "message":
        # message/rfc822 holds one message. message/delivery-status holds header blocks.
        payload = part.get_payload()
        if isinstance(payload, list):
            return b"".join(sub.as_bytes(policy=_VERBATIM) for sub in payload)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


# --- Bodies -----------------------------------------------------------------------------------


def _body_text(bodies: list[Message]) -> str:
    """Return the first non-blank text/plain body, else the first non-blank HTML body as text."""
    for wanted in ("text/plain", "text/html"):
        for part in bodies:
            if part.get_content_type() != wanted:
                continue
            text = _part_text(part)
            if wanted == "text/html":
                text = _html_to_text(text)
            if text.strip():
                return "\n".join(_trim(text.split("\n")))
    return ""


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    text = _decode_bytes(data if isinstance(data, bytes) else b"", part.get_content_charset())
    # PostgreSQL text columns reject NUL, and no client sends one on purpose.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if part.get_content_type() == "text/plain" and _param(part, "format") == "flowed":
        text = _unflow(text, delsp=_param(part, "delsp") == "yes")
    return text


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    return value.lower() if isinstance(value, str) else ""


def _unflow(text: str, *, delsp: bool) -> str:
    """Join the soft line breaks of RFC 3676 format=flowed text (Apple Mail, Thunderbird).

    A line that ends in a space continues on the next line at the same quote depth. The
    signature separator "-- " is the exception. One leading space is stuffing, and is removed.
    """
    out: list[str] = []
    pending: list[str] = []
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if pending and depth != pending_depth:
            out.append(_requote(pending_depth, "".join(pending)))
            pending = []
        if content.endswith(" ") and content != "-- ":
            pending.append(content[:-1] if delsp else content)
            pending_depth = depth
            continue
        pending.append(content)
        out.append(_requote(depth, "".join(pending)))
        pending = []
    if pending:
        out.append(_requote(pending_depth, "".join(pending)))
    return "\n".join(out)


def _requote(depth: int, content: str) -> str:
    return f"{'>' * depth} {content}".rstrip() if depth else content


# Tags that end a line. Other tags (a, b, span, font…) are removed and their text kept.
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "blockquote", "pre", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer", "address"}
)
_CELL_TAGS = frozenset({"td", "th"})
_NH3_TAGS = _BLOCK_TAGS | _CELL_TAGS | {"br"}
_HTML_SPACE_RE = re.compile(r"[ \t\r\n\f]+")


def _html_to_text(html: str) -> str:
    """Return the text of an HTML body, one line per ``<br>``, paragraph, ``<div>`` or ``<li>``.

    Entities are unescaped. ``<style>``, ``<script>`` and everything in ``<head>`` are dropped.
    Lines inside ``<blockquote>`` (how Gmail, Apple Mail and Thunderbird quote in HTML) get
    "> " prefixes, so quote stripping works the same way as for plain text.
    """
    cleaned = nh3.clean(
        html,
        tags=set(_NH3_TAGS),
        attributes={},
        clean_content_tags={"script", "style", "title"},
        strip_comments=True,
    )
    parser = _HtmlText()
    parser.feed(cleaned)
    parser.close()
    return parser.text()


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[str] = []
        self._line: list[str] = []
        self._line_depth = 0
        self._quote_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._end_line()
        elif tag in _BLOCK_TAGS:
            self._end_line(soft=True)
        elif tag in _CELL_TAGS and self._line:
            self._line.append(" ")
        if tag == "blockquote":
            self._quote_depth += 1
        elif tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self._end_line(soft=True)
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        # A no-break space counts as content until the line ends, so Outlook's blank-line
        # paragraphs (<p>&nbsp;</p>) become blank lines instead of disappearing.
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._add(first)
            for line in rest:
                self._end_line()
                self._add(line)
            return
        self._add(_HTML_SPACE_RE.sub(" ", data))

    def _add(self, data: str) -> None:
        if not self._line:
            data = data.lstrip(" ")
            self._line_depth = self._quote_depth
        if data:
            self._line.append(data)

    def _end_line(self, *, soft: bool = False) -> None:
        """End the current line. A soft end (block edge) adds no empty line."""
        if soft and not self._line:
            return
        depth = self._line_depth if self._line else self._quote_depth
        line = "> " * depth + "".join(self._line).replace("\xa0", " ")
        self._lines.append(line.rstrip())
        self._line = []

    def text(self) -> str:
        self._end_line(soft=True)
        lines: list[str] = []
        for line in self._lines:
            if not line.strip(">").strip() and lines and not lines[-1].strip(">").strip():
                continue  # Outlook's <p>&nbsp;</p> spacing: keep at most one blank line
            lines.append(line)
        return "\n".join(_trim(lines))


# --- Quoted history and signatures ------------------------------------------------------------

_FORWARD_SUBJECT_RE = re.compile(r"\s*(?:fwd?|tr|wg|转发|轉寄|転送|전달)\s*[:：]", re.IGNORECASE)
# Titles between dashed rules, e.g. "-----Original Message-----".
_ORIGINAL_TITLES = frozenset(
    {"original message", "原始邮件", "邮件原件", "原始郵件", "元のメッセージ", "원본 메시지"}
)
_FORWARD_TITLES = frozenset(
    {"forwarded message", "转发的邮件", "轉寄的郵件", "転送メッセージ", "転送されたメッセージ"}
    | {"전달된 메시지", "전달된 메일"}
)
# Apple Mail's forward line in each desk language. Colons are normalised first.
_FORWARD_INTROS = frozenset(
    {"begin forwarded message:", "以下为转发的邮件:", "转发的邮件:", "転送されたメッセージ:"}
    | {"전달된 메시지:"}
)
_FROM_FIELDS = frozenset({"from", "发件人", "寄件者", "寄件人", "差出人", "送信者", "보낸 사람"})
_OTHER_FIELDS = frozenset(
    {"sent", "date", "to", "cc", "subject"}
    | {"发送时间", "时间", "日期", "收件人", "抄送", "主题", "寄件日期", "收件者", "副本", "主旨"}
    | {"送信日時", "日付", "宛先", "件名", "보낸 날짜", "날짜", "받는 사람", "참조", "제목"}
)
_ATTRIBUTION_MAX = 300
_CJK_DATE_RE = re.compile(r"\d{4}\s?[年/.-]\s?\d{1,2}\s?[月/.-]\s?\d{1,2}")
# Whole-line matches only: "从我的账户提现失败" (withdrawing from my account failed) is not one.
_MOBILE_SIGNATURE_RE = re.compile(
    r"sent from my (?:iphone|ipad|android|mobile|phone|samsung|galaxy|huawei|xiaomi|pixel)"
    r"[\w .-]{0,30}"
    r"|sent from (?:mail|outlook|yahoo mail)(?: for \w+)?|get outlook for (?:ios|android)"
    r"|(?:发自|来自|來自)我的\s?[\w ]{1,20}|发自\s?(?:网易邮箱|qq邮箱)[\w ]{0,20}"
    r"|从我的\s?[\w ]{1,20}发送|從我的\s?[\w ]{1,20}傳送"
    r"|[\w ]{1,20}から送信|(?:나의 |내 )?[\w ]{1,20}에서 보냄",
    re.IGNORECASE,
)


def _reply_text(text: str, *, forwarded: bool) -> str:
    """Return the new part of ``text``: no quoted history, no signature, no blank edges.

    Each line gets constant work with at most six lines of look-ahead, and no regular
    expression here can backtrack across lines, so a long quoted history strips in
    linear time.

    Forwarded content is kept. A customer forwarding a phishing mail or an exchange
    notice wants support to read it, with or without a note above it. Forwarded mail
    only goes when it sits inside quoted history.
    """
    lines = [line.rstrip() for line in text.split("\n")]
    end = next((i for i, line in enumerate(lines) if _is_forward_marker(line)), None)
    if end is None and forwarded:
        # Outlook's "FW:" uses the same header block as its replies. The subject tells them apart.
        end = next((i for i in range(len(lines)) if _starts_history(lines, i, len(lines))), None)
    if end is None:
        end = len(lines)
    cut = _quote_start(lines, end)
    kept = lines[:cut] if cut is not None else lines[:end]
    forward = lines[end:] if cut is None else []
    kept = _without_signature(kept)
    reply = _trim(kept + ([""] if kept and forward else []) + forward)
    return "\n".join(reply) if reply else "\n".join(_trim(lines))


def _trim(lines: list[str]) -> list[str]:
    start, stop = 0, len(lines)
    while start < stop and not lines[start].strip():
        start += 1
    while stop > start and not lines[stop - 1].strip():
        stop -= 1
    return lines[start:stop]


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quote_start(lines: list[str], end: int) -> int | None:
    """Return where quoted history starts in ``lines[:end]``, or None."""
    quoted = [_is_quoted(line) for line in lines[:end]]
    trailing = None  # the run of quoted (and blank) lines that ends the text
    for j in range(end - 1, -1, -1):
        if quoted[j]:
            trailing = j
        elif lines[j].strip():
            break
    # interleaved[i]: a quoted line in lines[i:end] is followed by new text, as in an inline
    # or bottom-posted answer. Cutting there would throw the answer away.
    interleaved = [False] * (end + 1)
    unquoted_later = False
    for j in range(end - 1, -1, -1):
        interleaved[j] = interleaved[j + 1] or (quoted[j] and unquoted_later)
        unquoted_later = unquoted_later or (not quoted[j] and bool(lines[j].strip()))
    for i in range(end):
        if trailing is not None and i >= trailing:
            return trailing
        if _starts_history(lines, i, end):
            return i
        span = _attribution_span(lines, i, end)
        if span and not interleaved[i + span]:
            return i
    return None


def _starts_history(lines: list[str], i: int, end: int) -> bool:
    """Return whether line ``i`` opens an Outlook/QQ-style original-message block."""
    line = lines[i].replace("\xa0", " ").strip()
    if _separator_title(line) in _ORIGINAL_TITLES:
        return True
    if len(line) >= 10 and not line.strip("_"):  # Outlook's rule of underscores, then "From:"
        return any(_field(lines[j]) in _FROM_FIELDS for j in range(i + 1, min(i + 3, end)))
    if _field(line) in _FROM_FIELDS:
        following = (_field(lines[j]) for j in range(i + 1, min(i + 7, end)))
        return sum(name in _OTHER_FIELDS for name in following) >= 2
    return False


def _is_forward_marker(line: str) -> bool:
    line = line.replace("\xa0", " ").strip()
    return (
        _separator_title(line) in _FORWARD_TITLES
        or line.lower().replace("：", ":") in _FORWARD_INTROS
    )


def _separator_title(line: str) -> str | None:
    """Return "original message" for "-----Original Message-----" and similar rules."""
    if len(line) < 8 or not (line.startswith("--") and line.endswith("--")):
        return None
    return " ".join(line.strip("-").split()).lower()


def _field(line: str) -> str | None:
    """Return the lower-cased field name of a "Name: value" line, ignoring *bold* marks."""
    head, colon, _ = line[:40].replace("*", "").replace("：", ":").partition(":")
    return " ".join(head.split()).lower() if colon else None


def _attribution_span(lines: list[str], i: int, end: int) -> int:
    """Return 1 or 2 if an "X wrote:" line (maybe wrapped onto a second line) starts at ``i``."""
    if len(lines[i]) > _ATTRIBUTION_MAX or not lines[i].strip():
        return 0
    if _is_attribution(lines[i]):
        return 1
    if i + 1 < end and _is_attribution(f"{lines[i]} {lines[i + 1][:_ATTRIBUTION_MAX]}"):
        return 2
    return 0


def _is_attribution(line: str) -> bool:
    s = " ".join(line.replace("：", ":").replace("，", ",").split())
    lower = s.lower()
    # Every client puts a date or an address in the line. Requiring one keeps a customer's own
    # "On Monday the agent wrote:" and similar prose safe.
    if not s or len(s) > _ATTRIBUTION_MAX or not ("@" in s or any(ch.isdigit() for ch in s)):
        return False
    return (
        (lower.startswith("on ") and lower.endswith("wrote:"))  # Gmail, Apple Mail, Thunderbird
        or (lower.endswith("wrote:") and "@" in s)
        or (s.startswith(("在", "於")) and s.endswith(("写道:", "寫道:")))  # Chinese clients
        or (bool(_CJK_DATE_RE.match(s)) and s.endswith(":") and "@" in s)  # Japanese Gmail
        or s.endswith(("のメール:", "님이 작성:"))  # Japanese Apple Mail, Korean Gmail
        or (lower.startswith("am ") and "schrieb" in lower and s.endswith(":"))
        or (lower.startswith("le ") and lower.endswith("a écrit :"))
    )


def _without_signature(lines: list[str]) -> list[str]:
    """Drop a "-- " signature and trailing "Sent from my iPhone" one-liners."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i] == "--":  # "-- " after the lines were right-stripped
            lines = lines[:i]
            break
    lines = _trim(lines)
    while lines and _MOBILE_SIGNATURE_RE.fullmatch(lines[-1].strip()):
        lines = _trim(lines[:-1])
    return lines


# --- Classification ---------------------------------------------------------------------------

# Out-of-office subject prefixes that are enough on their own: "Automatic reply: …" or
# "【自动回复】…". The colon or bracket keeps "自动回复功能怎么关闭" (how to turn off
# auto-reply) a human question.
_AUTO_SUBJECT_WORDS = (
    r"automatic reply|auto[- ]?reply|auto[- ]?response|out of office auto ?reply"
    r"|自动回复|自动答复|自動回覆|自動応答|自動返信|자동\s?응답|자동\s?회신"
)
_AUTO_SUBJECT_RE = re.compile(
    rf"\s*(?:(?:{_AUTO_SUBJECT_WORDS})\s*[:：]|[\[【](?:{_AUTO_SUBJECT_WORDS})[\]】])",
    re.IGNORECASE,
)
# Weaker hints. They count only together with Exchange's X-Auto-Response-Suppress.
_OOF_HINT_RE = re.compile(
    r"out of (?:the )?office|\booo\b|away from|vacation|on leave|休假|不在|외출|부재", re.IGNORECASE
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|returned mail|delivery status notification|delivery (?:has )?failed"
    r"|failure notice|non-delivery|退信|投递失败|未送達|配信不能|반송",
    re.IGNORECASE,
)


def _token(part: Message, name: str) -> str:
    """Return a header's first word, lower-cased: "auto-replied; owner=x" gives "auto-replied"."""
    value = _decode_header(_first(part, name))
    return value.split(";", 1)[0].strip().lower()


def _is_auto_submitted(message: Message, subject: str) -> bool:
    """Return whether a machine sent this: auto-replies, lists, bulk mail, read receipts."""
    auto_submitted = _token(message, "auto-submitted")
    if auto_submitted and auto_submitted != "no":
        return True
    if _token(message, "precedence") in ("bulk", "junk", "list", "auto_reply"):
        return True
    markers = ("x-autoreply", "x-autorespond", "list-id", "list-unsubscribe")
    if any(_raw_headers(message, name) for name in markers):
        return True
    suppress = set(re.split(r"[\s,]+", _token(message, "x-auto-response-suppress")))
    if suppress & {"all", "oof"} and _OOF_HINT_RE.search(subject):
        return True
    if _AUTO_SUBJECT_RE.match(subject):
        return True
    # Read receipts (RFC 8098) are machine-sent too. Answering them would start a loop.
    return (
        message.get_content_type() == "multipart/report"
        and _param(message, "report-type") == "disposition-notification"
    )


def _is_bounce(message: Message, leaves: list[Message], sender: str, subject: str) -> bool:
    """Return whether this is a delivery failure report (RFC 3464 DSN or an old-style bounce)."""
    if (
        message.get_content_type() == "multipart/report"
        and _param(message, "report-type") == "delivery-status"
    ):
        return True
    if any(part.get_content_type() == "message/delivery-status" for part in leaves):
        return True
    # Old MTAs (qmail, some Exim setups) bounce in plain text. Trust those only from the daemon.
    return sender.split("@", 1)[0] in _DAEMON_LOCAL_PARTS and bool(
        _BOUNCE_SUBJECT_RE.search(subject)
    )


_KANA_RE = re.compile("[\u3041-\u3096\u30a1-\u30fa\u31f0-\u31ff\uff66-\uff9d]")
_HANGUL_RE = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN_RE = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _guess_language(text: str) -> str:
    """Guess the language from the script: kana means Japanese, Hangul Korean, Han Chinese."""
    if _KANA_RE.search(text):
        return "ja"
    if _HANGUL_RE.search(text):
        return "ko"
    if _HAN_RE.search(text):
        return "zh-hans"
    return "en"
