"""Turn what a reader typed into a search plan and a Whoosh query.

The plan splits the text into *units*: quoted phrases, synonym matches, Latin
words and CJK words (Chinese segmented with jieba, Japanese split where the
script changes, Korean with particles stripped). Each unit must match as a
whole (a CJK word as the phrase of its bigrams), and:

- up to three units: every unit must match (AND), falling back to OR when
  nothing matches;
- more than three (a pasted sentence): any unit may match (OR); BM25 adds up
  the score of every unit a document contains, so the documents that contain
  the most (and the rarest) units rank first and nobody needs every word.

Latin words missing from the index also match the closest words the index has
(one or two typos away).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from whoosh import query as wq

from helpcenter.search.analysis import (
    _CJK_RUN,
    cjk_bigrams,
    is_cjk,
    normalize_word,
    pieces,
)

# `text` holds everything (title, summary, tags, body); a match in the title
# also scores this much more through the `title` field.
TITLE_WEIGHT = 3.0
# A unit in more than this share of a large index is "common" (see plan_query).
COMMON_UNIT_SHARE = 0.1
COMMON_UNIT_MIN_DOCS = 500
SHORT_QUERY_UNITS = 3

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "am",
        "been",
        "being",
        "get",
        "got",
        "help",
        "please",
        "hi",
        "hello",
        "still",
        "just",
        "any",
        "some",
    ]
)
CHINESE_STOPWORDS = frozenset(
    [
        "我",
        "你",
        "您",
        "他",
        "她",
        "它",
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "是",
        "在",
        "有",
        "和",
        "与",
        "及",
        "或",
        "就",
        "都",
        "也",
        "还",
        "又",
        "很",
        "把",
        "被",
        "让",
        "给",
        "对",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "为什么",
        "为何",
        "哪里",
        "能不能",
        "可以",
        "可不可以",
        "请问",
        "一下",
        "一直",
        "已经",
        "还是",
        "但是",
        "这个",
        "那个",
        "这样",
        "现在",
        "没有",
        "不能",
        "不了",
        "不到",
        "为啥",
        "咋办",
        "咋",
    ]
)
KOREAN_STOPWORDS = frozenset(
    [
        "안",
        "못",
        "왜",
        "어떻게",
        "무엇",
        "뭐",
        "뭔가",
        "제",
        "저",
        "제가",
        "저는",
        "내",
        "나",
        "좀",
        "수",
        "있나요",
        "없나요",
        "있어요",
        "없어요",
        "해요",
        "돼요",
        "되나요",
        "하나요",
        "했는데",
        "됐는데",
        "그리고",
        "그런데",
        "아직",
        "계속",
    ]
)
# Longest first: strip the particle or ending, keep the word (출금이 → 출금).
KOREAN_ENDINGS = tuple(
    sorted(
        [
            "은",
            "는",
            "이",
            "가",
            "을",
            "를",
            "에",
            "에서",
            "에게",
            "께",
            "으로",
            "로",
            "의",
            "도",
            "만",
            "까지",
            "부터",
            "요",
            "이요",
            "인데",
            "는데",
            "은데",
            "하려면",
            "하면",
            "했는데",
            "하는데",
            "합니다",
            "해요",
            "하기",
            "하는",
            "한",
            "할",
            "하고",
            "해서",
            "되지",
            "되는",
            "된",
            "될",
            "돼요",
            "됐어요",
            "되나요",
            "하나요",
            "인가요",
            "나요",
            "까요",
            "이에요",
            "예요",
            "입니다",
            "습니다",
            "어요",
            "아요",
            "했어요",
            "해야",
            "해도",
            "지만",
        ],
        key=len,
        reverse=True,
    )
)
_QUOTED = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|『([^』]+)』')
_HIRAGANA = re.compile(r"[\u3040-\u309f]+")
_JA_SPLIT = re.compile(
    r"[\u4e00-\u9fff\u3400-\u4dbf々〆]+|[\u30a0-\u30ff\u31f0-\u31ffー]+|[\u3040-\u309f]+"
)


@dataclass
class Unit:
    """One thing the reader asked for: a word, a phrase, or a synonym group."""

    kind: str  # word | cjk | phrase | synonym
    alternatives: list[str]  # surface forms; the first is what was typed
    required: bool = True

    @property
    def text(self) -> str:
        return self.alternatives[0]


@dataclass
class SearchPlan:
    query: str
    language: str
    units: list[Unit] = field(default_factory=list)

    @property
    def is_long(self) -> bool:
        return len(self.units) > SHORT_QUERY_UNITS

    @property
    def highlight_terms(self) -> list[str]:
        """Surface strings worth marking in a snippet, longest first."""
        terms: set[str] = set()
        for unit in self.units:
            for alternative in unit.alternatives:
                terms.add(alternative)
                if unit.kind == "phrase":
                    terms.update(piece.text for piece in pieces(alternative))
        return sorted((t for t in terms if t.strip()), key=len, reverse=True)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    for word in DOMAIN_WORDS:
        jieba.add_word(word, freq=200_000)
    return jieba


# Exchange vocabulary jieba's general dictionary splits badly.
DOMAIN_WORDS = [
    "提币",
    "充币",
    "提现",
    "充值",
    "到账",
    "未到账",
    "手续费",
    "资金费率",
    "强平",
    "爆仓",
    "强制平仓",
    "逐仓",
    "全仓",
    "保证金",
    "杠杆",
    "合约",
    "现货",
    "永续",
    "谷歌验证",
    "谷歌验证器",
    "身份验证器",
    "双重验证",
    "二次验证",
    "实名认证",
    "身份认证",
    "防钓鱼码",
    "白名单",
    "地址簿",
    "主网",
    "链上",
    "区块浏览器",
    "交易哈希",
    "冻结",
    "解冻",
    "子账户",
    "返佣",
    "理财",
    "质押",
    "赎回",
    "申诉",
    "放币",
    "法币",
    "挂单",
    "吃单",
    "限价单",
    "市价单",
    "止盈",
    "止损",
    "滑点",
    "提币地址",
    "充币地址",
    "验证码",
]


def warm_up() -> None:
    """Load jieba's dictionary ahead of the first search."""
    _jieba()


def _segment_chinese(run: str) -> list[str]:
    words = [w for w in _jieba().cut(run) if w.strip()]
    glued: list[str] = []
    for word in words:
        # Consecutive single characters are usually one word jieba did not know.
        if len(word) == 1 and glued and len(glued[-1]) == 1 and glued[-1] not in CHINESE_STOPWORDS:
            glued[-1] += word
        else:
            glued.append(word)
    return [w for w in glued if w not in CHINESE_STOPWORDS]


def _segment_japanese(run: str) -> list[str]:
    words = _JA_SPLIT.findall(run)
    content = [w for w in words if not _HIRAGANA.fullmatch(w)]
    # All-hiragana text ("ろぐいん") has nothing else to go on.
    return content or words


def _strip_korean(word: str) -> str:
    for ending in KOREAN_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 2:
            return word[: -len(ending)]
    return word


def _segment_korean(run: str) -> list[str]:
    if run in KOREAN_STOPWORDS:
        return []
    word = _strip_korean(run)
    return [] if word in KOREAN_STOPWORDS else [word]


def segment_cjk(run: str, language: str) -> list[str]:
    """Split one run of CJK characters into the words a reader meant."""
    if re.fullmatch(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]+", run):
        return _segment_korean(run)
    if language == "ja" or re.search(r"[\u3040-\u30ff]", run):
        return _segment_japanese(run)
    return _segment_chinese(run)


def _synonym_matches(
    text: str, groups: Sequence[Sequence[str]]
) -> list[tuple[int, int, list[str]]]:
    """Spans of `text` that are a synonym term, longest terms first, not overlapping."""
    lowered = text.lower()
    candidates = []
    for group in groups:
        for term in group:
            needle = term.lower()
            if not needle:
                continue
            pattern = (
                re.escape(needle)
                if is_cjk(needle[0])
                else rf"(?<![^\W_]){re.escape(needle)}(?![^\W_])"
            )
            for match in re.finditer(pattern, lowered):
                candidates.append(
                    (match.start(), match.end(), [term, *[t for t in group if t != term]])
                )
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: list[tuple[int, int, list[str]]] = []
    for start, end, alternatives in candidates:
        if all(end <= s or start >= e for s, e, _ in taken):
            taken.append((start, end, alternatives))
    return sorted(taken)


def plan_search(text: str, language: str, synonyms: Sequence[Sequence[str]] = ()) -> SearchPlan:
    """Split the reader's text into units (see module doc). Pure: no index access."""
    plan = SearchPlan(query=text, language=language)
    remainder = text
    for match in _QUOTED.finditer(text):
        phrase = next(group for group in match.groups() if group)
        if list(pieces(phrase)):
            plan.units.append(Unit("phrase", [phrase.strip()]))
        remainder = remainder.replace(match.group(0), " ")

    spans = _synonym_matches(remainder, synonyms)
    cursor, free_parts = 0, []
    for start, end, alternatives in spans:
        free_parts.append(remainder[cursor:start])
        alternatives[0] = remainder[start:end]
        plan.units.append(Unit("synonym", alternatives))
        cursor = end
    free_parts.append(remainder[cursor:])
    free_text = " ".join(free_parts)

    words: list[Unit] = []
    for piece in pieces(free_text):
        if piece.kind == "word":
            words.append(Unit("word", [piece.text]))
        else:
            words.extend(Unit("cjk", [word]) for word in segment_cjk(piece.text, language))
    content = [u for u in words if u.kind != "word" or u.text.lower() not in ENGLISH_STOPWORDS]
    plan.units.extend(content or words)
    return plan


# ----------------------------------------------------------------------------
# Whoosh queries
# ----------------------------------------------------------------------------


class Or(wq.Or):
    """Whoosh's OR, always as a tree of union matchers.

    On small segments Whoosh otherwise preloads every posting and score of
    every clause into arrays, which costs far more than it saves for queries
    with common words.
    """

    matcher_type = wq.Or.DEFAULT_MATCHER


def _tokens(text: str) -> list[str]:
    """Index tokens of `text` in order, bigrams for CJK, for phrase matching."""
    tokens: list[str] = []
    for piece in pieces(text):
        if piece.kind == "word":
            tokens.append(normalize_word(piece.text))
        else:
            tokens.extend(cjk_bigrams(piece.text))
    return tokens


def _no_corrections(word: str) -> list[str]:
    return []


def _surface_query(
    surface: str, fieldname: str, *, corrections: list[str], exact: bool = True
) -> wq.Query | None:
    tokens = _tokens(surface)
    if not tokens:
        return None
    if len(tokens) == 1 and fieldname == "text" and is_cjk(tokens[0]) and len(tokens[0]) == 1:
        # The body indexes CJK bigrams only: a single character matches any
        # bigram that starts with it.
        return wq.Prefix(fieldname, tokens[0])
    if len(tokens) == 1:
        term = wq.Term(fieldname, tokens[0])
        if corrections:
            # Misspelt: also match what the reader most likely meant, a little lower.
            fixes = [wq.Term(fieldname, normalize_word(word), boost=0.8) for word in corrections]
            return Or([term, *fixes])
        return term
    if not exact and all(is_cjk(token) for token in tokens):
        # A typed CJK word: its bigrams must all be there. Checking that they
        # are also adjacent (a phrase) reads every position of every candidate
        # and rarely changes the answer for words of three or four characters.
        return wq.And([wq.Term(fieldname, token) for token in tokens])
    # CJK runs index a bigram at every character position, so consecutive
    # tokens of one run are one position apart, like words.
    return wq.Phrase(fieldname, tokens, slop=1)


def unit_query(
    unit: Unit, fieldname: str, *, known=lambda token: True, correct=_no_corrections
) -> wq.Query | None:
    """The query matching one unit (any of its alternatives) in one field.

    `known(token)` says whether the index has a token; `correct(word)` offers
    spellings of an unknown Latin word that the index does have.
    """
    corrections: dict[str, list[str]] = {}
    if unit.kind == "word":
        for surface in unit.alternatives:
            token = normalize_word(surface)
            if len(surface) >= 4 and not surface.isdigit() and not known(token):
                corrections[surface] = correct(surface.lower())
    alternatives = [
        q
        for q in (
            _surface_query(
                s, fieldname, corrections=corrections.get(s, []), exact=unit.kind == "phrase"
            )
            for s in unit.alternatives
        )
        if q is not None
    ]
    if not alternatives:
        return None
    return alternatives[0] if len(alternatives) == 1 else Or(alternatives)


def plan_query(
    plan: SearchPlan,
    *,
    any_unit: bool = False,
    known=lambda t: True,
    correct=_no_corrections,
    common=lambda q: False,
) -> wq.Query:
    """The Whoosh query for a plan: all units for short queries, any unit for long ones.

    Documents are found through `text` (everything); a match in the title then
    adds to the score. Evaluating the title only for documents already found
    (AndMaybe) is much cheaper than searching both fields. In a long query, a
    unit that `common(q)` says is in a large part of a large index only adds
    to the score of what the other units found: alone it would find most of
    the index and rank it by almost nothing.
    """
    corrections: dict[str, list[str]] = {}

    def cached_correct(word: str) -> list[str]:
        if word not in corrections:
            corrections[word] = correct(word)
        return corrections[word]

    def per_unit(fieldname: str) -> list[wq.Query]:
        built = (unit_query(u, fieldname, known=known, correct=cached_correct) for u in plan.units)
        return [q for q in built if q is not None]

    found_by = per_unit("text")
    if not found_by:
        return wq.NullQuery
    scoring_only: list[wq.Query] = []
    if len(found_by) == 1:
        required = found_by[0]
    elif plan.is_long or any_unit:
        rare = [q for q in found_by if not common(q)]
        if rare:
            scoring_only = [q for q in found_by if common(q)]
            found_by = rare
        required = found_by[0] if len(found_by) == 1 else Or(found_by)
    else:
        required = wq.And(found_by)
    title = per_unit("title")
    if title:
        bonus = title[0] if len(title) == 1 else Or(title)
        bonus.boost = TITLE_WEIGHT
        scoring_only.append(bonus)
    if not scoring_only:
        return required
    optional = scoring_only[0] if len(scoring_only) == 1 else Or(scoring_only)
    return wq.AndMaybe(required, optional)


def filter_query(filters: dict[str, Iterable[str] | str]) -> wq.Query | None:
    terms = []
    for fieldname, value in filters.items():
        values = [value] if isinstance(value, str) else list(value)
        terms.append(Or([wq.Term(fieldname, v) for v in values]))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else wq.And(terms)


def cjk_only(text: str) -> bool:
    return bool(_CJK_RUN.search(text)) and not any(p.kind == "word" for p in pieces(text))
