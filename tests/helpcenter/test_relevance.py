"""Relevance on the demo help center must stay at the targets (nDCG@10, graded cases).

The full per-kind table, the character-bigram floor and timings are printed by
bench/search_relevance.py; this test only guards against regressions.
"""

from pathlib import Path

import pytest

from helpcenter.demo import DEMO_CONTENT, seed_synonyms
from helpcenter.importing import import_folder
from helpcenter.search.evaluation import evaluate, load_cases
from helpcenter.search.indexing import index_translations
from helpcenter.selectors import article_search

CASES = Path(__file__).with_name("relevance_cases.yaml")


@pytest.fixture
def demo_index(search_index):
    report = import_folder(DEMO_CONTENT)
    index_translations(report.changed_translations)
    seed_synonyms()


@pytest.mark.django_db
def test_demo_search_meets_the_relevance_targets(demo_index):
    cases = load_cases(CASES)
    assert len(cases) >= 80

    def search(query: str, language: str) -> list[str]:
        return [hit.key for hit in article_search(query, language=language).results]

    report = evaluate(cases, search)
    assert report.mean("ndcg") >= 0.90, report.table()
    for kind in report.groups("kind"):
        assert report.mean("ndcg", kind=kind) >= 0.85, report.table()


def test_every_case_grades_published_articles_that_exist_in_its_language():
    import yaml

    published = set()
    for path in DEMO_CONTENT.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("---", 2)[1])
        if meta.get("status", "published") == "published":
            published.add((meta["key"], meta["language"]))
    for case in load_cases(CASES):
        for key in case.relevant:
            assert (key, case.language) in published, (case.query, key)
