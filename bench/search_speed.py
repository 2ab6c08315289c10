"""Speed of the help center with 10,000 published translations, on one core.

    .venv/bin/python bench/search_speed.py [--translations 10000] [--rounds 3]

Generates articles from the demo content's own sentences (so the vocabulary
and the scripts are realistic), times a full `rebuild_index`, the search API
(p50/p95, in-process through the whole middleware stack), article pages (p50
and SQL queries per page), and a bare view as the yardstick on this machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import time

from _setup import CASES, bare_view_ms, describe, import_demo_content, setup_django, timed

LANGUAGE_SHARE = {"zh-hans": 0.35, "en": 0.35, "ja": 0.15, "ko": 0.15}


def sentences_by_language() -> dict[str, list[str]]:
    from helpcenter.markdown import plain_text
    from helpcenter.models import ArticleTranslation

    pools: dict[str, list[str]] = {code: [] for code in LANGUAGE_SHARE}
    for translation in ArticleTranslation.objects.published():
        text = plain_text(translation.body_html)
        parts = [p.strip() for p in re.split(r"(?<=[.!?。！？])\s*", text) if len(p.strip()) > 8]
        pools[translation.language].extend(parts)
    return pools


def generate(total: int, seed: int = 7) -> None:
    """Add generated published translations until `total` exist."""
    from django.utils import timezone

    from helpcenter import markdown
    from helpcenter.models import Article, ArticleTranslation, Category

    rng = random.Random(seed)
    pools = sentences_by_language()
    sections = list(Category.objects.filter(parent__isnull=False))
    existing = ArticleTranslation.objects.published().count()
    missing = max(0, total - existing)
    articles_needed = missing // 2 + 1
    articles = Article.objects.bulk_create(
        Article(key=f"generated-{n:05d}", category=rng.choice(sections))
        for n in range(articles_needed)
    )
    now = timezone.now()
    translations = []
    for article in articles:
        for language in rng.sample(list(LANGUAGE_SHARE), k=2, counts=None):
            if len(translations) >= missing:
                break
            pool = pools[language]
            title = rng.choice(pool)[:120]
            body = "\n\n".join(
                f"## {rng.choice(pool)[:60]}\n\n" + " ".join(rng.sample(pool, 4)) for _ in range(3)
            )
            rendered = markdown.render(body)
            translations.append(
                ArticleTranslation(
                    article=article,
                    language=language,
                    title=title,
                    summary=rng.choice(pool)[:300],
                    body=body,
                    body_html=rendered.html,
                    toc=rendered.toc,
                    status="published",
                    published_at=now,
                    updated_at=now,
                )
            )
    ArticleTranslation.objects.bulk_create(translations, batch_size=500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--translations", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    setup_django()
    import_demo_content()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from helpcenter.models import ArticleTranslation
    from helpcenter.search.evaluation import load_cases

    start = time.perf_counter()
    generate(args.translations)
    published = ArticleTranslation.objects.published().count()
    print(
        f"generated up to {published} published translations in {time.perf_counter() - start:.1f} s"
    )

    start = time.perf_counter()
    call_command("rebuild_index", interactive=False, verbosity=0)
    rebuild = time.perf_counter() - start
    print(f"rebuild_index of {published} translations: {rebuild:.1f} s")

    # Searches and pages are measured on one core; the rebuild used them all.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    client = Client()
    cases = load_cases(CASES)
    for case in cases[:10]:  # warm the searcher and jieba
        client.get("/api/v1/helpcenter/search/", {"q": case.query, "lang": case.language})
    search_samples = []
    for _ in range(args.rounds):
        for case in cases:
            params = {"q": case.query, "lang": case.language}
            search_samples += timed(lambda p=params: client.get("/api/v1/helpcenter/search/", p), 1)

    rng = random.Random(3)
    sample = rng.sample(list(ArticleTranslation.objects.published().select_related("article")), 200)
    urls = [f"/{t.language}/articles/{t.article.key}/" for t in sample]
    for url in urls:  # first view computes related articles (cached afterwards)
        client.get(url)
    page_samples, query_counts = [], set()
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            page_samples += timed(lambda u=url: client.get(u), 1)
        query_counts.add(len(queries))

    bare = bare_view_ms(client)
    search_p50 = statistics.median(search_samples)
    page_p50 = statistics.median(page_samples)
    print(f"search API   {describe(search_samples)}   ratio to bare view {search_p50 / bare:.1f}×")
    print(f"article page {describe(page_samples)}   ratio to bare view {page_p50 / bare:.1f}×")
    print(f"SQL queries per article page: {sorted(query_counts)}")
    print(f"bare view    p50 {bare:.3f} ms")


if __name__ == "__main__":
    main()
