"""Relevance of help-center search on the demo content: nDCG@10 and MRR@10.

    .venv/bin/python bench/search_relevance.py [--worst N]

Prints the portal's search per kind and language next to the floor it has to
beat clearly: plain BM25 over character bigrams (no stemming, segmentation,
synonyms or typo handling), built in a separate Whoosh index from the same
articles. Also prints per-query latency and the bare-view yardstick.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from _setup import CASES, bare_view_ms, import_demo_content, setup_django


def bigram_baseline():
    """search(query, language) over a plain character-bigram BM25 index."""
    from whoosh import index, qparser
    from whoosh.analysis import LowercaseFilter, NgramTokenizer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.query import Or, Term

    from helpcenter.markdown import plain_text
    from helpcenter.models import ArticleTranslation

    analyzer = NgramTokenizer(minsize=2, maxsize=2) | LowercaseFilter()
    schema = Schema(key=ID(stored=True), language=ID, text=TEXT(analyzer=analyzer))
    storage = index.create_in(tempfile.mkdtemp(prefix="bigram-"), schema)
    writer = storage.writer()
    for translation in ArticleTranslation.objects.published().select_related("article"):
        writer.add_document(
            key=translation.article.key,
            language=translation.language,
            text=" ".join(
                [
                    translation.title,
                    translation.summary,
                    " ".join(translation.tags),
                    plain_text(translation.body_html),
                ]
            ),
        )
    writer.commit()
    searcher = storage.searcher()
    del qparser

    def search(query: str, language: str) -> list[str]:
        grams = {token.text for token in analyzer(query)}
        if not grams:
            return []
        results = searcher.search(
            Or([Term("text", gram) for gram in grams]), limit=10, filter=Term("language", language)
        )
        return [hit["key"] for hit in results]

    return search


def portal_search():
    from helpcenter.selectors import article_search

    latencies: list[float] = []

    def search(query: str, language: str) -> list[str]:
        start = time.perf_counter()
        page = article_search(query, language=language, page_size=10)
        latencies.append((time.perf_counter() - start) * 1000)
        return [hit.key for hit in page.results]

    return search, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worst", type=int, default=8, help="print the N worst queries")
    args = parser.parse_args()

    setup_django()
    import_demo_content()
    from django.test import Client

    from helpcenter.search.evaluation import evaluate, load_cases

    cases = load_cases(CASES)
    search, latencies = portal_search()
    search("warm up", "en")
    latencies.clear()
    portal = evaluate(cases, search)
    floor = evaluate(cases, bigram_baseline())

    print(f"{len(cases)} graded queries over the demo help center\n")
    print("Portal search")
    print(portal.table())
    print("\nFloor: BM25 over character bigrams")
    print(floor.table())
    print(
        f"\nnDCG@10 overall: portal {portal.mean('ndcg'):.3f} vs floor {floor.mean('ndcg'):.3f}"
        f"   MRR@10: {portal.mean('reciprocal_rank'):.3f} vs {floor.mean('reciprocal_rank'):.3f}"
    )
    print("\nWorst portal queries:")
    for result in portal.worst(args.worst):
        wanted = ", ".join(f"{k}:{g}" for k, g in result.case.relevant.items())
        print(
            f"  {result.ndcg:.2f} [{result.case.language} {result.case.kind}] "
            f"{result.case.query!r} → {result.ranking[:3]} (wanted {wanted})"
        )
    bare = bare_view_ms(Client())
    p50 = statistics.median(latencies)
    print(
        f"\nsearch latency (selector, in-process): p50 {p50:.2f} ms over {len(latencies)} queries;"
        f" bare view p50 {bare:.3f} ms; ratio {p50 / bare:.1f}×"
    )


if __name__ == "__main__":
    main()
