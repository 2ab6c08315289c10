"""Measure search relevance against graded cases (nDCG@10 and MRR@10).

A case is `{query, language, kind, relevant: {article_key: grade}}` with grades
3 (the answer), 2 (very useful) and 1 (related). Used by the relevance test in
tests/helpcenter and by bench/search_relevance.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CUTOFF = 10


@dataclass
class Case:
    query: str
    language: str
    kind: str
    relevant: dict[str, int]


@dataclass
class CaseResult:
    case: Case
    ranking: list[str]
    ndcg: float
    reciprocal_rank: float


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)

    def mean(self, metric: str, *, kind: str | None = None, language: str | None = None) -> float:
        values = [
            getattr(r, metric)
            for r in self.results
            if (kind is None or r.case.kind == kind)
            and (language is None or r.case.language == language)
        ]
        return sum(values) / len(values) if values else float("nan")

    def groups(self, attribute: str) -> list[str]:
        return sorted({getattr(r.case, attribute) for r in self.results})

    def table(self) -> str:
        """Per kind and per language: cases, nDCG@10, MRR@10."""
        lines = [f"{'group':<22}{'cases':>6}{'nDCG@10':>10}{'MRR@10':>9}"]
        for attribute in ("kind", "language"):
            for value in self.groups(attribute):
                count = sum(1 for r in self.results if getattr(r.case, attribute) == value)
                lines.append(
                    f"{attribute + '=' + value:<22}{count:>6}"
                    f"{self.mean('ndcg', **{attribute: value}):>10.3f}"
                    f"{self.mean('reciprocal_rank', **{attribute: value}):>9.3f}"
                )
        lines.append(
            f"{'overall':<22}{len(self.results):>6}{self.mean('ndcg'):>10.3f}"
            f"{self.mean('reciprocal_rank'):>9.3f}"
        )
        return "\n".join(lines)

    def worst(self, count: int = 10) -> list[CaseResult]:
        return sorted(self.results, key=lambda r: r.ndcg)[:count]


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Case(
            query=str(item["query"]),
            language=item["language"],
            kind=item["kind"],
            relevant={str(k): int(v) for k, v in item["relevant"].items()},
        )
        for item in data
    ]


def ndcg_at(ranking: list[str], relevant: dict[str, int], cutoff: int = CUTOFF) -> float:
    def dcg(grades: Iterable[int]) -> float:
        return sum(
            (2**grade - 1) / math.log2(position + 2) for position, grade in enumerate(grades)
        )

    actual = dcg(relevant.get(key, 0) for key in ranking[:cutoff])
    ideal = dcg(sorted(relevant.values(), reverse=True)[:cutoff])
    return actual / ideal if ideal else 0.0


def reciprocal_rank(ranking: list[str], relevant: dict[str, int], cutoff: int = CUTOFF) -> float:
    best = max(relevant.values())
    for position, key in enumerate(ranking[:cutoff], start=1):
        if relevant.get(key, 0) == best:
            return 1.0 / position
    return 0.0


def evaluate(cases: list[Case], search: Callable[[str, str], list[str]]) -> Report:
    """Run every case through `search(query, language) -> ranked keys`."""
    report = Report()
    for case in cases:
        ranking = search(case.query, case.language)
        report.results.append(
            CaseResult(
                case=case,
                ranking=ranking,
                ndcg=ndcg_at(ranking, case.relevant),
                reciprocal_rank=reciprocal_rank(ranking, case.relevant),
            )
        )
    return report


def kinds_summary(report: Report) -> dict[str, float]:
    summary: dict[str, float] = defaultdict(float)
    for kind in report.groups("kind"):
        summary[kind] = report.mean("ndcg", kind=kind)
    return dict(summary)
