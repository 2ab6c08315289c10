"""Search through the real Whoosh index, as readers use it."""

import pytest

from helpcenter import services
from helpcenter.selectors import article_search

pytestmark = pytest.mark.django_db


def keys(query, language, **kwargs):
    return [hit.key for hit in article_search(query, language=language, **kwargs).results]


@pytest.fixture
def articles(search_index, publish):
    publish(
        "withdrawal-not-received",
        "zh-hans",
        "提币长时间未到账怎么办",
        "提币需要区块确认。请用 TXID 在区块浏览器查询到账情况。",
        tags=["提币"],
        category="withdrawal",
    )
    publish(
        "withdrawal-not-received",
        "en",
        "My withdrawal has not arrived",
        "Every withdrawal needs network confirmations. Check the TXID on a block explorer.",
        category="withdrawal",
    )
    publish(
        "withdrawal-fees",
        "zh-hans",
        "提币手续费说明",
        "USDT TRC20 提币手续费为 1 USDT，ERC20 更高。",
        category="withdrawal",
    )
    publish(
        "withdrawal-fees",
        "en",
        "Withdrawal fees",
        "Fees depend on the network: TRC20 is cheaper than ERC20.",
        category="withdrawal",
    )
    publish(
        "reset-2fa",
        "zh-hans",
        "如何重置谷歌验证器",
        "手机丢失后可以申请重置谷歌验证器。",
        category="security",
    )
    publish(
        "reset-2fa",
        "en",
        "How to reset Google Authenticator (2FA)",
        "Lost your phone? Ask for a 2FA reset with a selfie.",
        category="security",
    )
    publish(
        "reset-2fa",
        "ja",
        "二段階認証をリセットする方法",
        "スマートフォンを紛失した場合は二段階認証をリセットできます。",
        category="security",
    )
    publish(
        "reset-2fa",
        "ko",
        "OTP 재설정 방법",
        "휴대폰을 분실했다면 2단계 인증을 재설정할 수 있습니다.",
        category="security",
    )
    publish(
        "deposit-missing",
        "en",
        "Deposit not credited",
        "Deposits arrive after confirmations.",
        category="deposit",
    )
    publish(
        "draft-only",
        "en",
        "Withdrawal roadmap",
        "Unannounced withdrawal plans.",
        status="draft",
        category="withdrawal",
    )


def test_chinese_word_inside_longer_text_is_found(articles):
    assert keys("到账", "zh-hans") == ["withdrawal-not-received"]


def test_whole_pasted_sentence_ranks_the_right_article_first(articles):
    assert keys("我提币三个小时了还没到账怎么办", "zh-hans")[0] == "withdrawal-not-received"


def test_mixed_script_query(articles):
    assert keys("USDT TRC20 提币 手续费", "zh-hans")[0] == "withdrawal-fees"


def test_english_is_stemmed(articles):
    assert set(keys("withdrawals", "en")) == {"withdrawal-not-received", "withdrawal-fees"}


def test_quoted_phrase_must_match_in_order(articles):
    assert keys('"block explorer"', "en") == ["withdrawal-not-received"]
    assert keys('"explorer block"', "en") == []


def test_typo_tolerance_and_did_you_mean(articles):
    page = article_search("authenticatr", language="en")
    assert [hit.key for hit in page.results] == ["reset-2fa"]
    assert page.suggestion == "authenticator"


def test_japanese_and_korean(articles):
    assert keys("二段階認証", "ja") == ["reset-2fa"]
    assert keys("휴대폰을 분실했어요", "ko") == ["reset-2fa"]


def test_results_only_in_the_requested_language(articles):
    assert keys("2FA", "ja") == []  # the Japanese article says 二段階認証, not 2FA
    assert keys("提币", "en") == []


def test_drafts_are_never_found(articles):
    assert "draft-only" not in keys("withdrawal roadmap", "en")


def test_synonyms_apply_at_query_time(articles):
    assert keys("提现", "zh-hans") == []
    services.synonym_save(terms="提币, 提现", language="zh-hans")
    assert keys("提现", "zh-hans")[:1] == ["withdrawal-not-received"] or "withdrawal-fees" in keys(
        "提现", "zh-hans"
    )
    services.synonym_save(terms="cash out, withdrawal")
    assert "withdrawal-fees" in keys("cash out fees", "en")


def test_category_filter_includes_sections(articles):
    assert set(keys("reset", "en", category="security")) == {"reset-2fa"}
    assert keys("reset", "en", category="deposit") == []


def test_unpublishing_removes_the_article_from_search(articles, django_capture_on_commit_callbacks):
    from helpcenter.models import ArticleTranslation

    translation = ArticleTranslation.objects.get(article__key="deposit-missing", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        services.translation_set_status(translation=translation, status="draft")
    assert keys("deposit credited", "en") == []


def test_snippets_highlight_cjk_and_escape_html(search_index, publish):
    publish(
        "xss", "zh-hans", "安全提示", "<script>alert(1)</script> 谨防钓鱼网站，提币前核对地址。"
    )
    hit = article_search("提币", language="zh-hans").results[0]
    assert "<mark>提币</mark>" in hit.snippet
    assert "<script>" not in hit.snippet


def test_empty_query_finds_nothing(articles):
    assert article_search("   ", language="en").count == 0


def test_big_batches_are_written_by_parallel_processes(articles, monkeypatch):
    """A rebuild spreads analysis over the cores; the index then finds the same articles."""
    from django.core.management import call_command
    from whoosh.multiproc import MpWriter

    from helpcenter.search import backend as search_backend

    before = {query: keys(query, "en") for query in ("withdrawal fees", "2FA reset")}
    monkeypatch.setattr(search_backend, "PARALLEL_WRITE_MIN_DOCUMENTS", 2)
    monkeypatch.setattr(search_backend, "_cores", lambda: 2)
    writers = []
    real_writer_for = search_backend._writer_for
    monkeypatch.setattr(
        search_backend,
        "_writer_for",
        lambda index, count: writers.append(real_writer_for(index, count)) or writers[-1],
    )
    call_command("rebuild_index", interactive=False, verbosity=0)
    assert writers and all(isinstance(writer, MpWriter) for writer in writers)
    assert {query: keys(query, "en") for query in before} == before
    assert keys("提币 手续费", "zh-hans")[0] == "withdrawal-fees"
