"""Highlighted snippets for search results, built from the stored article text.

haystack's own highlighter analyses with the English stemmer and so cannot mark
CJK words; this one marks the plan's surface terms (Latin words by prefix, so
`withdraw` also marks "withdrawals") and picks the window with the most marks.
"""

from __future__ import annotations

import re
from html import escape

from django.utils.safestring import SafeString, mark_safe

from helpcenter.search.analysis import is_cjk, normalize_word

WINDOW = 160


def _pattern(terms: list[str]) -> re.Pattern | None:
    alternatives = []
    for term in terms:
        if is_cjk(term.replace(" ", "")):
            alternatives.append(re.escape(term))
        else:
            words = term.split()
            if len(words) == 1:
                stem = normalize_word(words[0])
                # The stem may be shorter than every word it came from: mark from it.
                base = stem if words[0].lower().startswith(stem) else words[0]
                alternatives.append(rf"\b{re.escape(base)}\w*")
            else:
                alternatives.append(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\w*")
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def build_snippet(text: str, terms: list[str], *, fallback: str = "") -> SafeString:
    """HTML-escaped excerpt of `text` with matches wrapped in <mark>."""
    text = " ".join(text.split())
    pattern = _pattern(terms)
    matches = list(pattern.finditer(text)) if pattern else []
    if not matches:
        excerpt = fallback or text[:WINDOW]
        suffix = "…" if len(fallback or text) > WINDOW else ""
        return mark_safe(escape(excerpt[:WINDOW]) + suffix)  # noqa: S308 - escaped above

    best_start, best_count = matches[0].start(), 0
    for index, match in enumerate(matches):
        count = sum(1 for other in matches[index:] if other.end() - match.start() <= WINDOW)
        if count > best_count:
            best_start, best_count = match.start(), count
    start = max(0, best_start - WINDOW // 4)
    end = min(len(text), start + WINDOW)
    html = ["…" if start > 0 else ""]
    cursor = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        html.append(escape(text[cursor : match.start()]))
        html.append(f"<mark>{escape(match.group(0))}</mark>")
        cursor = match.end()
    html.append(escape(text[cursor:end]))
    html.append("…" if end < len(text) else "")
    return mark_safe("".join(html))  # noqa: S308 - every text part is escaped


def mark_terms(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, with every match of `terms` wrapped in <mark> (for titles)."""
    pattern = _pattern(terms)
    if pattern is None:
        return mark_safe(escape(text))  # noqa: S308
    parts, cursor = [], 0
    for match in pattern.finditer(text):
        parts.append(escape(text[cursor : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        cursor = match.end()
    parts.append(escape(text[cursor:]))
    return mark_safe("".join(parts))  # noqa: S308
