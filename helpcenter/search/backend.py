"""A haystack Whoosh backend that understands CJK, phrases, synonyms and sentences.

Selected with `ENGINE: helpcenter.search.backend.PortalWhooshEngine`. Searches
made through `helpcenter.selectors` carry the reader's raw text; this backend
plans them (`helpcenter.search.query`) instead of letting haystack's query
string parser mangle them, keeps one searcher open per thread (reopening it
only when the index changed), and filters with term queries rather than
haystack's narrow searches. Anything else goes to haystack's own code.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from haystack.backends import log_query
from haystack.backends.whoosh_backend import (
    WhooshEngine,
    WhooshSearchBackend,
    WhooshSearchQuery,
)
from haystack.constants import DJANGO_CT
from haystack.constants import ID as DOCUMENT_ID
from haystack.exceptions import SkipDocument
from haystack.inputs import AutoQuery
from haystack.utils import get_model_ct
from whoosh import collectors
from whoosh import query as wq
from whoosh.fields import ID, KEYWORD, STORED, TEXT
from whoosh.multiproc import MpWriter
from whoosh.searching import Results, ResultsPage
from whoosh.spelling import ReaderCorrector

from helpcenter.search import query as planning
from helpcenter.search.analysis import pieces
from helpcenter.search.vector import VectorScorer

# Whoosh field types of the help-center index (by name), instead of haystack's
# defaults, which make every text field sortable and stored: a column per field
# and several copies of each article. Each maker receives the field's analyzer.
SCHEMA = {
    "text": lambda analyzer: TEXT(analyzer=analyzer, stored=True, phrase=True),
    "title": lambda analyzer: TEXT(analyzer=analyzer, stored=True, phrase=True),
    "summary": lambda analyzer: STORED(),
    "spelling": lambda analyzer: TEXT(analyzer=analyzer, stored=False, phrase=False, spelling=True),
    "language": lambda analyzer: ID(stored=True),
    "key": lambda analyzer: ID(stored=True),
    "category": lambda analyzer: ID(stored=True),
    "categories": lambda analyzer: KEYWORD(stored=False, commas=True, lowercase=False),
}
SEARCHER_CHECK_INTERVAL = 0.5
# Memory for one writer session; a full rebuild then writes few, large segments.
WRITER_MEMORY_MB = 256
# From this many documents on (a rebuild), each core analyses and sorts its own
# share into a segment of its own; below it, starting processes costs more.
PARALLEL_WRITE_MIN_DOCUMENTS = 2_000


class PortalWhooshSearchBackend(WhooshSearchBackend):
    def __init__(self, connection_alias, **connection_options):
        super().__init__(connection_alias, **connection_options)
        self._local = threading.local()
        self._local.filters = {}

    def build_schema(self, fields):
        content_field_name, schema = super().build_schema(fields)
        for name, make in SCHEMA.items():
            if name in schema.names():
                analyzer = getattr(schema[name], "analyzer", None)
                schema.remove(name)
                schema.add(name, make(analyzer))
        return content_field_name, schema

    # -- searcher reuse -----------------------------------------------------

    def searcher(self):
        """A searcher for this thread, refreshed when the index has changed."""
        if not self.setup_complete:
            self.setup()
        cached = getattr(self._local, "searcher", None)
        now = time.monotonic()
        if cached is not None and now - self._local.checked < SEARCHER_CHECK_INTERVAL:
            return cached
        if cached is None:
            self.index = self.index.refresh()
            cached = self.index.searcher()
        elif not cached.up_to_date():
            cached = cached.refresh()
        if cached is not getattr(self._local, "searcher", None):
            # Document numbers change with the searcher: drop what was built on it.
            self._local.filters = {}
            self._local.scorer = VectorScorer(cached) if VectorScorer.supports(cached) else None
        self._local.searcher, self._local.checked = cached, now
        return cached

    def filter_set(self, searcher, filters: dict):
        """The documents matching exact `filters`, computed once per searcher.

        A mask over document numbers when the searcher has a vector scorer,
        else a Whoosh document set.
        """
        key = tuple(sorted((name, str(value)) for name, value in filters.items()))
        if key in self._local.filters:
            return self._local.filters[key]
        query = planning.filter_query(filters)
        allowed = searcher._filter_to_comb(query) if query is not None else None
        scorer = self._local.scorer
        if allowed is not None and scorer is not None:
            allowed = scorer.mask_of(allowed)
        self._local.filters[key] = allowed
        return allowed

    def forget_searcher(self) -> None:
        cached = getattr(self._local, "searcher", None)
        if cached is not None:
            cached.close()
            self._local.searcher = None

    def update(self, index, iterable, commit=True):
        """Add or replace documents in one writer session, holding the index lock."""
        if not self.setup_complete:
            self.setup()
        documents = []
        for obj in iterable:
            try:
                document = index.full_prepare(obj)
            except SkipDocument:
                continue
            document.pop("boost", None)
            documents.append({key: self._from_python(value) for key, value in document.items()})
        if not documents:
            return
        with index_write_lock():
            self.index = self.index.refresh()
            writer = _writer_for(self.index, len(documents))
            # Whoosh's update_document opens a new reader for every document;
            # look up the documents being replaced with one searcher instead.
            with writer.searcher() as searcher:
                for document in documents:
                    old = searcher.document_number(**{DOCUMENT_ID: document[DOCUMENT_ID]})
                    if old is not None:
                        writer.delete_document(old)
            for document in documents:
                writer.add_document(**document)
            writer.commit()
        self._local.checked = 0

    def remove(self, obj_or_string, commit=True):
        with index_write_lock():
            super().remove(obj_or_string, commit)
        self._local.checked = 0

    def clear(self, models=None, commit=True):
        with index_write_lock():
            super().clear(models, commit)
        self._local.checked = 0

    def delete_index(self):
        self.forget_searcher()
        super().delete_index()

    # -- search ---------------------------------------------------------------

    @log_query
    def search(self, query_string, **kwargs):
        user_query = kwargs.pop("user_query", None)
        if user_query is None:
            return super().search(query_string, **kwargs)
        return self._plan_search(user_query, **kwargs)

    def _plan_search(
        self,
        user_query: str,
        *,
        user_filters=None,
        start_offset=0,
        end_offset=None,
        models=None,
        result_class=None,
        synonyms=(),
        **kwargs,
    ):
        language = (user_filters or {}).get("language", "")
        language = language if isinstance(language, str) else ""
        plan = planning.plan_search(user_query, language, synonyms)
        if not plan.units:
            return {"results": [], "hits": 0, "spelling_suggestion": None}
        searcher = self.searcher()
        reader = searcher.reader()
        corrector = self._corrector(searcher)

        def known(token: str) -> bool:
            return reader.doc_frequency("text", token) > 0

        def correct(word: str) -> list[str]:
            if corrector is None:
                return []
            return corrector.suggest(word, limit=2, maxdist=2, prefix=1)

        filters = dict(user_filters or {})
        if models:
            filters[DJANGO_CT] = sorted(get_model_ct(model) for model in models)
        allowed = self.filter_set(searcher, filters)
        page_num, page_length = self.calculate_page(start_offset, end_offset)

        scorer = self._local.scorer

        def run(q: wq.Query):
            if scorer is not None:
                top, total = scorer.top(q, page_num * page_length, allowed)
                results = Results(searcher, q, top)
                results._total = total
                return ResultsPage(results, page_num, page_length)
            # One pass that both ranks and counts (Whoosh's default counts in a
            # second pass over every match).
            collector = collectors.TopCollector(limit=page_num * page_length, usequality=False)
            if allowed is not None:
                collector = collectors.FilterCollector(collector, allow=allowed)
            searcher.search_with_collector(q, collector)
            return ResultsPage(collector.results(), page_num, page_length)

        documents = max(1, reader.doc_count())

        def common(q: wq.Query) -> bool:
            size = q.estimate_size(reader)
            return (
                size > planning.COMMON_UNIT_MIN_DOCS
                and size / documents > planning.COMMON_UNIT_SHARE
            )

        options = {"known": known, "correct": correct, "common": common}
        page = run(planning.plan_query(plan, **options))
        if page.total == 0 and not plan.is_long and len(plan.units) > 1:
            page = run(planning.plan_query(plan, any_unit=True, **options))
        if page.pagenum < page_num:
            return {"results": [], "hits": 0, "spelling_suggestion": None}
        results = self._process_results(page, result_class=result_class)
        results["spelling_suggestion"] = (
            self._did_you_mean(searcher, user_query) if page.total < 3 else None
        )
        return results

    def _corrector(self, searcher) -> ReaderCorrector | None:
        if "spelling" not in self.schema.names():
            return None
        return ReaderCorrector(searcher.reader(), "spelling", self.schema["spelling"])

    def _did_you_mean(self, searcher, text: str) -> str | None:
        """The reader's text with misspelt Latin words corrected, if any were."""
        corrector = self._corrector(searcher)
        if corrector is None:
            return None
        corrected, changed = text, False
        for piece in reversed(list(pieces(text))):
            word = piece.text.lower()
            if piece.kind != "word" or len(word) < 4 or word.isdigit():
                continue
            if searcher.reader().doc_frequency("spelling", word):
                continue
            suggestions = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
            if suggestions:
                corrected = corrected[: piece.start] + suggestions[0] + corrected[piece.end :]
                changed = True
        return corrected if changed else None


class PortalWhooshSearchQuery(WhooshSearchQuery):
    """Passes the reader's raw text and exact filters through to the backend."""

    def build_params(self, spelling_query=None, **kwargs):
        params = super().build_params(spelling_query, **kwargs)
        user_query, filters = _raw_parts(self.query_filter)
        if user_query is not None:
            params["user_query"] = user_query
            params["user_filters"] = filters
            params["synonyms"] = _synonyms_for(filters.get("language"))
        return params


def _raw_parts(node) -> tuple[str | None, dict]:
    user_query, filters = None, {}
    for child in node.children:
        if hasattr(child, "children"):
            nested_query, nested_filters = _raw_parts(child)
            user_query = user_query if nested_query is None else nested_query
            filters.update(nested_filters)
            continue
        expression, value = child
        fieldname = expression.split("__", 1)[0]
        if isinstance(value, AutoQuery):
            user_query = value.query_string
        elif fieldname == "content":
            user_query = str(value)
        else:
            filters[fieldname] = value
    return user_query, filters


def _synonyms_for(language) -> list[list[str]]:
    from helpcenter.selectors import synonym_groups

    return synonym_groups(language if isinstance(language, str) else None)


class PortalWhooshEngine(WhooshEngine):
    backend = PortalWhooshSearchBackend
    query = PortalWhooshSearchQuery


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _writer_for(index, document_count: int):
    """A writer for one session: in parallel for big batches where processes may fork."""
    cores = _cores()
    # A daemon process (a Celery prefork child) may not start processes of its own.
    if (
        document_count >= PARALLEL_WRITE_MIN_DOCUMENTS
        and cores > 1
        and not multiprocessing.current_process().daemon
    ):
        return MpWriter(
            index,
            procs=min(cores, 4),
            batchsize=250,
            multisegment=True,
            limitmb=WRITER_MEMORY_MB,
        )
    return index.writer(limitmb=WRITER_MEMORY_MB)


_lock_depth = threading.local()


@contextmanager
def index_write_lock():
    """An inter-process lock around Whoosh index writes (one writer at a time).

    Re-entrant within a thread, so a task holding it can call the backend.
    """
    depth = getattr(_lock_depth, "value", 0)
    if depth:
        _lock_depth.value = depth + 1
        try:
            yield
        finally:
            _lock_depth.value = depth
        return
    Path(settings.SEARCH_INDEX_LOCK).parent.mkdir(parents=True, exist_ok=True)
    with open(settings.SEARCH_INDEX_LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        _lock_depth.value = 1
        try:
            yield
        finally:
            _lock_depth.value = 0
            fcntl.flock(handle, fcntl.LOCK_UN)
