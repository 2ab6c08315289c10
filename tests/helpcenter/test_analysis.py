from helpcenter.search.analysis import portal_analyzer, spelling_analyzer


def tokens(text: str, analyzer=None) -> list[tuple[str, int]]:
    analyzer = analyzer or portal_analyzer()
    return [(t.text, t.pos) for t in analyzer(text, positions=True)]


def test_english_words_are_lower_cased_and_stemmed():
    assert [t for t, _ in tokens("Withdrawals Pending")] == ["withdraw", "pend"]


def test_chinese_runs_become_unigrams_and_bigrams_at_character_positions():
    assert tokens("提币手续费") == [
        ("提", 0), ("提币", 0), ("币", 1), ("币手", 1), ("手", 2), ("手续", 2),
        ("续", 3), ("续费", 3), ("费", 4),
    ]  # fmt: skip


def test_japanese_kana_and_kanji_are_kept():
    texts = [t for t, _ in tokens("出金が反映されない")]
    assert "出金" in texts and "反映" in texts and "され" in texts


def test_korean_hangul_is_kept_even_without_spaces():
    texts = [t for t, _ in tokens("출금이안돼요")]
    assert "출금" in texts and "안돼" in texts


def test_mixed_scripts_keep_their_order():
    assert tokens("USDT TRC20 提币 手续费") == [
        ("usdt", 0), ("trc20", 1), ("提", 2), ("提币", 2), ("币", 3),
        ("手", 3), ("手续", 3), ("续", 4), ("续费", 4), ("费", 5),
    ]  # fmt: skip


def test_bigrams_of_consecutive_runs_are_adjacent_for_phrases():
    bigrams = [(t, p) for t, p in tokens("피싱 방지 코드") if len(t) == 2]
    assert bigrams == [("피싱", 0), ("방지", 1), ("코드", 2)]


def test_spelling_vocabulary_is_unstemmed_latin_only():
    assert [t for t, _ in tokens("Withdrawal 提币 pending", spelling_analyzer())] == [
        "withdrawal",
        "pending",
    ]
