"""The array scorer gives Whoosh's BM25F scores, and the right set of documents."""

import pytest
from whoosh import collectors
from whoosh import query as wq
from whoosh.analysis import StandardAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.filedb.filestore import RamStorage

from helpcenter.search.query import Or
from helpcenter.search.vector import VectorScorer

DOCUMENTS = [
    "withdrawal pending for hours",
    "withdrawal fees on the tron network",
    "reset google authenticator after losing the phone",
    "pending deposit not credited",
    "network fees and withdrawal limits",
    "authenticator reset needs a selfie",
    "withdrawal withdrawal withdrawal pending",
    "limits of the spot market",
]


@pytest.fixture
def searcher():
    """A small index in two segments, with one deleted document."""
    schema = Schema(
        id=ID(stored=True, unique=True),
        text=TEXT(analyzer=StandardAnalyzer(stoplist=None), phrase=True),
        title=TEXT(phrase=True),
    )
    index = RamStorage().create_index(schema)
    for start, end in ((0, 5), (5, len(DOCUMENTS))):
        writer = index.writer()
        for number in range(start, end):
            text = DOCUMENTS[number]
            writer.add_document(id=str(number), text=text, title=" ".join(text.split()[:2]))
        writer.commit(merge=False)
    writer = index.writer()
    writer.delete_by_term("id", "4")
    writer.commit(merge=False)
    with index.searcher() as opened:
        assert not opened.is_atomic()
        yield opened


def whoosh_hits(searcher, q) -> dict[int, float]:
    collector = collectors.TopCollector(limit=1000, usequality=False)
    searcher.search_with_collector(q, collector)
    return {docnum: score for score, docnum in collector.results().top_n}


def vector_hits(searcher, q) -> dict[int, float]:
    top, count = VectorScorer(searcher).top(q, 100, None)
    assert count == len(top)
    return {docnum: score for score, docnum in top}


T = wq.Term


@pytest.mark.parametrize(
    "q",
    [
        T("text", "withdrawal"),
        T("text", "withdrawal", boost=2.5),
        T("text", "absent"),
        wq.And([T("text", "withdrawal"), T("text", "pending")]),
        Or([T("text", "withdrawal"), T("text", "fees"), T("text", "selfie")]),
        Or([T("text", "reset"), T("title", "authenticator")], boost=3.0),
        wq.Or([T("text", "limits"), T("text", "absent")]),
        wq.AndMaybe(T("text", "withdrawal"), Or([T("title", "withdrawal"), T("text", "fees")])),
        wq.Prefix("text", "with"),
        wq.Phrase("text", ["withdrawal", "pending"]),
        wq.Phrase("text", ["network", "fees"], boost=1.5),
        wq.AndMaybe(wq.Phrase("text", ["google", "authenticator"]), T("title", "reset")),
    ],
    ids=repr,
)
def test_scores_and_matches_equal_whooshs(searcher, q):
    expected = whoosh_hits(searcher, q)
    actual = vector_hits(searcher, q)
    assert actual.keys() == expected.keys()
    for docnum, score in expected.items():
        assert actual[docnum] == pytest.approx(score, rel=1e-9)


def test_or_of_an_and_finds_every_document(searcher):
    # Whoosh's own union matcher can drop documents when one clause is an
    # intersection; plain set logic decides here.
    q = Or([wq.And([T("text", "withdrawal"), T("text", "pending")]), T("text", "selfie")])
    stored = {searcher.stored_fields(docnum)["id"] for docnum in vector_hits(searcher, q)}
    assert stored == {"0", "5", "6"}


def test_phrase_needs_the_words_next_to_each_other_and_in_order(searcher):
    def ids(q):
        return {searcher.stored_fields(d)["id"] for d in vector_hits(searcher, q)}

    assert ids(wq.Phrase("text", ["withdrawal", "pending"])) == {"0", "6"}
    assert ids(wq.Phrase("text", ["pending", "withdrawal"])) == set()
    assert ids(wq.Phrase("text", ["authenticator", "reset"])) == {"5"}


def test_deleted_documents_are_neither_returned_nor_counted(searcher):
    top, count = VectorScorer(searcher).top(T("text", "limits"), 10, None)
    assert [searcher.stored_fields(docnum)["id"] for _, docnum in top] == ["7"]
    assert count == 1


def test_top_keeps_the_best_breaks_ties_by_document_and_counts_everything(searcher):
    scorer = VectorScorer(searcher)
    q = wq.Or([T("text", "withdrawal"), T("text", "pending"), T("text", "fees")])
    everything, total = scorer.top(q, 100, None)
    best_two, count = scorer.top(q, 2, None)
    assert count == total == len(everything)
    assert best_two == everything[:2]
    ranked = [(-score, docnum) for score, docnum in everything]
    assert ranked == sorted(ranked)


def test_allowed_mask_limits_results(searcher):
    scorer = VectorScorer(searcher)
    q = T("text", "withdrawal")
    allowed_docnum = next(iter(vector_hits(searcher, q)))
    top, count = scorer.top(q, 10, scorer.mask_of([allowed_docnum]))
    assert [docnum for _, docnum in top] == [allowed_docnum]
    assert count == 1
