"""Reading raw incoming mail: client samples, charsets, quote stripping, flags (no database)."""

import base64
import contextlib
import dataclasses
import datetime
import random
from pathlib import Path

import pytest

from tickets import mail_parsing
from tickets.mail_parsing import Attachment, MalformedEmail, OversizedEmail, parse_email

EMAILS = Path(__file__).parent / "emails"
MAX_BYTES = 5 * 1024 * 1024


def parse_sample(name: str):
    return parse_email((EMAILS / name).read_bytes(), max_bytes=MAX_BYTES)


def build(
    body: str | bytes,
    *,
    subject: str = "Re: [HD-7K3P9Q] USDT withdrawal stuck",
    sender: str = "Alice Chen <alice.chen@example.com>",
    content_type: str = 'text/plain; charset="utf-8"',
    encoding: str = "8bit",
    headers: str = "",
) -> bytes:
    """Return a one-part message with exactly these bytes (nothing is re-encoded)."""
    head = (
        f"From: {sender}\nTo: Crypto Exchange Support <support@example.com>\n"
        f"Subject: {subject}\nDate: Tue, 3 Nov 2026 11:47:12 +0000\n"
        f"Message-ID: <test.1@mail.example.com>\nMIME-Version: 1.0\n"
        f"Content-Type: {content_type}\nContent-Transfer-Encoding: {encoding}\n{headers}\n"
    )
    return head.encode("utf-8") + (body.encode("utf-8") if isinstance(body, str) else body)


def parse(raw: bytes):
    return parse_email(raw, max_bytes=MAX_BYTES)


def encoded_word(text: str, label: str, codec: str | None = None) -> str:
    return f"=?{label}?B?{base64.b64encode(text.encode(codec or label)).decode()}?="


# --- The reply samples ------------------------------------------------------------------------

GMAIL_REPLY = """Hi,

The TXID you asked for is
9f2c4e1b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6 \u2014 the
withdrawal left my account at 09:14 UTC but the wallet still shows nothing.

Thanks,
Alice"""

OUTLOOK_REPLY = """Hello,

I\u2019ve checked again: the deposit has 64 confirmations on the explorer.
Address: 0x52908400098527886E0F7030069857D2E4169EE7

Best regards,
Piotr Kowalski"""

APPLE_REPLY = """Thanks, that was it. I had address whitelisting switched on and the new \
address was still inside its 24-hour lock. The withdrawal went through this morning.

Maria"""

HTML_ONLY_REPLY = """Hello support,

My account was frozen after I changed my phone number & now I can't log in.
What I tried:
Reset my password
The "unlock account" link \u2192 error 403
Balance: about 1,200 USDT <\u2013> 0.02 BTC \u20ac

Regards,
Kenji Watanabe"""

GB2312_REPLY = """您好，

我已经按照要求把提现记录的截图发给你们了，请尽快处理。
提现网络是 TRC20，金额 500 USDT。

王喆"""

SHIFT_JIS_REPLY = """お世話になっております。髙橋です。

ご連絡ありがとうございます。
① 本人確認書類を再アップロードしました。
② 住所の証明書類も添付しております。

ご確認のほど、よろしくお願いいたします。"""

EUC_KR_REPLY = """안녕하세요,

말씀하신 대로 OTP를 다시 등록했는데 아직도 로그인이 안 됬어요.
확인 부탁드립니다.

김민준 드림"""

ISO2022JP_REPLY = """サポートご担当者様

お世話になっております。
ご指摘の件、以下のとおり対応しました。
①二段階認証アプリを再設定
②パスワードを変更

引き続きよろしくお願いいたします。
山田"""

QQ_REPLY = "好的，谢谢！我刚才已经在App里重新绑定了谷歌验证器，现在可以正常登录了。"

STRANGER_REPLY = """Hi, this is Alice from a new address. Please send the stuck USDT to my new
wallet instead: TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"""


@pytest.mark.parametrize(
    ("name", "sender", "sender_name", "reference", "language", "reply"),
    [
        pytest.param(
            "gmail_reply.eml",
            "alice.chen@example.com",
            "Alice Chen",
            "HD-7K3P9Q",
            "en",
            GMAIL_REPLY,
            id="gmail",
        ),
        pytest.param(
            "outlook_reply.eml",
            "piotr.kowalski@example.net",
            "Kowalski, Piotr",
            "HD-4M8RTW",
            "en",
            OUTLOOK_REPLY,
            id="outlook",
        ),
        pytest.param(
            "apple_mail_reply.eml",
            "maria.garcia@example.net",
            "Maria Garcia",
            "HD-Q2W3E4",
            "en",
            APPLE_REPLY,
            id="apple-mail",
        ),
        pytest.param(
            "html_only.eml",
            "kenji.watanabe@example.net",
            "Kenji Watanabe",
            "HD-9XKZ2R",
            "en",
            HTML_ONLY_REPLY,
            id="html-only",
        ),
        pytest.param(
            "gb2312_reply.eml",
            "wang.zhe@example.com",
            "王喆",
            "HD-7K3P9Q",
            "zh-hans",
            GB2312_REPLY,
            id="gb2312",
        ),
        pytest.param(
            "shift_jis_reply.eml",
            "takahashi.ken@example.net",
            "髙橋 健",
            "HD-P7N4VB",
            "ja",
            SHIFT_JIS_REPLY,
            id="shift-jis",
        ),
        pytest.param(
            "euc_kr_reply.eml",
            "minjun.kim@example.com",
            "김민준",
            "HD-3BVQ8M",
            "ko",
            EUC_KR_REPLY,
            id="euc-kr",
        ),
        pytest.param(
            "iso2022jp_reply.eml",
            "taro.yamada@example.com",
            "山田 太郎",
            "HD-W8R2KD",
            "ja",
            ISO2022JP_REPLY,
            id="iso-2022-jp",
        ),
        pytest.param(
            "qq_mail_reply.eml",
            "li.wei@example.com",
            "李伟",
            "HD-7K3P9Q",
            "zh-hans",
            QQ_REPLY,
            id="qq-mail",
        ),
        pytest.param(
            "stranger_quoting_reference.eml",
            "alice.chen.support@example.net",
            "Alice C",
            "HD-7K3P9Q",
            "en",
            STRANGER_REPLY,
            id="stranger",
        ),
    ],
)
def test_reply_samples_keep_only_the_new_text(
    name, sender, sender_name, reference, language, reply
):
    """Each client's quoting, signature and charset is removed/decoded; the new text stays."""
    parsed = parse_sample(name)

    assert parsed.sender == sender
    assert parsed.sender_name == sender_name
    assert parsed.ticket_reference == reference
    assert parsed.reply_text == reply
    assert parsed.language_guess == language
    assert parsed.text.startswith(reply.split("\n", 1)[0])
    assert len(parsed.text) > len(parsed.reply_text)  # the history is still in the full text
    assert parsed.attachments == []
    assert not parsed.is_auto_submitted
    assert not parsed.is_bounce
    assert not parsed.message_id_synthetic
    assert parsed.date is not None and parsed.date.tzinfo is not None


def test_gmail_sample_headers():
    """Thread ids lose their brackets and keep their order; addresses are lower-cased."""
    parsed = parse_sample("gmail_reply.eml")

    assert parsed.message_id == "CAGx3k9Qv7d2mPzX+1fTq8wJH5s0o=Yb6a@mail.example.com"
    assert parsed.in_reply_to == ["hd-7k3p9q.reply.4d5e6f@support.example.com"]
    assert parsed.references == [
        "hd-7k3p9q.created.1a2b3c@support.example.com",
        "hd-7k3p9q.reply.4d5e6f@support.example.com",
    ]
    assert parsed.to == ["support@example.com"]
    assert parsed.cc == ["bob.chen@example.com"]
    assert parsed.reply_to == []
    assert parsed.subject == 'Re: [HD-7K3P9Q] USDT withdrawal stuck in "processing"'
    assert parsed.date == datetime.datetime(2026, 11, 3, 11, 47, 12, tzinfo=datetime.UTC)
    assert parsed.size == (EMAILS / "gmail_reply.eml").stat().st_size


def test_gmail_attribution_wrapped_over_two_lines_is_part_of_the_history():
    """Gmail wraps "On …, Name <addr>" and "wrote:" onto two lines; neither line survives."""
    parsed = parse_sample("gmail_reply.eml")

    assert "<support@example.com>\nwrote:" in parsed.text
    assert "wrote" not in parsed.reply_text
    assert "Alice Chen\nTreasury" in parsed.text  # the "-- " signature was there
    assert "Treasury" not in parsed.reply_text


def test_html_only_sample_is_read_as_text():
    """Tags go, entities are unescaped, <head>/<style>/<script> vanish, blockquotes become "> "."""
    parsed = parse_sample("html_only.eml")

    assert parsed.text == (
        HTML_ONLY_REPLY
        + "\n\nOn Mon, 2 Nov 2026 at 18:20, Crypto Exchange Support <support@example.com> wrote:"
        "\n> Dear customer,\n>\n"
        "> For your security the account was frozen after a phone number change."
    )
    for leaked in ("Account frozen", "font-family", "trackOpen", "<div", "<p>", "&amp;", "&nbsp;"):
        assert leaked not in parsed.text


def test_legacy_charset_samples_decode_characters_outside_the_declared_set():
    """GB2312 labels carry GBK-only 喆; Shift_JIS carries IBM 髙; EUC-KR carries UHC-only 됬."""
    assert parse_sample("gb2312_reply.eml").subject == "回复: [HD-7K3P9Q] 提现未到账"
    assert "\ufffd" not in parse_sample("gb2312_reply.eml").text
    assert parse_sample("shift_jis_reply.eml").subject == "Re: [HD-P7N4VB] 本人確認について"
    assert parse_sample("euc_kr_reply.eml").subject == "Re: [HD-3BVQ8M] OTP 인증 오류"


def test_iso_2022_jp_sample_keeps_windows_circled_numbers():
    """Outlook writes NEC row-13 symbols (①) inside ISO-2022-JP; they must not become U+FFFD."""
    parsed = parse_sample("iso2022jp_reply.eml")

    assert parsed.subject == "RE: [HD-W8R2KD] 不審なログイン通知について"
    assert "①二段階認証アプリを再設定" in parsed.reply_text
    assert "\ufffd" not in parsed.text


def test_qq_mail_sample_drops_the_iphone_one_liner_and_the_original_message_block():
    parsed = parse_sample("qq_mail_reply.eml")

    assert "发自我的iPhone" in parsed.text
    assert "------------------ 原始邮件 ------------------" in parsed.text
    assert parsed.subject == "回复： [HD-7K3P9Q] 谷歌验证器无法使用"


def test_outlook_sample_decodes_a_windows_1252_apostrophe_labelled_latin_1():
    parsed = parse_sample("outlook_reply.eml")

    assert "I\u2019ve checked" in parsed.text
    assert parsed.message_id.startswith("DB9PR07MB1234A89B")


def test_stranger_reply_reports_sender_and_reference_for_the_caller_to_judge():
    """The parser does not decide; it reports the other person's reference, upper-cased."""
    parsed = parse_sample("stranger_quoting_reference.eml")

    assert parsed.subject.startswith("Re: [hd-7k3p9q]")
    assert parsed.ticket_reference == "HD-7K3P9Q"
    assert parsed.sender == "alice.chen.support@example.net"
    assert parsed.in_reply_to == [] and parsed.references == []


# --- The other samples ------------------------------------------------------------------------


def test_forwarded_new_request_keeps_the_forwarded_content():
    """A forward with nothing above it is the request itself, not quoted history."""
    parsed = parse_sample("forwarded.eml")

    assert parsed.reply_text.startswith("---------- Forwarded message ---------\nFrom: Crypto")
    assert parsed.reply_text.endswith("Crypto Exchange Security Team")
    assert parsed.reply_text == parsed.text
    assert parsed.ticket_reference is None
    assert not parsed.is_auto_submitted


def test_auto_submitted_header_marks_a_vacation_reply():
    parsed = parse_sample("auto_reply.eml")

    assert parsed.is_auto_submitted
    assert not parsed.is_bounce
    assert parsed.subject == "Travelling until 12 November"


def test_chinese_out_of_office_subject_alone_marks_an_auto_reply():
    """No Auto-Submitted header: "自动回复" in the subject is enough; the reference still reads."""
    parsed = parse_sample("out_of_office_zh.eml")

    assert parsed.is_auto_submitted
    assert parsed.ticket_reference == "HD-7K3P9Q"
    assert parsed.language_guess == "zh-hans"
    assert parsed.reply_text.startswith("您好，我正在休假")


def test_delivery_status_report_is_a_bounce_with_the_returned_message_attached():
    parsed = parse_sample("bounce_dsn.eml")

    assert parsed.is_bounce
    assert parsed.sender == "mailer-daemon@mail.example.com"
    assert parsed.text.startswith("This is the mail system at host mail.example.com.")
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("attachment-1.txt", "message/delivery-status"),
        ("attachment-2.eml", "message/rfc822"),
    ]
    assert b"Status: 5.1.1" in parsed.attachments[0].content
    returned = parse_email(parsed.attachments[1].content, max_bytes=MAX_BYTES)
    assert returned.message_id == "hd-7k3p9q.created.1a2b3c@support.example.com"


def test_mailing_list_post_is_flagged_automatic():
    parsed = parse_sample("mailing_list.eml")

    assert parsed.is_auto_submitted
    assert not parsed.is_bounce
    assert parsed.cc == ["support@example.com"]


def test_attachments_and_inline_images_are_returned_with_decoded_names():
    """RFC 2047 (inline PNG) and RFC 2231 (PDF) names decode; the HTML body is not a file."""
    parsed = parse_sample("with_attachment.eml")

    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("截图.png", "image/png"),
        ("提现记录 2026-11.pdf", "application/pdf"),
    ]
    png, pdf = parsed.attachments
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n") and png.content.endswith(b"IEND\xaeB`\x82")
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.content.rstrip().endswith(b"%%EOF")
    assert parsed.text == (
        "Hello,\n\nAttached are a screenshot of the failed withdrawal and my statement.\n\nLi Wei"
    )
    assert isinstance(png, Attachment) and png == (png.filename, png.content_type, png.content)


def test_missing_message_id_gets_a_stable_synthetic_one():
    raw = (EMAILS / "no_message_id.eml").read_bytes()
    parsed = parse(raw)

    assert parsed.message_id_synthetic
    assert parsed.message_id == parse(raw).message_id
    assert parsed.message_id.endswith("@synthetic.invalid")
    assert parse(raw + b"\nP.S. one more line\n").message_id != parsed.message_id
    assert parsed.sender == "jose.martinez@example.net"
    assert parsed.sender_name == "José Martínez"
    assert parsed.date is None


def test_malformed_sample_is_rejected_with_a_reason():
    with pytest.raises(MalformedEmail, match="no From header") as caught:
        parse_sample("malformed.eml")
    assert caught.value.reason == "no From header"


# --- Size and malformed input -----------------------------------------------------------------


def test_oversized_message_is_rejected_before_parsing():
    """Even garbage is reported as oversized: the size is checked first."""
    with pytest.raises(OversizedEmail, match="11 bytes, the limit is 10") as caught:
        parse_email(b"\x00" * 11, max_bytes=10)
    assert (caught.value.size, caught.value.max_bytes) == (11, 10)


def test_message_exactly_at_the_limit_is_accepted():
    raw = build("Hello")
    assert parse_email(raw, max_bytes=len(raw)).size == len(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"", "empty message", id="empty"),
        pytest.param(b" \r\n\r\n\t", "empty message", id="whitespace"),
        pytest.param(b"Hello, this is not an e-mail at all.\n", "no From header", id="no-headers"),
        pytest.param(
            b"To: support@example.com\nSubject: hi\n\nbody", "no From header", id="no-from"
        ),
        pytest.param(
            b"From: Support Team\nSubject: hi\n\nbody", "no usable sender", id="from-no-address"
        ),
        pytest.param(
            b"From: =?x-unknown?B?/////w==?=\nSubject: hi\n\nbody",
            "no usable sender",
            id="from-undecodable",
        ),
        pytest.param(
            b"From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\nno parts here\n",
            "no body parts",
            id="multipart-without-parts",
        ),
    ],
)
def test_unusable_input_is_malformed(raw, reason):
    with pytest.raises(MalformedEmail, match=reason):
        parse(raw)


def test_absurdly_nested_mime_is_malformed_not_a_crash():
    depth = 200
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % i for i in reversed(range(depth)))
    raw = b"From: a@example.com\n" + opening + b"Content-Type: text/plain\n\nhi" + closing

    with pytest.raises(MalformedEmail):
        parse(raw)


def test_parsed_email_is_immutable():
    parsed = parse(build("Hello"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.sender = "mallory@example.net"


# --- Headers ----------------------------------------------------------------------------------


def test_newlines_in_a_decoded_subject_are_collapsed():
    """An encoded CR/LF cannot smuggle a header line through the subject or the name."""
    injected = "=?utf-8?q?Hello=0D=0ABcc=3A_victim=40example.net=0D=0A=0D=0Abody?="
    parsed = parse(build("x", subject=injected, sender=f"{injected} <alice@example.com>"))

    assert parsed.subject == "Hello Bcc: victim@example.net body"
    assert parsed.sender_name == "Hello Bcc: victim@example.net body"
    assert parsed.sender == "alice@example.com"


def test_control_characters_and_folding_whitespace_in_the_subject_become_single_spaces():
    parsed = parse(build("x", subject="Re:\t [HD-7K3P9Q]\x00\x07  withdrawal\n   stuck"))
    assert parsed.subject == "Re: [HD-7K3P9Q] withdrawal stuck"


def test_a_multibyte_character_split_across_two_encoded_words_is_rejoined():
    data = "提现未到账".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    parsed = parse(build("x", subject=f"=?UTF-8?B?{first}?=\n =?UTF-8?B?{second}?="))
    assert parsed.subject == "提现未到账"


def test_raw_8bit_headers_use_utf8_then_the_body_charset():
    raw = (
        b"From: \xc0\xee\xce\xb0 <li.wei@example.com>\nSubject: \xcc\xe1\xcf\xd6\n"
        b"Content-Type: text/plain; charset=gb2312\n\nbody"
    )
    parsed = parse(raw)
    assert (parsed.sender_name, parsed.subject) == ("李伟", "提现")
    assert parse(build("x", subject="提现未到账 ✓")).subject == "提现未到账 ✓"


def test_encoded_display_name_with_a_comma_does_not_add_an_address():
    name = encoded_word("Chen, Alice <boss@example.net>", "utf-8")
    parsed = parse(build("x", sender=f"{name} <alice.chen@example.com>"))
    assert parsed.sender == "alice.chen@example.com"
    assert parsed.sender_name == "Chen, Alice <boss@example.net>"


def test_address_lists_are_lower_cased_and_deduplicated():
    headers = (
        "Cc: Bob <BOB@example.com>, bob@example.com, not-an-address,\n"
        ' "Chen, Carol" <carol@example.net>\nReply-To: Alice <Alice.Chen+tickets@Example.com>\n'
    )
    parsed = parse(build("x", headers=headers))
    assert parsed.cc == ["bob@example.com", "carol@example.net"]
    assert parsed.reply_to == ["alice.chen+tickets@example.com"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("In-Reply-To: <abc@example.com>", ["abc@example.com"]),
        ("In-Reply-To: <abc@example.com> (Alice's message of Tue)", ["abc@example.com"]),
        ("In-Reply-To: abc@example.com", ["abc@example.com"]),
        ("In-Reply-To: <a@x>\n <b@x>\t<a@x>", ["a@x", "b@x"]),
        ("In-Reply-To: < spaced@example.com >", ["spaced@example.com"]),
        ("In-Reply-To: no id here", []),
    ],
)
def test_message_ids_are_normalised(header, expected):
    assert parse(build("x", headers=header + "\n")).in_reply_to == expected


def test_folded_message_id_is_unfolded():
    raw = build("x").replace(
        b"Message-ID: <test.1@mail.example.com>",
        b"Message-ID:\n <DB9PR07MB1234@DB9PR07MB1234.prod.outlook.example.com>",
    )
    assert parse(raw).message_id == "DB9PR07MB1234@DB9PR07MB1234.prod.outlook.example.com"


@pytest.mark.parametrize(
    ("subject", "reference"),
    [
        ("Re: [HD-7K3P9Q] Withdrawal", "HD-7K3P9Q"),
        ("RE: FW: [hd-7k3p9q] withdrawal", "HD-7K3P9Q"),
        ("回复：【HD-7K3P9Q】提现未到账", "HD-7K3P9Q"),
        ("Re: 【ＨＤ－７Ｋ３Ｐ９Ｑ】", "HD-7K3P9Q"),  # typed with a full-width input method
        ("About HD-7K3P9Q and HD-AAAAAA", "HD-7K3P9Q"),
        ("Re: HD-7K3P9QX too long", None),
        ("Re: XHD-7K3P9Q glued", None),
        ("Re: HD-7K3P9O has a letter O", None),
        ("Re: HD-7\u041a3P9Q with a Cyrillic Ka", None),
        ("Withdrawal stuck", None),
    ],
)
def test_ticket_reference_is_read_from_the_subject(subject, reference):
    assert parse(build("x", subject=encoded_word(subject, "utf-8"))).ticket_reference == reference


def test_reference_in_the_body_only_is_not_a_reference():
    assert parse(build("About HD-7K3P9Q", subject="Question")).ticket_reference is None


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (
            "Tue, 3 Nov 2026 10:02:00 +0800",
            datetime.datetime(2026, 11, 3, 2, 2, tzinfo=datetime.UTC),
        ),
        (
            "Tue, 3 Nov 2026 10:02:00 -0000",
            datetime.datetime(2026, 11, 3, 10, 2, tzinfo=datetime.UTC),
        ),
        ("yesterday", None),
        ("Tue, 3 Nov 99999 10:02:00 +0000", None),
    ],
)
def test_date_is_aware_or_none(date, expected):
    raw = build("x").replace(b"Date: Tue, 3 Nov 2026 11:47:12 +0000", f"Date: {date}".encode())
    parsed = parse(raw)
    assert parsed.date == expected
    assert parsed.date is None or parsed.date.tzinfo is not None


# --- Charsets and transfer encodings ----------------------------------------------------------


@pytest.mark.parametrize(
    ("charset", "body", "expected"),
    [
        ("gb2312", "王喆：提现未到账".encode("gb18030"), "王喆：提现未到账"),
        ("GBK", "提现未到账".encode("gbk"), "提现未到账"),
        ("gb18030", "提现未到账 𠀀".encode("gb18030"), "提现未到账 𠀀"),
        ("Shift_JIS", "①髙橋です".encode("cp932"), "①髙橋です"),
        ("euc-kr", "안 됬어요".encode("cp949"), "안 됬어요"),
        ("ks_c_5601-1987", "출금 확인".encode("cp949"), "출금 확인"),
        ("iso-2022-jp", "出金できません".encode("iso2022_jp"), "出金できません"),
        ("big5", "提現未到帳 €".encode("cp950"), "提現未到帳 €"),
        ("big5", "香港 𨋢".encode("big5hkscs"), "香港 𨋢"),
        ("utf-8", "Überweisung €".encode(), "Überweisung €"),
        ("x-unknown", "Überweisung €".encode(), "Überweisung €"),  # unknown: try UTF-8 first
        ("x-unknown", "Überweisung".encode("latin-1"), "Überweisung"),  # then Latin-1
        ("base64", b"plain", "plain"),  # a codec name, but not a text charset
        ("utf-8", b"caf\xe9 \xff", "caf\ufffd \ufffd"),  # declared, broken: replaced, no crash
        ("us-ascii", "naïve".encode(), "naïve"),  # mislabelled UTF-8
    ],
)
def test_body_charsets(charset, body, expected):
    raw = build(body, content_type=f'text/plain; charset="{charset}"')
    assert parse(raw).text == expected


def test_body_without_charset_tries_utf8_then_latin1():
    raw = build("ok", content_type="text/plain")
    assert parse(raw.replace(b"\n\nok", "\n\n提现".encode())).text == "提现"
    assert parse(raw.replace(b"\n\nok", b"\n\nna\xefve")).text == "naïve"


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("quoted-printable", b"Withdrawal of 500 USDT =E2=80=94 still =\npending"),
        ("base64", base64.encodebytes("Withdrawal of 500 USDT — still pending".encode())),
        ("BASE64", base64.b64encode("Withdrawal of 500 USDT — still pending".encode())[:-2]),
    ],
)
def test_transfer_encodings(encoding, body):
    parsed = parse(build(body, encoding=encoding))
    assert parsed.text.startswith("Withdrawal of 500 USDT — still")


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("GB2312", "gb18030", "王喆"),
        ("Shift_JIS", "cp932", "髙橋"),
        ("EUC-KR", "cp949", "됬"),
        ("ISO-2022-JP", "iso2022_jp", "山田"),
        ("Big5", "cp950", "陳大文"),
    ],
)
def test_encoded_words_use_the_same_charset_supersets_as_bodies(label, codec, text):
    parsed = parse(build("x", sender=f"{encoded_word(text, label, codec)} <a@example.com>"))
    assert parsed.sender_name == text


def test_broken_encoded_word_is_kept_literally():
    assert parse(build("x", subject="=?utf-8?B?!?= ok")).subject == "=?utf-8?B?!?= ok"


def test_format_flowed_delsp_lines_are_joined_without_the_extra_space():
    body = "The withdrawal is pen \ndi \nng.\n> quoted soft \n> break\n"
    parsed = parse(build(body, content_type="text/plain; charset=utf-8; format=flowed; delsp=yes"))
    assert parsed.text == "The withdrawal is pending.\n> quoted softbreak"


# --- HTML -------------------------------------------------------------------------------------


def test_html_line_breaks_entities_and_dropped_elements():
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Line&nbsp;one<br>line &amp; two</p><div>div</div><ul><li>a</li><li>b</li></ul>"
        "<script>alert('x')</script><table><tr><td>Fee</td><td>0.1&nbsp;USDT</td></tr></table>"
        "<p>&lt;b&gt; is text &#x1F680;</p><!-- a comment --></body></html>"
    )
    parsed = parse(build(html, content_type="text/html; charset=utf-8"))
    assert parsed.text == "Line one\nline & two\ndiv\na\nb\nFee 0.1 USDT\n<b> is text 🚀"


def test_blank_plain_part_falls_back_to_the_html_alternative():
    raw = (
        b"From: a@example.com\nContent-Type: multipart/alternative; boundary=x\n\n"
        b"--x\nContent-Type: text/plain\n\n \n"
        b"--x\nContent-Type: text/html\n\n<p>Hi</p><p>there</p>\n"
        b"--x--\n"
    )
    assert parse(raw).text == "Hi\nthere"


def test_plain_part_wins_over_html():
    raw = (
        b"From: a@example.com\nContent-Type: multipart/alternative; boundary=x\n\n"
        b"--x\nContent-Type: text/plain\n\nplain\n--x\nContent-Type: text/html\n\n<p>html</p>\n"
        b"--x--\n"
    )
    parsed = parse(raw)
    assert (parsed.text, parsed.attachments) == ("plain", [])


def test_unclosed_html_comment_does_not_hang_or_leak():
    html = "<p>Hello</p><!-- " + "<p>x</p>" * 20_000
    assert parse(build(html, content_type="text/html")).text == "Hello"


# --- Quote styles built in the tests ----------------------------------------------------------

OUTLOOK_ORIGINAL = """Please check again.

-----Original Message-----
From: Crypto Exchange Support <support@example.com>
Sent: Tuesday, November 3, 2026 10:02 AM
Subject: [HD-7K3P9Q] Withdrawal

Dear customer,
"""

OUTLOOK_WEB_BLOCK = """Please check again.

From: Crypto Exchange Support <support@example.com>
Sent: Tuesday, November 3, 2026 10:02 AM
To: Alice Chen <alice.chen@example.com>
Subject: [HD-7K3P9Q] Withdrawal

Dear customer,
"""

OUTLOOK_ZH_BLOCK = """请再帮我查一下。

发件人： Crypto Exchange Support <support@example.com>
发送时间： 2026年11月3日 10:02
收件人： 李伟 <li.wei@example.com>
主题： [HD-7K3P9Q] 提现未到账

您好，
"""

APPLE_ZH = """请再帮我查一下。

发自我的iPhone

> 在 2026年11月3日，10:02，Crypto Exchange Support <support@example.com> 写道：
>
> 您好，
"""

CHINESE_ATTRIBUTION = """请再帮我查一下。

在 2026年11月3日 10:02，Support <support@example.com> 写道：
> 您好，
"""

JAPANESE_OUTLOOK = """再度ご確認をお願いします。

iPhoneから送信

差出人: Crypto Exchange Support <support@example.com>
送信日時: 2026年11月3日 10:02
宛先: 山田 太郎 <taro.yamada@example.com>
件名: [HD-7K3P9Q] 出金について

山田様
"""

JAPANESE_WROTE = """再度ご確認をお願いします。

On 2026/11/03 10:02, Crypto Exchange Support wrote:
> 山田様
"""

KOREAN_GMAIL = """다시 확인 부탁드립니다.

나의 iPhone에서 보냄

2026년 11월 3일 (화) 오전 10:02, Crypto Exchange Support <support@example.com>님이 작성:
> 안녕하세요
"""

IOS_QUOTED_ATTRIBUTION = """Please check again.

Sent from my iPhone

> On 3 Nov 2026, at 10:02, Crypto Exchange Support <support@example.com> wrote:
>
> Dear customer,
"""

GERMAN = """Bitte noch einmal prüfen.

Am Di., 3. Nov. 2026 um 10:02 Uhr schrieb Support <support@example.com>:
> Hallo,
"""


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        pytest.param(OUTLOOK_ORIGINAL, "Please check again.", id="outlook-original-message"),
        pytest.param(OUTLOOK_WEB_BLOCK, "Please check again.", id="outlook-web-header-block"),
        pytest.param(OUTLOOK_ZH_BLOCK, "请再帮我查一下。", id="outlook-chinese-header-block"),
        pytest.param(APPLE_ZH, "请再帮我查一下。", id="apple-mail-chinese"),
        pytest.param(CHINESE_ATTRIBUTION, "请再帮我查一下。", id="chinese-attribution"),
        pytest.param(JAPANESE_OUTLOOK, "再度ご確認をお願いします。", id="japanese-outlook"),
        pytest.param(JAPANESE_WROTE, "再度ご確認をお願いします。", id="japanese-wrote"),
        pytest.param(KOREAN_GMAIL, "다시 확인 부탁드립니다.", id="korean-gmail"),
        pytest.param(IOS_QUOTED_ATTRIBUTION, "Please check again.", id="ios-quoted-attribution"),
        pytest.param(GERMAN, "Bitte noch einmal prüfen.", id="german-gmail"),
    ],
)
def test_quote_styles(body, reply):
    assert parse(build(body)).reply_text == reply


def test_signature_after_dash_dash_space_is_removed():
    body = "Thanks, it arrived.\n\n-- \nAlice Chen\n+44 20 7946 0000\n"
    assert parse(build(body)).reply_text == "Thanks, it arrived."


@pytest.mark.parametrize(
    "one_liner",
    ["Sent from my iPhone", "发自我的iPhone", "iPhoneから送信", "Get Outlook for Android"],
)
def test_mobile_one_liners_at_the_end_are_removed(one_liner):
    assert parse(build(f"Thanks, it arrived.\n\n{one_liner}\n")).reply_text == "Thanks, it arrived."


@pytest.mark.parametrize(
    "last_line",
    [
        "从我的账户提现失败",  # "withdrawing from my account failed"
        "Sent from my Ledger to the address you gave me",
        "アプリから送信しました",
    ],
)
def test_sentences_that_look_like_one_liners_are_kept(last_line):
    body = f"Hello,\n\n{last_line}\n"
    assert parse(build(body)).reply_text == f"Hello,\n\n{last_line}"


def test_prose_that_looks_like_quote_headers_is_kept():
    body = (
        "On Monday the agent wrote:\nplease wait.\n\n"
        "From: my Ledger wallet\nTo: your deposit address\n\n-------- done --------\n"
    )
    assert parse(build(body)).reply_text == body.strip()


def test_forward_with_a_note_above_keeps_both():
    body = (
        "Is this e-mail really from you?\n\nSent from my iPhone\n\n"
        "Begin forwarded message:\n\nFrom: Security <security@example.net>\n"
        "Subject: Verify your wallet\nDate: 1 November 2026 at 22:15:00 GMT\n"
        "To: alice.chen@example.com\n\nClick here to verify.\n"
    )
    assert parse(build(body, subject="Fwd: Verify your wallet")).reply_text == (
        "Is this e-mail really from you?\n\nBegin forwarded message:\n\n"
        "From: Security <security@example.net>\nSubject: Verify your wallet\n"
        "Date: 1 November 2026 at 22:15:00 GMT\nTo: alice.chen@example.com\n\n"
        "Click here to verify."
    )


OUTLOOK_FORWARD = """Is this message genuine?

________________________________
From: Crypto Exchange <no-reply@example.net>
Sent: Sunday, November 1, 2026 9:15 PM
To: Piotr Kowalski <piotr.kowalski@example.net>
Subject: Suspicious login from your account

We detected a login from a new device."""


def test_outlook_forward_is_told_from_a_reply_by_its_subject():
    """Outlook forwards and replies share one header block; "FW:" keeps it, "RE:" strips it."""
    forwarded = parse(build(OUTLOOK_FORWARD, subject="FW: Suspicious login from your account"))
    replied = parse(build(OUTLOOK_FORWARD, subject="RE: Suspicious login from your account"))

    assert forwarded.reply_text == OUTLOOK_FORWARD
    assert replied.reply_text == "Is this message genuine?"


def test_forward_inside_quoted_history_goes_with_the_history():
    body = (
        "Done, thanks.\n\n-----Original Message-----\nFrom: Support <support@example.com>\n"
        "Sent: Tuesday\n\n---------- Forwarded message ---------\nFrom: x@example.net\n"
    )
    assert parse(build(body)).reply_text == "Done, thanks."


def test_inline_answers_between_quotes_are_kept():
    body = (
        "See my answers below.\n\n"
        "On Tue, 3 Nov 2026 at 10:02, Support <support@example.com> wrote:\n"
        "> Which network did you use?\nTRC20\n> What amount?\n500 USDT\n"
    )
    assert parse(build(body)).reply_text == body.strip()


@pytest.mark.parametrize(
    "body",
    [
        "On Tue, 3 Nov 2026 at 10:02, Support <support@example.com> wrote:\n> Hi\n\nMy answer.\n",
        "> Which network did you use?\n> TRC20?\n",
    ],
    ids=["bottom-posted", "only-a-quote"],
)
def test_when_stripping_leaves_nothing_the_full_text_is_kept(body):
    assert parse(build(f"\n\n{body}\n\n")).reply_text == body.strip()


def test_five_thousand_lines_of_quoted_history_strip_in_one_pass():
    history = "\n".join(f"> line {i} of the history" for i in range(5_000))
    body = (
        "Still waiting.\n\nOn Tue, 3 Nov 2026 at 10:02, Support <support@example.com> wrote:\n"
        + history
    )
    assert parse(build(body)).reply_text == "Still waiting."


def test_near_miss_lines_cost_a_bounded_number_of_checks_each(monkeypatch):
    """Lines built to almost look like attributions, rules and header blocks, 6,000 of them.

    A backtracking pattern would choke on these. The stripper checks each line a fixed
    number of times, with a fixed look-ahead. The call count shows this without timing.
    """
    near_misses = [
        "> On " + "1 " * 140 + "1",
        "> " + "a" * 2_000,
        "On " + "2 " * 140 + "wrote",
        "From: " + "x" * 200,
        "-" * 300,
        "在 " + "年" * 250,
    ]
    body = "\n".join(near_misses * 1_000)
    calls = 0
    original = mail_parsing._is_attribution

    def counting(line):
        nonlocal calls
        calls += 1
        return original(line)

    monkeypatch.setattr(mail_parsing, "_is_attribution", counting)
    parsed = parse(build(body))

    assert parsed.reply_text == body
    assert calls <= 2 * len(near_misses) * 1_000


def test_five_thousand_unquoted_lines_without_history_are_kept():
    body = "\n".join(f"Withdrawal {i}: On {i} Nov From: x" for i in range(5_000))
    assert parse(build(body)).reply_text == body


# --- Auto-replies, lists and bounces ----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("Auto-Submitted: auto-generated\n", "Withdrawal completed"),
        ("Auto-Submitted: auto-replied; owner-email=alice@example.com\n", "Re: hi"),
        ("Precedence: bulk\n", "Weekly digest"),
        ("Precedence: junk\n", "Offer"),
        ("Precedence: list\n", "Re: hi"),
        ("X-Autoreply: yes\n", "Re: hi"),
        ("X-Autorespond: Thanks for your message\n", "Re: hi"),
        ("List-Id: <ops.lists.example.net>\n", "Re: hi"),
        ("List-Unsubscribe: <mailto:leave@lists.example.net>\n", "Re: hi"),
        ("X-Auto-Response-Suppress: All\n", "Out of Office: back on Monday"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply\n", "On vacation until 12 Nov"),
        ("", "Automatic reply: [HD-7K3P9Q] Withdrawal"),
        ("", "Auto-Reply: Re: Withdrawal"),
        ("", "自动回复：提现未到账"),
        ("", "【自动回复】提现未到账"),
        ("", "自动答复: [HD-7K3P9Q] 提现未到账"),
        ("", "自動応答: 出金について"),
        ("", "자동 응답: 출금 문의"),
        ("", "자동 회신: 출금 문의"),
    ],
)
def test_automatic_mail_is_flagged(headers, subject):
    parsed = parse(build("I am away.", subject=encoded_word(subject, "utf-8"), headers=headers))
    assert parsed.is_auto_submitted
    assert not parsed.is_bounce


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("Auto-Submitted: no\n", "Re: hi"),
        ("Precedence: first-class\n", "Re: hi"),
        # Exchange puts this header on ordinary mail too; alone it proves nothing.
        ("X-Auto-Response-Suppress: All\n", "Re: [HD-7K3P9Q] Withdrawal"),
        ("", "Out of office next week, please solve it before"),
        ("", "Auto reply not working in your app"),
        ("", "自动回复功能怎么关闭"),
    ],
)
def test_human_mail_is_not_flagged(headers, subject):
    parsed = parse(build("Hello", subject=encoded_word(subject, "utf-8"), headers=headers))
    assert not parsed.is_auto_submitted


def test_read_receipt_is_automatic():
    raw = (
        b"From: alice@example.com\nSubject: Read: [HD-7K3P9Q]\n"
        b"Content-Type: multipart/report; report-type=disposition-notification; boundary=r\n\n"
        b"--r\nContent-Type: text/plain\n\nYour message was read.\n"
        b"--r\nContent-Type: message/disposition-notification\n\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\n"
        b"--r--\n"
    )
    parsed = parse(raw)
    assert parsed.is_auto_submitted and not parsed.is_bounce


@pytest.mark.parametrize(
    ("sender", "subject", "is_bounce"),
    [
        ("MAILER-DAEMON@mx.example.net", "failure notice", True),  # qmail, plain text
        ("Mail Delivery System <Mailer-Daemon@mx.example.net>", "Mail delivery failed", True),
        ("Mail Delivery Subsystem <MAILER-DAEMON>", "Returned mail: User unknown", True),
        ("postmaster@example.net", "Undeliverable: Withdrawal", True),
        ("postmaster@example.net", "Question about your DMARC policy", False),
        ("alice.chen@example.com", "Undelivered Mail Returned to Sender", False),
    ],
)
def test_plain_text_bounces_are_trusted_only_from_the_mail_daemon(sender, subject, is_bounce):
    parsed = parse(build("The message could not be delivered.", sender=sender, subject=subject))
    assert parsed.is_bounce is is_bounce


def test_delivery_status_nested_in_a_mixed_message_is_a_bounce():
    raw = (
        b"From: postmaster@mx.example.net\nSubject: Delivery report\n"
        b"Content-Type: multipart/mixed; boundary=m\n\n"
        b"--m\nContent-Type: text/plain\n\nFailed.\n"
        b"--m\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
        b"Final-Recipient: rfc822; x@example.net\nAction: failed\nStatus: 5.0.0\n"
        b"--m--\n"
    )
    assert parse(raw).is_bounce


# --- Attachments ------------------------------------------------------------------------------


def _with_attachment(disposition: str, content_type: str = "application/octet-stream") -> bytes:
    return (
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary=m\n\n"
        b"--m\nContent-Type: text/plain\n\nSee attached.\n"
        b"--m\nContent-Type: " + content_type.encode() + b"\n"
        b"Content-Disposition: " + disposition.encode("utf-8", "surrogateescape") + b"\n"
        b"Content-Transfer-Encoding: base64\n\naGVsbG8=\n--m--\n"
    )


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        ('attachment; filename="statement.pdf"', "statement.pdf"),
        ('attachment; filename="..\\\\..\\\\Windows\\\\evil.exe"', "evil.exe"),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ("attachment; filename*=gb2312''%CD%F5%86%B4.txt", "王喆.txt"),
        ("attachment; filename*0*=utf-8''%E6%8F%90%E7%8E%B0; filename*1=.pdf", "提现.pdf"),
        ('attachment; filename="=?UTF-8?B?5o+Q546w6K6w5b2VLnBkZg==?="', "提现记录.pdf"),
        ('attachment; filename="=?utf-8?Q?a=0Ab.pdf?="', "a b.pdf"),
        ("attachment", "attachment-1"),
        ('attachment; filename=".."', "attachment-1"),
    ],
)
def test_attachment_filenames(disposition, filename):
    (attachment,) = parse(_with_attachment(disposition)).attachments
    assert attachment == (filename, "application/octet-stream", b"hello")


def test_unnamed_inline_image_gets_a_name_from_its_type():
    raw = _with_attachment("inline", content_type="image/png")
    assert parse(raw).attachments[0].filename == "attachment-1.png"


def test_named_text_part_is_an_attachment_not_the_body():
    raw = _with_attachment('attachment; filename="notes.txt"', content_type="text/plain")
    parsed = parse(raw)
    assert parsed.text == "See attached."
    assert parsed.attachments == [("notes.txt", "text/plain", b"hello")]


def test_message_with_only_an_attachment_has_empty_text():
    raw = (
        b"From: a@example.com\nContent-Type: image/png; name=shot.png\n"
        b"Content-Transfer-Encoding: base64\n\naGVsbG8=\n"
    )
    parsed = parse(raw)
    assert (parsed.text, parsed.reply_text) == ("", "")
    assert parsed.attachments == [("shot.png", "image/png", b"hello")]


# --- Language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("出金ができません。確認してください。", "ja"),
        ("出金確認", "zh-hans"),  # Han without kana reads as Chinese
        ("ｼｭｯｷﾝ", "ja"),  # half-width katakana
        ("출금이 안 돼요", "ko"),
        ("提现未到账，请帮忙查询", "zh-hans"),
        ("Withdrawal stuck · 2 BTC", "en"),
        ("Merci beaucoup", "en"),
    ],
)
def test_language_is_guessed_from_the_script(text, language):
    assert parse(build(text)).language_guess == language


def test_language_comes_from_the_reply_not_the_quoted_history():
    body = (
        "Thanks, solved.\n\n在 2026年11月3日 10:02，Support <support@example.com> 写道：\n> 您好\n"
    )
    assert parse(build(body)).language_guess == "en"


# --- Robustness -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in EMAILS.glob("*.eml")))
def test_truncated_and_corrupted_samples_parse_or_are_malformed(name):
    """Cut every sample short and flip bytes in it: the only error allowed is MalformedEmail."""
    raw = (EMAILS / name).read_bytes()
    rng = random.Random(name)
    variants = [raw[:cut] for cut in range(0, len(raw), 41)]
    for _ in range(100):
        corrupted = bytearray(raw)
        for _ in range(rng.randrange(1, 12)):
            corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
        variants.append(bytes(corrupted))
    for variant in variants:
        with contextlib.suppress(MalformedEmail):
            parse(variant)
