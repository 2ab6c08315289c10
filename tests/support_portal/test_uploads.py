"""The upload gate: what is kept, what is stripped, and why everything else is refused.

Every file is built in memory: real images with Pillow, PDFs and logs by hand.
"""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import ExifTags, Image, ImageFile

from support_portal.uploads import (
    CleanFile,
    UploadKind,
    clean_filename,
    clean_upload,
    make_thumbnail,
)

ALL = {UploadKind.IMAGE, UploadKind.PDF, UploadKind.TEXT}
IMAGES = {UploadKind.IMAGE}
MAX = 10 * 1024 * 1024


def clean(data: bytes, *, allowed=ALL, **kwargs) -> CleanFile:
    kwargs.setdefault("max_bytes", MAX)
    return clean_upload(data, allowed=allowed, **kwargs)


def refused(data: bytes, *, allowed=ALL, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        clean(data, allowed=allowed, **kwargs)
    return caught.value


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def encode(image: Image.Image, fmt: str, **save_kwargs) -> bytes:
    output = io.BytesIO()
    image.save(output, format=fmt, **save_kwargs)
    return output.getvalue()


def photo(size=(120, 80)) -> Image.Image:
    """Noise, so that a cut-off file really lacks pixels."""
    return Image.effect_noise(size, 60).convert("RGB")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims any size: a few dozen bytes, no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def pdf(*, catalog: bytes = b"", extra: tuple[bytes, ...] = (), version=b"1.4") -> bytes:
    """A minimal one-page PDF (about 450 bytes) with a correct cross-reference table."""
    content = b"0 0 1 rg 20 20 160 60 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R" + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        *extra,
    ]
    out = b"%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n" % version
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def zip_bytes() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return output.getvalue()


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [
        ("PNG", "png", "image/png"),
        ("JPEG", "jpg", "image/jpeg"),
        ("WEBP", "png", "image/png"),
        ("GIF", "png", "image/png"),
    ],
)
def test_the_four_image_formats_are_re_encoded_as_jpeg_or_png(fmt, extension, content_type):
    """JPEG stays JPEG; PNG, WebP and GIF are stored as PNG."""
    result = clean(encode(photo(), fmt), filename="shot.whatever")
    assert result.kind is UploadKind.IMAGE
    assert (result.extension, result.content_type) == (extension, content_type)
    assert (result.width, result.height) == (120, 80)
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    assert result.original_name == "shot.whatever"
    assert reopen(result.content).format == ("JPEG" if extension == "jpg" else "PNG")


def test_transparency_survives_as_png():
    """A PNG with alpha and a GIF with a transparent colour both come out RGBA."""
    rgba = Image.new("RGBA", (10, 10), (255, 0, 0, 0))
    assert reopen(clean(encode(rgba, "PNG")).content).mode == "RGBA"
    gif = Image.new("P", (10, 10), 0)
    assert reopen(clean(encode(gif, "GIF", transparency=0)).content).mode == "RGBA"


def test_only_the_first_frame_of_an_animated_gif_is_kept():
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("red", "blue", "green")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    stored = reopen(clean(data).content)
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_a_camera_multi_picture_jpeg_is_accepted_as_jpeg():
    """Pillow calls these MPO; the first picture is the photo."""
    first, preview = Image.new("RGB", (30, 20), "red"), Image.new("RGB", (15, 10), "blue")
    data = encode(first, "MPO", save_all=True, append_images=[preview])
    result = clean(data)
    assert (result.extension, result.width, result.height) == ("jpg", 30, 20)


def test_exif_gps_xmp_icc_and_comments_are_not_stored():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera maker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 0.0)
    data = encode(
        photo(),
        "JPEG",
        exif=exif,
        xmp=b"<x:xmpmeta>home address</x:xmpmeta>",
        icc_profile=b"not really a profile",
        comment=b"Shot on a phone at home",
    )
    assert reopen(data).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # The input really has GPS.
    content = clean(data).content
    stored = reopen(content)
    assert stored.getexif() == {}
    assert not {"exif", "xmp", "icc_profile", "comment"} & stored.info.keys()
    for marker in (b"Exif", b"xmpmeta", b"ICC_PROFILE", b"Shot on a phone"):
        assert marker not in content


def test_a_rotated_photo_is_stored_upright():
    """Orientation 6 (turn 90° clockwise) is applied to the pixels before EXIF is dropped."""
    image = Image.new("RGB", (40, 20), "blue")
    image.paste((255, 0, 0), (0, 0, 20, 20))  # Left half red: it ends up on top.
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    result = clean(encode(image, "JPEG", exif=exif))
    assert (result.width, result.height) == (20, 40)
    stored = reopen(result.content)
    assert stored.size == (20, 40)
    red, _green, blue = stored.getpixel((10, 5))
    assert red > 200 and blue < 50
    red, _green, blue = stored.getpixel((10, 35))
    assert red < 50 and blue > 200


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_truncated_images_are_refused(fmt):
    data = encode(photo((200, 200)), fmt)
    assert refused(data[: len(data) // 2]).code == "invalid_image"
    assert refused(data[:40]).code == "invalid_image"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images_are_refused_even_when_pillow_is_told_to_allow_them(monkeypatch, fmt):
    """Some other code may switch LOAD_TRUNCATED_IMAGES on for the whole process."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(photo((200, 200)), fmt)
    assert refused(data[: len(data) // 2]).code == "invalid_image"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # Put back as it was.


def test_a_fake_image_with_a_real_signature_is_refused():
    error = refused(b"GIF89a but not really an image", allowed=IMAGES)
    assert error.code == "invalid_image"
    assert error.messages == ["This file is not a valid image."]


@pytest.mark.parametrize(
    ("data", "max_pixels"),
    [
        # Pillow's own limit (twice MAX_IMAGE_PIXELS): an error from Image.open.
        (png_header_only(100_000, 100_000), 40_000_000),
        # Between once and twice Pillow's limit: only a warning, made an error.
        (png_header_only(10_000, 10_000), 10**9),
        # Under Pillow's limit but over ours: judged from the header, no pixels needed.
        (png_header_only(8_000, 8_000), 40_000_000),
        # A real, tiny, highly compressible file that would decode to 4 million pixels.
        (encode(Image.new("L", (2_000, 2_000)), "PNG"), 1_000_000),
    ],
)
def test_decompression_bombs_are_refused_before_decoding(data, max_pixels):
    assert len(data) < 20_000
    error = refused(data, max_pixels=max_pixels)
    assert error.code == "too_many_pixels"
    assert error.messages == ["This image has too many pixels."]


@pytest.mark.parametrize(
    "payload",
    [
        b"<html><script>alert(document.cookie)</script></html>",
        b"<?php system($_GET['c']); ?>",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ],
)
def test_markup_hidden_in_a_jpeg_is_refused(payload):
    error = refused(encode(photo(), "JPEG") + payload)
    assert error.code == "polyglot"
    assert "hidden inside it" in error.messages[0]


def test_a_zip_appended_to_a_png_is_refused():
    error = refused(encode(photo(), "PNG") + zip_bytes())
    assert error.code == "polyglot"


def test_markup_anywhere_in_a_pdf_is_refused():
    error = refused(pdf(extra=(b"<html><script>alert(1)</script></html>",)))
    assert error.code == "polyglot"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_images_in_other_formats_are_told_which_formats_to_use(fmt):
    error = refused(encode(photo(), fmt), allowed=IMAGES)
    assert error.code == "unsupported_type"
    assert error.messages == ["Upload a PNG, JPEG, WebP or GIF image."]


def test_an_iphone_heic_photo_is_told_which_formats_to_use():
    heic = struct.pack(">I", 24) + b"ftypheic" + b"\0" * 64
    assert refused(heic, allowed=IMAGES).messages == ["Upload a PNG, JPEG, WebP or GIF image."]


# ---------------------------------------------------------------------------
# Markup and files that pretend
# ---------------------------------------------------------------------------

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def test_an_svg_with_a_script_is_refused():
    assert refused(SVG, filename="logo.svg").code == "text_markup"
    error = refused(SVG, filename="logo.png", allowed=IMAGES)
    assert error.code == "unsupported_type"
    assert error.messages == ["This file is not a valid image."]


def test_html_renamed_png_is_refused():
    html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    assert refused(html, filename="photo.png", allowed=IMAGES).code == "unsupported_type"


@pytest.mark.parametrize(
    "text",
    [
        "<!DOCTYPE html><title>x</title>",
        "  \r\n\t<HTML>\n<body>hello</body>",
        "<script>alert(1)</script>",
        "<svg onload=alert(1)>",
        "<?xml version='1.0'?><root/>",
        "<body onload=alert(1)>",
        "<iframe src=//evil.example>",
        "<!-- comment --><b>bold</b>",
        "<p>paragraph</p>",
    ],
)
def test_a_text_file_that_is_really_markup_is_refused(text):
    assert refused(text.encode(), filename="notes.txt").code == "text_markup"


def test_markup_hidden_in_utf16_is_refused():
    data = "\ufeff<html><script>alert(1)</script>".encode("utf-16-le")
    assert refused(data, filename="notes.txt").code == "text_markup"


def test_a_log_that_mentions_tags_further_down_is_fine():
    data = b"<banana> is not a tag\n12:00 ERROR upstream said <html><body>502</body></html>\n"
    assert clean(data).content == data


@pytest.mark.parametrize(
    "data",
    [
        zip_bytes(),
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,  # Old Office document
    ],
    ids=["zip", "exe", "office"],
)
def test_binaries_renamed_pdf_are_refused_with_the_accepted_kinds(data):
    error = refused(data, filename="statement.pdf", allowed={UploadKind.PDF, UploadKind.TEXT})
    assert error.code == "unsupported_type"
    assert error.messages == [
        "This type of file is not accepted. "
        "Upload a PDF document or a plain-text file (.txt or .log)."
    ]


def test_a_kind_that_is_not_allowed_is_refused():
    assert refused(pdf(), allowed=IMAGES).code == "unsupported_type"
    error = refused(encode(photo(), "PNG"), allowed={UploadKind.PDF})
    assert error.code == "unsupported_type"
    assert error.messages == ["This type of file is not accepted. Upload a PDF document."]
    assert refused(b"plain text", allowed={UploadKind.PDF}).code == "unsupported_type"


# ---------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", [b"1.4", b"1.7", b"2.0"])
def test_a_plain_pdf_is_stored_unchanged(version):
    data = pdf(version=version)
    assert len(data) < 600
    result = clean(data, filename="statement.pdf")
    assert result.content == data
    assert (result.kind, result.extension, result.content_type) == (
        UploadKind.PDF,
        "pdf",
        "application/pdf",
    )
    assert (result.width, result.height) == (None, None)


@pytest.mark.parametrize(
    ("catalog", "extra"),
    [
        (b" /OpenAction 5 0 R", (b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>",)),
        (b" /Names << /JavaScript 5 0 R >>", (b"<< /Names [(a) 6 0 R] >>",)),
        (b" /OpenAction << /S /Launch /F (cmd.exe) >>", ()),
        (b" /Names << /EmbeddedFiles 5 0 R >>", (b"<< /Names [] >>",)),
        (b" /AA << /O 5 0 R >>", (b"<< /S /GoTo /D [3 0 R /Fit] >>",)),
        (b" /AcroForm << /Fields [] /XFA 5 0 R >>", (b"<< >>",)),
        (b"", (b"<< /Type /Annot /Subtype /RichMedia >>",)),
        # Hex escapes in names: /J#61vaScript is /JavaScript.
        (b" /OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>", ()),
    ],
)
def test_pdfs_with_scripts_or_embedded_files_are_refused(catalog, extra):
    error = refused(pdf(catalog=catalog, extra=extra))
    assert error.code == "pdf_active_content"
    assert error.messages == ["PDFs with scripts or embedded files are not accepted."]


def test_harmless_pdf_names_and_stream_bytes_are_not_mistaken_for_actions():
    """Open-at-page-1, a font whose name starts with JS, and "/AA " inside stream data."""
    noise = b"<< /Length 9 >>\nstream\nx/AA y/JS\nendstream"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /JSMincho >>"
    data = pdf(catalog=b" /OpenAction [3 0 R /Fit]", extra=(noise, font))
    assert clean(data).content == data


def test_a_pdf_full_of_unterminated_streams_is_scanned_quickly():
    """The scan is linear: a crafted file must not tie up a worker."""
    data = b"%PDF-1.4\n" + b"stream\n" * 300_000 + b"/JS\n%%EOF\n"
    started = time.monotonic()
    assert refused(data).code == "pdf_active_content"
    assert time.monotonic() - started < 2


def test_a_pdf_that_is_also_a_web_page_is_refused():
    data = pdf().replace(b"\n", b"\n<html><script>alert(1)</script>\n", 1)
    assert refused(data).code == "polyglot"


def test_a_truncated_pdf_is_refused():
    data = pdf()
    assert refused(data[:-30]).code == "invalid_pdf"


def test_a_pdf_header_must_be_at_the_very_start():
    assert refused(b"<html>" + pdf(), allowed={UploadKind.PDF}).code == "unsupported_type"
    assert refused(b"\n" + pdf(), allowed={UploadKind.PDF}).code == "unsupported_type"


# ---------------------------------------------------------------------------
# Text logs
# ---------------------------------------------------------------------------


def test_a_utf8_log_with_ansi_colours_is_stored_as_is():
    data = "\x1b[31mERROR\x1b[0m 提币 withdrawal stuck\r\n\tretry=3\n\f".encode()
    result = clean(data, filename="app.log")
    assert result.content == data
    assert (result.kind, result.extension, result.content_type) == (
        UploadKind.TEXT,
        "log",
        "text/plain; charset=utf-8",
    )
    assert clean(data, filename="notes.txt").extension == "txt"
    assert clean(data).extension == "txt"


def test_a_utf8_bom_is_dropped():
    assert clean(b"\xef\xbb\xbfhello\n").content == b"hello\n"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_a_utf16_log_is_stored_as_utf8(codec):
    data = "\ufeff2024-05-01 提币 pending\r\n".encode(codec)
    assert clean(data, filename="app.log").content == "2024-05-01 提币 pending\r\n".encode()


def test_binary_data_named_log_is_refused():
    data = b"\x00\x01\x02\x03garbage\xff\xfe\x00"
    assert refused(data, filename="app.log").code == "unsupported_type"


def test_a_log_in_another_encoding_is_refused():
    error = refused("café, 提币".encode("gb18030"), filename="app.log")
    assert error.code == "text_encoding"


@pytest.mark.parametrize("control", ["\x07", "\x08", "\x0b", "\x7f", "\x85"])
def test_control_characters_other_than_tabs_newlines_and_esc_are_refused(control):
    data = f"line one{control}line two\n".encode()
    assert refused(data).code == "text_control_characters"


# ---------------------------------------------------------------------------
# Size and names
# ---------------------------------------------------------------------------


def test_oversized_files_are_refused_before_parsing():
    """Garbage over the limit is "too large", not "not an image": nothing parsed it."""
    data = b"\x89PNG" + b"0" * (1024 * 1024)
    error = refused(data, allowed=IMAGES, max_bytes=1024 * 1024)
    assert error.code == "too_large"
    assert error.messages == ["The image is larger than 1 MB."]
    error = refused(data * 2, max_bytes=1024 * 1024 + 512 * 1024)
    assert error.messages == ["The file is larger than 1.5 MB."]
    assert clean(b"x" * 100, max_bytes=100).content == b"x" * 100


def test_an_empty_file_is_refused():
    error = refused(b"")
    assert error.code == "empty"
    assert error.messages == ["The file is empty."]


def test_the_existing_translations_still_apply_to_image_uploads():
    with translation.override("ja"):
        error = refused(b"x" * 20, allowed=IMAGES, max_bytes=10)
    assert error.messages == ["画像のサイズが0 MBを超えています。"]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\li\\Desktop\\截图 1.png", "截图 1.png"),
        ("report\r\nX-Evil: 1.pdf", "reportX-Evil: 1.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("nul\x00byte.log", "nulbyte.log"),
        (".htaccess", "htaccess"),
        ("..", "file"),
        ("   ", "file"),
        ("", "file"),
        ("dir/", "file"),
    ],
)
def test_file_names_are_sanitised(filename, expected):
    assert clean_filename(filename) == expected
    assert clean(b"hello", filename=filename).original_name == expected


def test_long_file_names_are_cut_keeping_the_extension():
    name = clean_filename("a" * 500 + ".pdf")
    assert len(name) == 120
    assert name.endswith("aaa.pdf")
    assert len(clean_filename("b" * 500)) == 120


def test_the_stored_bytes_are_not_in_the_repr():
    """A CleanFile in a log line or traceback must not dump megabytes of content."""
    assert "secret" not in repr(clean(b"secret log line\n"))


# ---------------------------------------------------------------------------
# Thumbnails
# ---------------------------------------------------------------------------


def test_thumbnails_fit_the_box_and_keep_the_aspect_ratio():
    data, extension = make_thumbnail(clean(encode(photo((1000, 500)), "PNG")))
    assert extension == "jpg"
    assert reopen(data).size == (320, 160)
    data, extension = make_thumbnail(clean(encode(photo((300, 1200)), "JPEG")), max_side=100)
    assert (extension, reopen(data).size) == ("jpg", (25, 100))


def test_thumbnails_of_transparent_images_are_png():
    data, extension = make_thumbnail(clean(encode(Image.new("RGBA", (800, 400)), "PNG")))
    assert extension == "png"
    thumbnail = reopen(data)
    assert (thumbnail.size, thumbnail.mode) == ((320, 160), "RGBA")


def test_small_images_are_not_enlarged():
    data, _extension = make_thumbnail(clean(encode(photo((50, 40)), "PNG")))
    assert reopen(data).size == (50, 40)


def test_there_is_no_thumbnail_for_pdfs_and_logs():
    assert make_thumbnail(clean(pdf())) is None
    assert make_thumbnail(clean(b"log line\n")) is None
