"""The teams, request categories and fields a fresh portal ships with.

`ensure_default_categories` creates whatever is missing and never changes
what an administrator has edited, so it is safe to run again (the data
migration runs it once; `seed_demo` may run it after loading the help
center, to link categories to it). Labels are data in all four languages,
not gettext strings: administrators edit them in the admin.
"""

from __future__ import annotations

from typing import Any

# slug: (en, zh-hans, ja, ko)
TEAMS: dict[str, tuple[str, str, str, str]] = {
    "wallet": ("Deposits & Withdrawals", "充提币", "入出金", "입출금"),
    "account-security": (
        "Account & Security",
        "账户与安全",
        "アカウントとセキュリティ",
        "계정 및 보안",
    ),
    "trading": ("Trading", "交易", "取引", "거래"),
    "general": ("General", "综合支持", "総合サポート", "일반 지원"),
}

# key: (field type, en, zh-hans, ja, ko)
_LABELS: dict[str, tuple[str, str, str, str, str]] = {
    "coin": ("coin", "Coin", "币种", "通貨", "코인"),
    "network": ("network", "Network", "网络", "ネットワーク", "네트워크"),
    "amount": ("amount", "Amount", "数量", "数量", "수량"),
    "withdrawal_address": (
        "address",
        "Withdrawal address",
        "提币地址",
        "出金先アドレス",
        "출금 주소",
    ),
    "deposit_address": ("address", "Deposit address", "充币地址", "入金アドレス", "입금 주소"),
    "memo": ("memo", "Memo / tag", "Memo / 标签", "メモ / タグ", "메모 / 태그"),
    "txid": (
        "txid",
        "Transaction ID (TXID)",
        "交易哈希（TXID）",
        "トランザクションID（TXID）",
        "트랜잭션 ID(TXID)",
    ),
    "uid": ("uid", "Account UID", "账户 UID", "アカウントUID", "계정 UID"),
    "order_id": ("order_id", "Order ID", "订单号", "注文ID", "주문 ID"),
    "trading_pair": ("trading_pair", "Trading pair", "交易对", "取引ペア", "거래 쌍"),
}


def _field(label: str, *, key: str | None = None, required: bool = False) -> dict[str, Any]:
    field_type, en, zh_hans, ja, ko = _LABELS[label]
    return {
        "key": key or label,
        "field_type": field_type,
        "required": required,
        "label_en": en,
        "label_zh_hans": zh_hans,
        "label_ja": ja,
        "label_ko": ko,
    }


def _transfer_fields(address_label: str) -> list[dict[str, Any]]:
    return [
        _field("coin", required=True),
        _field("network", required=True),
        _field("amount", required=True),
        _field(address_label, key="address", required=True),
        _field("memo"),
        _field("txid", required=True),
    ]


# Each category: team slug, help-center category slug, priority, compromise
# flag, names and descriptions (en, zh-hans, ja, ko), fields.
CATEGORIES: list[dict[str, Any]] = [
    {
        "slug": "account-compromised",
        "team": "account-security",
        "helpcenter": "account-compromised",
        "default_priority": 40,
        "is_compromise": True,
        "names": (
            "Account compromised / unauthorised withdrawal",
            "账户被盗 / 未经授权的提币",
            "アカウントの乗っ取り・不正出金",
            "계정 도용 / 무단 출금",
        ),
        "descriptions": (
            "Unknown sign-ins or a withdrawal you did not make? Tell us now: "
            "these reports are handled first.",
            "发现陌生登录或不是您本人发起的提币？请立即提交，我们会优先处理。",
            "身に覚えのないログインや出金がありましたか？すぐにお知らせください。最優先で対応します。",
            "모르는 로그인이나 본인이 하지 않은 출금이 있나요? "
            "바로 알려 주세요. 가장 먼저 처리합니다.",
        ),
        "fields": [_field("coin"), _field("txid")],
    },
    {
        "slug": "withdrawal",
        "team": "wallet",
        "helpcenter": "withdrawal",
        "names": ("Withdrawal", "提币", "出金", "출금"),
        "descriptions": (
            "A withdrawal that is pending, was rejected or has not arrived.",
            "提币处理中、被拒绝或尚未到账。",
            "出金が保留中、拒否された、または着金しない。",
            "출금이 대기 중이거나 거절되었거나 아직 도착하지 않았습니다.",
        ),
        "fields": _transfer_fields("withdrawal_address"),
    },
    {
        "slug": "deposit",
        "team": "wallet",
        "helpcenter": "deposit",
        "names": ("Deposit", "充币", "入金", "입금"),
        "descriptions": (
            "A deposit that has not been credited, "
            "or was sent on the wrong network or without a memo.",
            "充币未到账，或充错网络、漏填 Memo。",
            "入金が反映されない、ネットワークを間違えた、またはメモを入力し忘れた。",
            "입금이 반영되지 않았거나 잘못된 네트워크로 보냈거나 메모를 빠뜨렸습니다.",
        ),
        "fields": _transfer_fields("deposit_address"),
    },
    {
        "slug": "security-2fa",
        "team": "account-security",
        "helpcenter": "two-factor-authentication",
        "names": (
            "2FA & security settings",
            "二次验证（2FA）与安全设置",
            "二段階認証（2FA）とセキュリティ設定",
            "2단계 인증(2FA) 및 보안 설정",
        ),
        "descriptions": (
            "Lost authenticator, resetting 2FA, anti-phishing code.",
            "丢失验证器、重置二次验证、防钓鱼码。",
            "認証アプリの紛失、二段階認証のリセット、フィッシング対策コード。",
            "인증 앱 분실, 2단계 인증 재설정, 피싱 방지 코드.",
        ),
        "fields": [],
    },
    {
        "slug": "kyc",
        "team": "account-security",
        "helpcenter": "identity-verification",
        "names": (
            "Identity verification (KYC)",
            "身份认证（KYC）",
            "本人確認（KYC）",
            "신원 인증(KYC)",
        ),
        "descriptions": (
            "Rejected verification, review status, documents.",
            "认证被拒、审核进度、证件问题。",
            "審査の否認、審査状況、提出書類について。",
            "인증 거절, 심사 진행 상황, 제출 서류 문제.",
        ),
        "fields": [],
    },
    {
        "slug": "account-login",
        "team": "account-security",
        "helpcenter": "login-problems",
        "names": ("Account & sign-in", "账户与登录", "アカウントとログイン", "계정 및 로그인"),
        "descriptions": (
            "Cannot sign in, frozen account, changing email or phone number.",
            "无法登录、账户被冻结、更换邮箱或手机号。",
            "ログインできない、アカウントの凍結、メールアドレス・電話番号の変更。",
            "로그인 불가, 계정 동결, 이메일·휴대폰 번호 변경.",
        ),
        "fields": [_field("uid")],
    },
    {
        "slug": "trading",
        "team": "trading",
        "helpcenter": "spot-trading",
        "names": (
            "Spot & futures trading",
            "现货与合约交易",
            "現物・先物取引",
            "현물 및 선물 거래",
        ),
        "descriptions": (
            "Orders, liquidations, funding fees.",
            "订单、强平、资金费用。",
            "注文、強制決済、資金調達手数料。",
            "주문, 강제 청산, 펀딩 수수료.",
        ),
        "fields": [_field("order_id"), _field("trading_pair")],
    },
    {
        "slug": "fiat-p2p",
        "team": "wallet",
        "helpcenter": "fiat-p2p",
        "names": ("Fiat & P2P", "法币与 P2P", "法定通貨とP2P", "법정화폐 및 P2P"),
        "descriptions": (
            "Card and bank payments, P2P order appeals.",
            "银行卡与银行转账支付、P2P 订单申诉。",
            "カード・銀行振込での支払い、P2P注文の申し立て。",
            "카드·은행 결제, P2P 주문 이의 제기.",
        ),
        "fields": [_field("order_id")],
    },
    {
        "slug": "api",
        "team": "trading",
        "helpcenter": "api",
        "names": ("API", "API", "API", "API"),
        "descriptions": (
            "API keys, rate limits and error codes.",
            "API 密钥、频率限制与错误码。",
            "APIキー、レート制限、エラーコード。",
            "API 키, 호출 제한, 오류 코드.",
        ),
        "fields": [],
    },
    {
        "slug": "other",
        "team": "general",
        "helpcenter": None,
        "names": ("Something else", "其他问题", "その他", "기타 문의"),
        "descriptions": (
            "None of the above? Tell us what happened.",
            "以上都不是？请告诉我们发生了什么。",
            "上記に当てはまらない場合は、状況をお知らせください。",
            "위에 해당하지 않나요? 어떤 일이 있었는지 알려 주세요.",
        ),
        "fields": [],
    },
]

_SUFFIXES = ("en", "zh_hans", "ja", "ko")


def _localized(prefix: str, values: tuple[str, ...]) -> dict[str, str]:
    return {f"{prefix}_{suffix}": value for suffix, value in zip(_SUFFIXES, values, strict=True)}


def ensure_default_categories(apps: Any = None) -> None:
    """Create the default teams, categories and fields that do not exist yet.

    `apps` is a migration's app registry (historical models); the current
    models are used otherwise. Existing rows are never changed, except that a
    category without a help-center link gets one once that category exists.
    """
    if apps is None:
        from django.apps import apps as current_apps

        apps = current_apps
    Team = apps.get_model("tickets", "Team")
    TicketCategory = apps.get_model("tickets", "TicketCategory")
    TicketField = apps.get_model("tickets", "TicketField")
    HelpCategory = apps.get_model("helpcenter", "Category")

    teams = {
        slug: Team.objects.get_or_create(slug=slug, defaults=_localized("name", names))[0]
        for slug, names in TEAMS.items()
    }
    help_categories = {
        category.slug: category
        for category in HelpCategory.objects.filter(
            slug__in=[spec["helpcenter"] for spec in CATEGORIES if spec["helpcenter"]]
        )
    }
    for position, spec in enumerate(CATEGORIES):
        category, created = TicketCategory.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                **_localized("name", spec["names"]),
                **_localized("description", spec["descriptions"]),
                "position": position * 10,
                "team": teams[spec["team"]],
                "default_priority": spec.get("default_priority", 20),
                "is_compromise": spec.get("is_compromise", False),
            },
        )
        help_category = help_categories.get(spec["helpcenter"] or "")
        if help_category is not None and category.helpcenter_category_id is None:
            category.helpcenter_category = help_category
            category.save(update_fields=["helpcenter_category"])
        if not created:
            continue
        for field_position, field in enumerate(spec["fields"]):
            TicketField.objects.get_or_create(
                category=category,
                key=field["key"],
                defaults={**field, "position": field_position * 10},
            )


# The SLA targets of a 7×24 crypto desk, per priority: (name, first response, next
# response, resolution) in minutes. Round the clock: no business-hours calendar.
_HOUR = 60
DEFAULT_SLA_TARGETS: dict[int, tuple[str, int, int, int]] = {
    40: ("Urgent (7×24)", 30, 1 * _HOUR, 8 * _HOUR),
    30: ("High (7×24)", 2 * _HOUR, 4 * _HOUR, 24 * _HOUR),
    20: ("Normal (7×24)", 24 * _HOUR, 24 * _HOUR, 72 * _HOUR),
    10: ("Low (7×24)", 72 * _HOUR, 72 * _HOUR, 7 * 24 * _HOUR),
}


def ensure_default_sla_policies(apps: Any = None) -> None:
    """Create the shipped SLA policies when there are none at all.

    Once an administrator has policies of their own (or deleted these on
    purpose and made others), nothing is added or changed.
    """
    if apps is None:
        from django.apps import apps as current_apps

        apps = current_apps
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    if SlaPolicy.objects.exists():
        return
    SlaPolicy.objects.bulk_create(
        SlaPolicy(
            name=name,
            position=(position + 1) * 10,
            priority=priority,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
            warn_at_percent=75,
            escalate_on_breach=False,
        )
        for position, (priority, (name, first, following, resolution)) in enumerate(
            DEFAULT_SLA_TARGETS.items()
        )
    )
