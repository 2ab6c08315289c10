# ruff: noqa: E501 - a table of translated demo strings reads best one row per line
"""Demo help-center categories in the four languages (used by `seed_demo`)."""

from __future__ import annotations

from helpcenter.models import Category

# slug, icon, names (zh-hans, en, ja, ko), descriptions (same order), sections
CATEGORIES = [
    (
        "account-security",
        "shield",
        ("账户与安全", "Account & Security", "アカウントとセキュリティ", "계정 및 보안"),
        (
            "登录、双重验证、防钓鱼码与账户冻结",
            "Sign-in, 2FA, anti-phishing code and account freezes",
            "ログイン、二段階認証、フィッシング対策コード、アカウント凍結",
            "로그인, 2단계 인증, 피싱 방지 코드 및 계정 동결",
        ),
        [
            (
                "two-factor-authentication",
                (
                    "双重验证（2FA）",
                    "Two-factor authentication (2FA)",
                    "二段階認証（2FA）",
                    "2단계 인증(2FA)",
                ),
                (
                    "重置谷歌验证、更换手机",
                    "Reset Google Authenticator, change phone",
                    "Google認証のリセット、機種変更",
                    "Google OTP 재설정, 휴대폰 변경",
                ),
            ),
            (
                "login-problems",
                ("登录问题", "Sign-in problems", "ログインの問題", "로그인 문제"),
                (
                    "忘记密码、收不到验证码",
                    "Forgotten password, codes not arriving",
                    "パスワード忘れ、認証コードが届かない",
                    "비밀번호 분실, 인증 코드 미수신",
                ),
            ),
            (
                "account-compromised",
                (
                    "账户被盗与异常提币",
                    "Compromised account & unauthorised withdrawals",
                    "不正ログインと身に覚えのない出金",
                    "계정 도용 및 무단 출금",
                ),
                (
                    "立即冻结账户并联系客服",
                    "Freeze your account and contact us at once",
                    "すぐにアカウントを凍結してサポートへ",
                    "즉시 계정을 동결하고 고객지원에 문의",
                ),
            ),
        ],
    ),
    (
        "identity-verification",
        "id-card",
        ("身份认证（KYC）", "Identity verification (KYC)", "本人確認（KYC）", "본인 인증(KYC)"),
        (
            "认证等级、所需证件、审核被拒",
            "Verification levels, documents, rejected reviews",
            "認証レベル、必要書類、審査が通らない場合",
            "인증 등급, 필요 서류, 심사 거절",
        ),
        [
            (
                "kyc-rejected",
                ("认证被拒", "Verification rejected", "本人確認が否認された", "인증 거절"),
                (
                    "常见原因与重新提交",
                    "Common reasons and how to resubmit",
                    "よくある理由と再提出の方法",
                    "일반적인 사유와 재제출 방법",
                ),
            ),
            (
                "kyc-levels",
                (
                    "认证等级与限额",
                    "Verification levels and limits",
                    "認証レベルと限度額",
                    "인증 등급 및 한도",
                ),
                ("", "", "", ""),
            ),
        ],
    ),
    (
        "deposit",
        "deposit",
        ("充币", "Deposits", "入金", "입금"),
        (
            "充币未到账、选错网络、漏填 Memo/Tag",
            "Deposit not credited, wrong network, missing memo/tag",
            "入金が反映されない、ネットワーク間違い、メモ/タグ未入力",
            "입금 미반영, 네트워크 오선택, 메모/태그 누락",
        ),
        [
            (
                "deposit-not-credited",
                ("充币未到账", "Deposit not credited", "入金が反映されない", "입금 미반영"),
                (
                    "区块确认数与查询 TXID",
                    "Confirmations and looking up your TXID",
                    "承認数とTXIDの確認",
                    "컨펌 수와 TXID 조회",
                ),
            ),
            (
                "wrong-network-or-memo",
                (
                    "选错网络或漏填 Memo",
                    "Wrong network or missing memo",
                    "ネットワーク間違い・メモ未入力",
                    "네트워크 오선택·메모 누락",
                ),
                ("找回资产申请", "Asking for a recovery", "資産回復の申請", "자산 복구 신청"),
            ),
        ],
    ),
    (
        "withdrawal",
        "withdraw",
        ("提币", "Withdrawals", "出金", "출금"),
        (
            "提币审核中、长时间未到账、限额与手续费",
            "Pending or delayed withdrawals, limits and fees",
            "出金の審査中・未着、限度額と手数料",
            "출금 심사 중·지연, 한도 및 수수료",
        ),
        [
            (
                "withdrawal-pending",
                ("提币未到账", "Withdrawal not received", "出金が届かない", "출금 미수령"),
                (
                    "查看状态与区块浏览器",
                    "Check the status and the block explorer",
                    "ステータスとブロックエクスプローラーの確認",
                    "상태 및 블록 익스플로러 확인",
                ),
            ),
            (
                "withdrawal-limits-fees",
                (
                    "提币限额与手续费",
                    "Withdrawal limits and fees",
                    "出金限度額と手数料",
                    "출금 한도 및 수수료",
                ),
                ("", "", "", ""),
            ),
        ],
    ),
    (
        "spot-trading",
        "chart",
        ("现货交易", "Spot trading", "現物取引", "현물 거래"),
        (
            "下单、撤单、成交记录与手续费",
            "Placing and cancelling orders, trade history, fees",
            "注文・キャンセル、約定履歴、手数料",
            "주문·취소, 체결 내역, 수수료",
        ),
        [],
    ),
    (
        "futures",
        "futures",
        ("合约交易", "Futures & margin", "先物・証拠金取引", "선물 및 마진"),
        (
            "强平、资金费率、保证金模式",
            "Liquidations, funding rates, margin modes",
            "強制決済、資金調達率、証拠金モード",
            "강제 청산, 펀딩 비율, 증거금 모드",
        ),
        [
            (
                "liquidation",
                ("强平与爆仓", "Liquidations", "強制決済（ロスカット）", "강제 청산"),
                (
                    "强平价格如何计算",
                    "How the liquidation price is calculated",
                    "強制決済価格の計算方法",
                    "청산 가격 계산 방법",
                ),
            ),
        ],
    ),
    (
        "p2p",
        "people",
        ("P2P 交易", "P2P trading", "P2P取引", "P2P 거래"),
        (
            "付款、放币与申诉",
            "Payments, releasing coins and appeals",
            "支払い、コインのリリース、異議申し立て",
            "결제, 코인 전송, 이의 제기",
        ),
        [],
    ),
    (
        "rewards",
        "gift",
        ("活动与奖励", "Promotions & rewards", "キャンペーンと特典", "이벤트 및 보상"),
        (
            "空投、返佣与体验金",
            "Airdrops, referral commissions and bonuses",
            "エアドロップ、紹介報酬、ボーナス",
            "에어드롭, 추천 수수료, 보너스",
        ),
        [],
    ),
]

LANGS = ("zh_hans", "en", "ja", "ko")


def _fields(names: tuple[str, ...], descriptions: tuple[str, ...]) -> dict[str, str]:
    fields = {f"name_{lang}": name for lang, name in zip(LANGS, names, strict=True)}
    fields.update(
        {f"description_{lang}": text for lang, text in zip(LANGS, descriptions, strict=True)}
    )
    return fields


def seed(*, reveal_secrets: bool) -> list[str]:  # noqa: ARG001 - no secrets here
    """Create or update the demo categories; return a one-line summary."""
    count = 0
    for position, (slug, icon, names, descriptions, sections) in enumerate(CATEGORIES):
        parent, _ = Category.objects.update_or_create(
            slug=slug,
            defaults={
                "icon": icon,
                "position": position,
                "parent": None,
                **_fields(names, descriptions),
            },
        )
        count += 1
        for section_position, (section_slug, section_names, section_descriptions) in enumerate(
            sections
        ):
            Category.objects.update_or_create(
                slug=section_slug,
                defaults={
                    "icon": icon,
                    "position": section_position,
                    "parent": parent,
                    **_fields(section_names, section_descriptions),
                },
            )
            count += 1
    return [f"help-center categories and sections: {count}"]
