"""Markdown → safe HTML for articles: headings with anchors, a table of contents,
tables, code, images from our own storage and videos from an allow-list of hosts.

Everything the Markdown produces passes through an allow-list sanitiser (nh3),
so no script, event handler, style or foreign iframe survives, whatever an
editor (or a compromised editor account) types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import markdown
import nh3
from django.conf import settings
from markdown.extensions.toc import slugify_unicode

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
    "div", "iframe", "kbd", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"align"},
    "td": {"align"},
    "div": {"class"},
    "iframe": {"src", "title", "allow", "allowfullscreen", "loading", "referrerpolicy"},
    "ol": {"start"},
}
VIDEO_LINE = re.compile(r"^@\[video\]\((?P<url>[^)\s]+)\)\s*$", re.MULTILINE)
_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


@dataclass
class RenderedArticle:
    html: str
    toc: list[dict] = field(default_factory=list)
    text: str = ""


def video_embed_url(url: str) -> str | None:
    """The embeddable URL of a video link, or None when its host is not allowed."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or host not in settings.HELPCENTER_VIDEO_HOSTS:
        return None
    video_id = ""
    if host in {"www.youtube.com", "youtube.com", "m.youtube.com"}:
        video_id = (parse_qs(parts.query).get("v") or [""])[0]
        if parts.path.startswith("/embed/"):
            video_id = parts.path.removeprefix("/embed/")
    elif host == "youtu.be":
        video_id = parts.path.lstrip("/")
    elif host == "www.youtube-nocookie.com" and parts.path.startswith("/embed/"):
        video_id = parts.path.removeprefix("/embed/")
    elif host == "player.vimeo.com" and parts.path.startswith("/video/"):
        vimeo_id = parts.path.removeprefix("/video/")
        return f"https://player.vimeo.com/video/{vimeo_id}" if vimeo_id.isdigit() else None
    elif host == "vimeo.com":
        vimeo_id = parts.path.strip("/")
        return f"https://player.vimeo.com/video/{vimeo_id}" if vimeo_id.isdigit() else None
    if _YOUTUBE_ID.match(video_id):
        return f"https://www.youtube-nocookie.com/embed/{video_id}"
    return None


def _embed_videos(text: str) -> str:
    def replace(match: re.Match) -> str:
        embed = video_embed_url(match.group("url"))
        if embed is None:
            return f"<{match.group('url')}>"
        return (
            f'\n<div class="video"><iframe src="{embed}" title="video" loading="lazy" '
            'referrerpolicy="strict-origin-when-cross-origin" '
            'allow="encrypted-media; picture-in-picture" allowfullscreen></iframe></div>\n'
        )

    return VIDEO_LINE.sub(replace, text)


def _allowed_attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "iframe" and attribute == "src":
        parts = urlsplit(value)
        if parts.scheme == "https" and (parts.hostname or "") in {
            "www.youtube-nocookie.com",
            "player.vimeo.com",
        }:
            return value
        return None
    if element == "img" and attribute == "src":
        # Only images uploaded to the help center: no tracking pixels, no mixed content.
        return value if value.startswith(settings.HELPCENTER_IMAGE_URL_PREFIX) else None
    if element == "div" and attribute == "class":
        return "video" if value == "video" else None
    return value


def _heading_id(value: str, separator: str) -> str:
    return "h-" + slugify_unicode(value, separator)


def render(body: str) -> RenderedArticle:
    """Render an article body; return sanitised HTML, its headings and plain text."""
    converter = markdown.Markdown(
        extensions=["toc", "tables", "fenced_code", "sane_lists"],
        extension_configs={"toc": {"slugify": _heading_id, "toc_depth": "2-3"}},
        output_format="html",
    )
    # Headings start at h2: the article title is the page's only h1.
    source = re.sub(r"^# ", "## ", body, flags=re.MULTILINE)
    raw_html = converter.convert(_embed_videos(source))
    html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_allowed_attribute,
        strip_comments=True,
    )
    toc = [
        {"id": token["id"], "level": token["level"], "name": token["name"]}
        for token in _flatten(converter.toc_tokens)
    ]
    return RenderedArticle(html=html, toc=toc, text=plain_text(html))


def _flatten(tokens: list[dict]) -> list[dict]:
    flat = []
    for token in tokens:
        flat.append(token)
        flat.extend(_flatten(token.get("children", [])))
    return flat


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(html: str) -> str:
    """Text of sanitised HTML, for search snippets."""
    import html as html_lib

    return _SPACE.sub(" ", html_lib.unescape(_TAG.sub(" ", html))).strip()
