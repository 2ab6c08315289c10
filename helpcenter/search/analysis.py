"""Text analysis shared by indexing and querying, for Latin and CJK scripts at once.

Latin words (and digits) are lower-cased and stemmed. Runs of Chinese, Japanese
or Korean characters have no spaces to split on, so they are indexed as
overlapping character bigrams plus single characters at the same positions:
`提币手续费` → 提币 币手 手续 续费 (+ 提 币 手 续 费). A word typed by a reader
then matches as the phrase of its own bigrams, whatever text surrounds it in
the article, and `USDT TRC20 提币 手续费` mixes both kinds in one query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from whoosh.analysis import Token, Tokenizer
from whoosh.lang.porter import stem

# Han (incl. extension A and compatibility), kana (incl. half-width), Hangul.
CJK_CLASS = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
)
TOKEN = re.compile(rf"(?P<cjk>[{CJK_CLASS}]+)|(?P<word>[^\W_]+(?:['’][^\W_]+)?)")
_CJK_RUN = re.compile(rf"[{CJK_CLASS}]+")


@dataclass(frozen=True)
class Piece:
    """A run of text of one kind: `word` (Latin/digits) or `cjk`."""

    kind: str
    text: str
    start: int
    end: int


def pieces(text: str) -> Iterator[Piece]:
    for match in TOKEN.finditer(text):
        kind = "cjk" if match.group("cjk") else "word"
        yield Piece(kind, match.group(0), match.start(), match.end())


@lru_cache(maxsize=50_000)
def normalize_word(word: str) -> str:
    """Lower-case and stem one Latin word the way the index does."""
    lowered = word.lower().replace("’", "'")
    lowered = lowered.removesuffix("'s")
    return stem(lowered) if lowered.isalpha() else lowered


def cjk_bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def is_cjk(text: str) -> bool:
    return bool(_CJK_RUN.fullmatch(text))


class PortalTokenizer(Tokenizer):
    """Whoosh tokenizer: stemmed Latin words, CJK unigrams and bigrams (see module doc)."""

    def __init__(self, *, stemming: bool = True, cjk: bool = True, unigrams: bool = True) -> None:
        self.stemming = stemming
        self.cjk = cjk
        self.unigrams = unigrams

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PortalTokenizer)
            and other.stemming == self.stemming
            and other.cjk == self.cjk
            and other.unigrams == self.unigrams
        )

    def __hash__(self) -> int:
        return hash((self.stemming, self.cjk, self.unigrams))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        position = start_pos
        for piece in pieces(value):
            if piece.kind == "word":
                token.original = token.text = (
                    normalize_word(piece.text) if self.stemming else piece.text.lower()
                )
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = position
                if chars:
                    token.startchar = start_char + piece.start
                    token.endchar = start_char + piece.end
                position += 1
                yield token
                continue
            if not self.cjk:
                continue
            run = piece.text
            for offset, char in enumerate(run):
                if offset == len(run) - 1:
                    # A run's last character stands alone only in a one-character
                    # run, or where single characters are indexed at all.
                    grams = [char] if self.unigrams or len(run) == 1 else []
                elif self.unigrams:
                    grams = [char, run[offset : offset + 2]]
                else:
                    grams = [run[offset : offset + 2]]
                for gram in grams:
                    token.original = token.text = gram
                    token.boost = 1.0
                    token.stopped = False
                    if positions:
                        token.pos = position + offset
                    if chars:
                        token.startchar = start_char + piece.start + offset
                        token.endchar = token.startchar + len(gram)
                    yield token
            # The next token sits right after this run's last bigram, so a phrase
            # spanning several runs ("피싱 방지 코드") is a chain of adjacent tokens.
            position += max(1, len(run) - 1)


def portal_analyzer():
    """Titles: words, CJK bigrams and single CJK characters (a one-character search)."""
    return PortalTokenizer()


def body_analyzer():
    """Article text: words and CJK bigrams; single characters are left to titles,
    which halves the postings of long CJK articles."""
    return PortalTokenizer(unigrams=False)


def spelling_analyzer():
    """Unstemmed Latin words only: the vocabulary "did you mean" picks from."""
    return PortalTokenizer(stemming=False, cjk=False)
