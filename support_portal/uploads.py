"""Decide whether an uploaded file is safe to keep, and return the bytes to store.

One gate for every upload: help-center images now, support-ticket attachments next.
The type is decided by sniffing the content, never by the file name or the
browser's content type, because both come from the uploader. Accepted kinds:

- images (PNG, JPEG, WebP, GIF): fully decoded, then re-encoded from the pixels,
  so metadata (EXIF with GPS, XMP, ICC profiles, comments) and anything appended
  to the file are left behind. JPEG is stored as JPEG, everything else as PNG.
  Only the first frame of an animated GIF, WebP or PNG is kept.
- PDF: checked with a byte scan and stored unchanged.
- plain-text logs: UTF-8 (or UTF-16 with a BOM), stored as UTF-8.

Anything else, and anything a browser could mistake for a web page, is refused
with a `ValidationError` whose `code` says why.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import io
import re
import struct
import threading
import unicodedata
import warnings
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

MB = 1024 * 1024
MAX_NAME_LENGTH = 120


class UploadKind(enum.StrEnum):
    IMAGE = "image"
    PDF = "pdf"
    TEXT = "text"


@dataclass(frozen=True)
class CleanFile:
    """An upload that passed `clean_upload`; `content` is what to store, not what was sent."""

    content: bytes = field(repr=False)
    kind: UploadKind
    extension: str
    content_type: str
    width: int | None
    height: int | None
    sha256: str
    original_name: str


def clean_upload(
    data: bytes,
    *,
    filename: str = "",
    allowed: Collection[UploadKind],
    max_bytes: int,
    max_pixels: int = 40_000_000,
) -> CleanFile:
    """Return the safe form of an upload, or raise ValidationError (with a `code`).

    `filename` is only kept, sanitised, as `original_name` (and picks "log" over
    "txt" for text); it never decides the type. Codes: empty, too_large,
    unsupported_type, polyglot, invalid_image, too_many_pixels, invalid_pdf,
    pdf_active_content, text_encoding, text_control_characters, text_markup.
    """
    allowed = frozenset(allowed)
    if not allowed:
        raise ValueError("allowed must name at least one UploadKind")
    # Before any parsing: a parser never sees more than the limit.
    if len(data) > max_bytes:
        raise _too_large(allowed, max_bytes)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")

    original_name = clean_filename(filename)
    sniffed = _sniff(data)
    if sniffed is None and UploadKind.TEXT in allowed:
        # No binary signature matched, so the only thing this may be is text.
        sniffed = UploadKind.TEXT
    if sniffed is None or sniffed not in allowed:
        raise _unsupported(allowed, other_image=_is_other_image(data))

    if sniffed in {UploadKind.IMAGE, UploadKind.PDF}:
        _refuse_polyglot(data)
    if sniffed is UploadKind.IMAGE:
        content, extension, width, height = _clean_image(data, max_pixels=max_pixels)
        content_type = "image/jpeg" if extension == "jpg" else "image/png"
    elif sniffed is UploadKind.PDF:
        content, extension, width, height = _clean_pdf(data), "pdf", None, None
        content_type = "application/pdf"
    else:
        content, width, height = _clean_text(data, allowed), None, None
        extension = "log" if original_name.lower().endswith(".log") else "txt"
        # An explicit charset stops browsers guessing one (UTF-7 and friends).
        content_type = "text/plain; charset=utf-8"
    return CleanFile(
        content=content,
        kind=sniffed,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=original_name,
    )


# Markup a browser would run, or an archive directory, inside an image or a PDF: a
# file built to be two things at once. Re-encoding would drop it from an image, but
# somebody crafted it, so it is refused outright. Seven-byte markers do not turn up
# by chance in compressed data; an archive needs its end-of-directory record too.
_POLYGLOT_MARKERS = re.compile(
    rb"<script|<html|<!doctype html|<\?php|<svg|<iframe|<body[\s>]|javascript:", re.IGNORECASE
)
_ZIP_END_OF_DIRECTORY = b"PK\x05\x06"
_ZIP_DIRECTORY_ENTRY = b"PK\x01\x02"


def _refuse_polyglot(data: bytes) -> None:
    hides_archive = _ZIP_END_OF_DIRECTORY in data[-65_557:] and _ZIP_DIRECTORY_ENTRY in data
    if hides_archive or _POLYGLOT_MARKERS.search(data):
        raise ValidationError(
            _(
                "This file has something else hidden inside it (a web page, a script or an "
                "archive), so it was not accepted. Take a fresh screenshot or export it again."
            ),
            code="polyglot",
        )


def make_thumbnail(clean: CleanFile, *, max_side: int = 320) -> tuple[bytes, str] | None:
    """Return (bytes, extension) of a thumbnail at most `max_side` pixels wide and high.

    PNG when the image has transparency, JPEG otherwise; never enlarged. None for
    anything that is not an image. `clean` must come from `clean_upload`, so its
    content is one of our own re-encodes and safe to decode.
    """
    if clean.kind is not UploadKind.IMAGE:
        return None
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    from PIL import Image

    with Image.open(io.BytesIO(clean.content)) as image:
        image.thumbnail((max_side, max_side))
        output = io.BytesIO()
        if image.mode in {"RGBA", "LA"}:
            image.save(output, format="PNG", optimize=True)
            return output.getvalue(), "png"
        image.convert("L" if image.mode == "L" else "RGB").save(
            output, format="JPEG", quality=85, optimize=True
        )
        return output.getvalue(), "jpg"


def clean_filename(filename: str) -> str:
    """Return a name safe to show and to put in Content-Disposition: no path, no controls."""
    name = unicodedata.normalize("NFC", filename)
    # Both separators: a name from Windows arrives as C:\Users\...\scan.pdf.
    name = re.split(r"[/\\]", name)[-1]
    # Cc: control characters (newlines would split headers); Cf: format characters such as
    # U+202E RIGHT-TO-LEFT OVERRIDE, which makes "cod.exe" display as "exe.doc";
    # Zl/Zp: line and paragraph separators.
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    # Leading dots would make a hidden file ("..", ".htaccess"); trailing dots and spaces
    # are dropped by Windows anyway.
    name = name.strip().lstrip(".").rstrip(". ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 16:
            name = f"{stem[: MAX_NAME_LENGTH - len(suffix) - 1].rstrip()}.{suffix}"
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or "file"


# ---------------------------------------------------------------------------
# Sniffing and messages
# ---------------------------------------------------------------------------

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_BMP_HEADER_SIZES = {struct.pack("<I", size) for size in (12, 40, 52, 56, 64, 108, 124)}


def _sniff(data: bytes) -> UploadKind | None:
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return UploadKind.IMAGE
    # Strictly at offset 0: readers accept a header anywhere in the first KB, which is what
    # lets a file be an HTML page and a PDF at once.
    if data.startswith((b"%PDF-1.", b"%PDF-2.")):
        return UploadKind.PDF
    return None


def _is_other_image(data: bytes) -> bool:
    """Whether this is an image in a format that is not accepted (TIFF, HEIC, AVIF, BMP).

    Only used for the message: someone sending an iPhone HEIC is told to send a PNG,
    JPEG, WebP or GIF, not that the file is not an image.
    """
    return (
        data.startswith((b"II*\x00", b"MM\x00*"))
        or (data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS)
        # "BM" alone starts plenty of text files; a BMP also has a known DIB header size.
        or (data[:2] == b"BM" and data[14:18] in _BMP_HEADER_SIZES)
    )


def _kind_label(kind: UploadKind) -> str:
    return {
        UploadKind.IMAGE: _("a PNG, JPEG, WebP or GIF image"),
        UploadKind.PDF: _("a PDF document"),
        UploadKind.TEXT: _("a plain-text file (.txt or .log)"),
    }[kind]


def _images_only(allowed: frozenset[UploadKind]) -> bool:
    # The help-center uploader asks for an image; its messages (already translated) say so.
    return allowed == {UploadKind.IMAGE}


def _unsupported(allowed: frozenset[UploadKind], *, other_image: bool) -> ValidationError:
    if _images_only(allowed):
        if other_image:
            return ValidationError(
                _("Upload a PNG, JPEG, WebP or GIF image."), code="unsupported_type"
            )
        return ValidationError(_("This file is not a valid image."), code="unsupported_type")
    accepted = get_text_list([_kind_label(kind) for kind in UploadKind if kind in allowed])
    return ValidationError(
        _("This type of file is not accepted. Upload %(accepted)s."),
        code="unsupported_type",
        params={"accepted": accepted},
    )


def _too_large(allowed: frozenset[UploadKind], max_bytes: int) -> ValidationError:
    if _images_only(allowed):
        # Same wording and rounding as the console's pre-upload check.
        return ValidationError(
            _("The image is larger than %(size)d MB."),
            code="too_large",
            params={"size": max_bytes // MB},
        )
    return ValidationError(
        _("The file is larger than %(size)s MB."),
        code="too_large",
        params={"size": f"{max_bytes / MB:.1f}".removesuffix(".0")},
    )


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

# Pillow format name -> stored extension. MPO is what Pillow calls a camera JPEG that
# carries extra pictures (previews, depth maps); its first picture is the photo.
_IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "MPO": "jpg", "WEBP": "png", "GIF": "png"}
# Pillow raises more than OSError on malformed input (its own fuzzers catch everything).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error)
_pillow_lock = threading.Lock()


@contextlib.contextmanager
def _strict_pillow() -> Iterator[None]:
    """Make truncated images and decompression-bomb warnings errors while decoding.

    LOAD_TRUNCATED_IMAGES is a process-wide Pillow switch that other code may turn on;
    a truncated upload must fail whatever it says. The warnings filter is process-wide
    too, hence the lock: uploads are decoded one at a time, which is fine at upload rates.
    """
    from PIL import Image, ImageFile

    with _pillow_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _clean_image(data: bytes, *, max_pixels: int) -> tuple[bytes, str, int, int]:
    from PIL import Image, ImageOps

    too_many_pixels = ValidationError(_("This image has too many pixels."), code="too_many_pixels")
    try:
        with (
            _strict_pillow(),
            Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP", "GIF"]) as probe,
        ):
            extension = _IMAGE_FORMATS[probe.format or ""]
            # Judged from the header, before a single pixel is decoded.
            if probe.width * probe.height > max_pixels:
                raise too_many_pixels
            probe.load()
            # Turn the pixels upright now: the Orientation tag goes with the rest of EXIF.
            ImageOps.exif_transpose(probe, in_place=True)
            if extension == "jpg":
                mode = "L" if probe.mode == "L" else "RGB"
            elif probe.has_transparency_data:
                mode = "RGBA"
            else:
                mode = "L" if probe.mode in {"L", "1"} else "RGB"
            pixels = probe.convert(mode)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except _DECODE_ERRORS:
        raise ValidationError(_("This file is not a valid image."), code="invalid_image") from None

    # A brand-new image has no info dict, so nothing from the upload rides along: Pillow
    # would otherwise write back a JPEG comment or ICC profile it read. Colours in a wide-gamut
    # (Display P3) photo may shift slightly without its profile; screenshots are sRGB anyway.
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    del pixels
    output = io.BytesIO()
    if extension == "jpg":
        # A second lossy generation: keep enough quality for text in screenshots.
        clean.save(output, format="JPEG", quality=90, optimize=True)
    else:
        clean.save(output, format="PNG", optimize=True)
    return output.getvalue(), extension, clean.width, clean.height


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------

# Names that run code, open other files or carry files. /OpenAction alone is common
# ("open at page 1, fit width"); when it runs a script, /JS or /JavaScript is there too.
_PDF_ACTIVE_NAMES = {
    b"JavaScript",
    b"JS",
    b"Launch",
    b"EmbeddedFile",
    b"EmbeddedFiles",
    b"AA",
    b"RichMedia",
    b"XFA",
}
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r /<>\[\]()%{}]*)")
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_MARKUP = re.compile(rb"<(?:!doctype|html|head|body|script|iframe|svg)", re.IGNORECASE)


def _clean_pdf(data: bytes) -> bytes:
    """Return the PDF unchanged if a byte scan finds nothing active in it.

    A scan, not a parser: names inside compressed object streams (PDF 1.5+) are not
    seen, and a hostile file can hide an action there. That is accepted because
    attachments are only ever served as downloads with X-Content-Type-Options: nosniff;
    the scan turns away the ordinary scripted PDFs, not a determined author.
    """
    active = ValidationError(
        _("PDFs with scripts or embedded files are not accepted."), code="pdf_active_content"
    )
    # A page in the first KB makes the file a PDF/HTML polyglot.
    if _PDF_MARKUP.search(data, 0, 1024):
        raise active
    # Readers look for %%EOF in the last KB; its absence means a truncated download.
    if b"%%EOF" not in data[-1024:]:
        raise ValidationError(_("This PDF is damaged or incomplete."), code="invalid_pdf")
    # Stream bodies are compressed fonts and images: random bytes that would now and
    # then spell "/JS " by chance. Dictionaries, where actions live, are outside them.
    for match in _PDF_NAME.finditer(_without_stream_bodies(data)):
        # #xx escapes let "/J#61vaScript" spell /JavaScript.
        name = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name in _PDF_ACTIVE_NAMES:
            raise active
    return data


def _without_stream_bodies(data: bytes) -> bytes:
    """Return the PDF with the bytes between `stream` and `endstream` left out.

    With find() rather than a regex: "stream.*?endstream" rescans to the end of the file
    for every unterminated "stream", which is quadratic, and an upload is attacker input.
    """
    kept, position = [], 0
    while (start := data.find(b"stream", position)) != -1:
        body = start + len(b"stream")
        if data[body : body + 1] == b"\n" or data[body : body + 2] == b"\r\n":
            end = data.find(b"endstream", body)
            if end == -1:
                break  # Unterminated: scan the rest as it is.
            kept.append(data[position:start])
            position = end + len(b"endstream")
        else:
            kept.append(data[position:body])  # "stream" in a name or string, not a body.
            position = body
    kept.append(data[position:])
    return b" ".join(kept)


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

# Tab, LF, FF, CR and ESC (ANSI colours) are normal in logs; any other C0 or C1 control
# means binary data.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
# What browsers sniff as HTML or XML (WHATWG MIME Sniffing, "rules for identifying an
# unknown MIME type"), plus SVG; checked after leading whitespace.
_TEXT_MARKUP = re.compile(
    r"\s*(?:<!doctype|<!--|<\?xml"
    r"|<(?:html|head|body|script|iframe|svg|style|title|table|div|font|br|h1|a|b|p)[\s/>])",
    re.IGNORECASE,
)


def _clean_text(data: bytes, allowed: frozenset[UploadKind]) -> bytes:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # The codec reads the BOM for the byte order and drops it.
    else:
        # NUL never appears in UTF-8 text: this is a binary file of a type not sniffed above
        # (ZIP, executable, Office document), so say what is accepted instead.
        if b"\x00" in data:
            raise _unsupported(allowed, other_image=False)
        encoding = "utf-8-sig"  # Drops a UTF-8 BOM if there is one.
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ValidationError(
            _("This text file is not in UTF-8. Save it as UTF-8 and upload it again."),
            code="text_encoding",
        ) from None
    if _TEXT_CONTROL.search(text):
        raise ValidationError(
            _("This file contains control characters that are not allowed in a text file."),
            code="text_control_characters",
        )
    if _TEXT_MARKUP.match(text):
        raise ValidationError(_("HTML, SVG and XML files are not accepted."), code="text_markup")
    return text.encode("utf-8")
