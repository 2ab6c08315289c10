"""Whoosh's BM25F scoring of planned queries, computed with arrays.

Whoosh walks its matcher trees one posting at a time in Python. A pasted
sentence becomes an OR of twenty words and bigrams that together match
thousands of articles, and scoring it that way took 100-300 ms on a
10,000-article index. The planner (`helpcenter.search.query`) builds queries
from a few node types: terms, OR, AND, AND-MAYBE and boosts. For those, this
module reads each term's postings once per index version into numpy arrays and
computes the same BM25F scores as Whoosh with array arithmetic: a few
milliseconds for the longest query. Node types it does not model (phrases,
prefixes) are still evaluated by Whoosh's own matchers, and their scores are
joined in, so the ranking is Whoosh's (a test compares both on every graded
query).

One `VectorScorer` belongs to one open searcher; the backend drops it with
the searcher when the index changes, which is what keeps the cached postings
right.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25F

# Cached postings per scorer, least recently used dropped first. Terms of
# searches repeat a lot; 20,000 covers a help center's whole query vocabulary.
MAX_CACHED_TERMS = 20_000


@dataclass(frozen=True)
class Matches:
    """Which documents match (a mask over document numbers) and their scores."""

    mask: np.ndarray
    scores: np.ndarray


class VectorScorer:
    """Scores queries against one Whoosh searcher with arrays.

    `supports()` says whether the searcher's weighting is the BM25F this class
    reproduces; `top()` ranks a query and counts its matches.
    """

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.size = searcher.doc_count_all()
        self.leaves = list(searcher.leaf_searchers())
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._positions: OrderedDict[tuple[str, str], list[frozenset[int]]] = OrderedDict()
        self._lengths: dict[str, np.ndarray] = {}
        self._live: np.ndarray | None = None

    @staticmethod
    def supports(searcher) -> bool:
        return type(searcher.weighting) is BM25F

    # -- per-index data, read on first use ------------------------------------

    @property
    def live(self) -> np.ndarray:
        """Documents not deleted: deleted ones keep their postings until a merge."""
        if self._live is None:
            live = np.ones(self.size, dtype=bool)
            for subsearcher, offset in self.leaves:
                reader = subsearcher.reader()
                if reader.has_deletions():
                    deleted = [offset + d for d in reader._perdoc.deleted_docs()]
                    live[deleted] = False
            self._live = live
        return self._live

    def lengths(self, fieldname: str) -> np.ndarray:
        """Each document's (quantised) length of `fieldname`, as BM25F sees it."""
        cached = self._lengths.get(fieldname)
        if cached is None:
            cached = np.ones(self.size, dtype=np.float64)
            for subsearcher, offset in self.leaves:
                reader = subsearcher.reader()
                count = reader.doc_count_all()
                cached[offset : offset + count] = np.fromiter(
                    (reader.doc_field_length(d, fieldname, 1) for d in range(count)),
                    dtype=np.float64,
                    count=count,
                )
            self._lengths[fieldname] = cached
        return cached

    def postings(self, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and term frequencies of one term, over all segments."""
        key = (fieldname, text)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            return cached
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for subsearcher, offset in self.leaves:
            reader = subsearcher.reader()
            if (fieldname, text) not in reader:
                continue
            segment_ids, segment_weights = _read_postings(reader, fieldname, text)
            ids.append(segment_ids + offset)
            weights.append(segment_weights)
        if ids:
            cached = (np.concatenate(ids), np.concatenate(weights))
        else:
            cached = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        self._postings[key] = cached
        if len(self._postings) > MAX_CACHED_TERMS:
            self._postings.popitem(last=False)
        return cached

    def positions(self, fieldname: str, text: str) -> list[frozenset[int]]:
        """Where the term occurs in each document, aligned with `postings()`."""
        key = (fieldname, text)
        cached = self._positions.get(key)
        if cached is not None:
            self._positions.move_to_end(key)
            return cached
        cached = []
        for subsearcher, _offset in self.leaves:
            reader = subsearcher.reader()
            if (fieldname, text) in reader:
                cached.extend(_read_positions(reader, fieldname, text))
        self._positions[key] = cached
        if len(self._positions) > MAX_CACHED_TERMS:
            self._positions.popitem(last=False)
        return cached

    # -- evaluation -------------------------------------------------------------

    def evaluate(self, q: wq.Query) -> Matches:
        if q is wq.NullQuery:
            return self._nothing()
        if type(q) is wq.Term:
            return self._term(q)
        if type(q) is wq.Prefix:
            return self.evaluate(self._expanded(q))
        if type(q) is wq.Phrase and q.slop == 1 and len(q.words) > 1:
            return self._phrase(q)
        if isinstance(q, wq.AndMaybe):
            required, optional = self.evaluate(q.a), self.evaluate(q.b)
            return Matches(required.mask, required.scores + optional.scores * required.mask)
        if _is_plain_compound(q):
            if len(q.subqueries) == 1:
                # Like Whoosh: a compound of one clause is that clause, boost and all.
                return self.evaluate(q.subqueries[0])
            parts = [self.evaluate(sub) for sub in q.subqueries]
            if isinstance(q, wq.And):
                mask = np.logical_and.reduce([p.mask for p in parts])
            else:
                mask = np.logical_or.reduce([p.mask for p in parts])
            scores = np.add.reduce([p.scores for p in parts])
            if isinstance(q, wq.And):
                scores = scores * mask
            if q.boost != 1.0:
                scores = scores * q.boost
            return Matches(mask, scores)
        return self._by_whoosh(q)

    def top(self, q: wq.Query, limit: int, allowed: np.ndarray | None) -> tuple[list, int]:
        """The best `limit` (score, docnum) pairs among `allowed` documents, and the count.

        Ties are broken by document number, as Whoosh's collector does.
        """
        matches = self.evaluate(q)
        mask = matches.mask & self.live
        if allowed is not None:
            mask &= allowed
        docnums = np.flatnonzero(mask)
        if not len(docnums):
            return [], 0
        scores = matches.scores[docnums]
        if len(docnums) > limit:
            # Everything scoring at least the limit-th best, ties included.
            threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
            keep = scores >= threshold
            docnums, scores = docnums[keep], scores[keep]
        order = np.lexsort((docnums, -scores))[:limit]
        top = [(float(scores[i]), int(docnums[i])) for i in order]
        return top, int(mask.sum())

    def mask_of(self, docnums) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[np.fromiter(docnums, dtype=np.int64)] = True
        return mask

    # -- node types ---------------------------------------------------------------

    def _nothing(self) -> Matches:
        return Matches(np.zeros(self.size, dtype=bool), np.zeros(self.size, dtype=np.float64))

    def _term(self, q: wq.Term) -> Matches:
        fieldname, text = q.fieldname, q.text
        ids, frequencies = self.postings(fieldname, text)
        matches = self._nothing()
        if not len(ids):
            return matches
        weighting = self.searcher.weighting
        b = weighting._field_B.get(fieldname, weighting.B)
        k1 = weighting.K1
        idf = self.searcher.idf(fieldname, text)
        average = self.searcher.avg_field_length(fieldname) or 1
        lengths = self.lengths(fieldname)[ids]
        # BM25F exactly as whoosh.scoring.bm25 computes it.
        normalised = k1 * ((1 - b) + b * lengths / average)
        scores = idf * ((frequencies * (k1 + 1)) / (frequencies + normalised))
        if q.boost != 1.0:
            scores = scores * q.boost
        matches.mask[ids] = True
        matches.scores[ids] = scores
        return matches

    def _expanded(self, q: wq.Prefix) -> wq.Query:
        """A prefix as Whoosh scores it: the OR of the words it expands to."""
        field = self.searcher.schema[q.fieldname]
        words = [
            field.from_bytes(word)
            for word in self.searcher.reader().expand_prefix(q.fieldname, q.text)
        ]
        if not words:
            return wq.NullQuery
        if len(words) == 1:
            return wq.Term(q.fieldname, words[0])  # Whoosh drops the boost here too.
        return wq.Or([wq.Term(q.fieldname, word) for word in words], boost=q.boost)

    def _phrase(self, q: wq.Phrase) -> Matches:
        """Words at consecutive positions, scored as the sum of the words (as Whoosh does)."""
        words = [wq.Term(q.fieldname, word) for word in q.words]
        parts = [self._term(word) for word in words]
        mask = np.logical_and.reduce([p.mask for p in parts])
        candidates = np.flatnonzero(mask & self.live)
        matched = np.zeros(self.size, dtype=bool)
        if len(candidates):
            # For each word, where its postings hold each candidate document.
            rows = []
            for word in words:
                ids, _ = self.postings(q.fieldname, word.text)
                rows.append(np.searchsorted(ids, candidates).tolist())
            positions = [self.positions(q.fieldname, word.text) for word in words]
            for k, docnum in enumerate(candidates.tolist()):
                starts = set(positions[0][rows[0][k]])
                for offset in range(1, len(words)):
                    starts &= {p - offset for p in positions[offset][rows[offset][k]]}
                    if not starts:
                        break
                if starts:
                    matched[docnum] = True
        scores = np.add.reduce([p.scores for p in parts]) * matched
        if q.boost != 1.0:
            scores = scores * q.boost
        return Matches(matched, scores)

    def _by_whoosh(self, q: wq.Query) -> Matches:
        """Any other node: walk Whoosh's matcher and collect its scores."""
        matches = self._nothing()
        context = self.searcher.context()
        for subsearcher, offset in self.leaves:
            matcher = q.matcher(subsearcher, context)
            while matcher.is_active():
                docnum = offset + matcher.id()
                matches.mask[docnum] = True
                matches.scores[docnum] = matcher.score()
                matcher.next()
        return matches


def _is_plain_compound(q: wq.Query) -> bool:
    """AND or OR scored as the sum of their clauses (not minmatch or scaled OR...)."""
    if isinstance(q, wq.Or):
        # Subclasses that only pick another matcher tree score the same.
        return type(q)._matcher is wq.Or._matcher and not q.minmatch and q.scale is None
    return type(q) is wq.And


def _read_postings(reader, fieldname: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """One segment's postings of a term, ignoring deletions (see `VectorScorer.live`)."""
    tbytes = reader._text_to_bytes(fieldname, text)
    fmt = reader.schema[fieldname].format
    matcher = reader._terms.matcher(fieldname, tbytes, fmt)
    ids: list = []
    weights: list = []
    if hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block"):
        # Whoosh 2.7's on-disk matcher: take whole blocks instead of posting by posting.
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(matcher._ids)
            weights.extend(matcher._weights)
            matcher._next_block()
    else:
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return np.asarray(ids, dtype=np.int64), np.asarray(weights, dtype=np.float64)


def _read_positions(reader, fieldname: str, text: str) -> list[frozenset[int]]:
    tbytes = reader._text_to_bytes(fieldname, text)
    fmt = reader.schema[fieldname].format
    matcher = reader._terms.matcher(fieldname, tbytes, fmt)
    positions: list[frozenset[int]] = []
    while matcher.is_active():
        positions.append(frozenset(matcher.value_as("positions")))
        matcher.next()
    return positions
