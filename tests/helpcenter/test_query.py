from helpcenter.search.query import plan_search


def units(text, language, synonyms=()):
    return [(u.kind, u.alternatives) for u in plan_search(text, language, synonyms).units]


def test_quoted_phrases_stay_whole():
    assert units('"address whitelist" limit', "en") == [
        ("phrase", ["address whitelist"]),
        ("word", ["limit"]),
    ]


def test_english_stop_words_are_dropped():
    assert [u[1][0] for u in units("how do I reset my 2FA", "en")] == ["reset", "2FA"]


def test_chinese_sentence_is_segmented_without_filler_words():
    words = [u[1][0] for u in units("我提币三个小时了还没到账怎么办", "zh-hans")]
    assert "提币" in words and "到账" in words
    assert "我" not in words and "怎么办" not in words


def test_japanese_splits_where_the_script_changes_and_drops_particles():
    words = [u[1][0] for u in units("本人確認が何度も否認されるのはなぜですか", "ja")]
    assert words[:3] == ["本人確認", "何度", "否認"]


def test_korean_particles_are_stripped():
    assert [u[1][0] for u in units("출금이 안 돼요", "ko")] == ["출금"]


def test_synonyms_become_one_unit_with_every_alternative():
    plan = units("提现失败", "zh-hans", [["提币", "提现"]])
    assert plan[0] == ("synonym", ["提现", "提币"])
    assert plan[1] == ("cjk", ["失败"])


def test_multi_word_synonyms_match_on_word_boundaries():
    plan = units("cash out limit", "en", [["withdraw", "cash out"]])
    assert plan[0] == ("synonym", ["cash out", "withdraw"])
    assert units("cashout", "en", [["withdraw", "cash out"]]) == [("word", ["cashout"])]


def test_long_sentences_are_planned_as_ranked_or():
    plan = plan_search("I sent USDT on the wrong network what can I do", "en")
    assert plan.is_long
