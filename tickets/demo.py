"""Demo teams, canned replies and a few requests in every state (used by `seed_demo`).

Runs after the help-center and account demos: it links the shipped request
categories to the demo help-center categories, puts the demo agents in teams,
and files requests through the same services a customer's browser uses.
"""

from __future__ import annotations

from accounts.models import User
from tickets import services
from tickets.defaults import ensure_default_categories, ensure_default_sla_policies
from tickets.lifecycle import Status
from tickets.models import Macro, Team, TeamMembership, Ticket, TicketCategory

# agent email → (team slugs, supervises those teams)
MEMBERSHIPS = {
    "agent.zh@example.com": (["wallet", "general"], False),
    "agent.ja@example.com": (["account-security", "general"], False),
    "agent.ko@example.com": (["trading", "wallet"], False),
    "supervisor@example.com": (["wallet", "account-security", "trading", "general"], True),
}

# (language, title, body); placeholders are filled by tickets.selectors.macro_render.
MACROS = [
    (
        "en",
        "Ask for the TXID",
        "Hello {customer_name},\n\nThank you for contacting us about {reference}. To trace the "
        "transfer, please send the transaction ID (TXID) and a screenshot of the withdrawal "
        "record.\n\nSupport will never ask for your password, 2FA codes or seed phrase.\n\n"
        "{agent_name}",
    ),
    (
        "en",
        "Withdrawal confirmed on chain",
        "Hello {customer_name},\n\nThe withdrawal in {reference} is confirmed on chain. If your "
        "receiving platform has not credited it yet, please send them the TXID.\n\n{agent_name}",
    ),
    (
        "zh-hans",
        "索取 TXID",
        "{customer_name} 您好：\n\n感谢您就 {reference} 联系我们。为了追踪这笔转账，请提供交易 ID"
        "（TXID）以及提币记录截图。\n\n客服绝不会向您索要密码、双重验证码或助记词。\n\n{agent_name}",
    ),
    (
        "zh-hans",
        "提币已链上确认",
        "{customer_name} 您好：\n\n工单 {reference} 中的提币已在链上确认。如果接收平台尚未到账，"
        "请将 TXID 提供给对方平台查询。\n\n{agent_name}",
    ),
    (
        "ja",
        "TXIDのご提供のお願い",
        "{customer_name} 様\n\n{reference} についてお問い合わせいただきありがとうございます。"
        "送金を確認するため、トランザクションID（TXID）と出金履歴のスクリーンショットをお送り"
        "ください。\n\nサポートがパスワード、二段階認証コード、シードフレーズを伺うことは"
        "ありません。\n\n{agent_name}",
    ),
    (
        "ko",
        "TXID 요청",
        "{customer_name}님, 안녕하세요.\n\n{reference} 문의 감사합니다. 전송 내역을 확인할 수 "
        "있도록 트랜잭션 ID(TXID)와 출금 내역 스크린샷을 보내 주세요.\n\n고객지원팀은 "
        "비밀번호, 2단계 인증 코드, 시드 문구를 절대 묻지 않습니다.\n\n{agent_name}",
    ),
]

TRC20_TXID = "3f7a9c0e5b2d4f6a8c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a"
TRC20_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def seed(*, reveal_secrets: bool) -> list[str]:
    """Create what is missing; never duplicates a demo request. Returns report lines."""
    ensure_default_categories()
    ensure_default_sla_policies()
    teams = {team.slug: team for team in Team.objects.all()}
    for email, (team_slugs, supervises) in MEMBERSHIPS.items():
        user = User.objects.get(email=email)
        for slug in team_slugs:
            TeamMembership.objects.update_or_create(
                team=teams[slug], user=user, defaults={"is_supervisor": supervises}
            )
    for language, title, body in MACROS:
        Macro.objects.get_or_create(language=language, title=title, defaults={"body": body})

    lines = [f"{len(MEMBERSHIPS)} agents in {len(teams)} teams, {len(MACROS)} canned replies"]
    for reference, subject in _demo_requests():
        lines.append(f"{reference}  {subject}")
    return lines


def _demo_requests() -> list[tuple[str, str]]:
    li_wei = User.objects.get(email="li.wei@example.com")
    alex = User.objects.get(email="customer@example.com")
    sato = User.objects.get(email="sato.yuki@example.com")
    agent_zh = User.objects.get(email="agent.zh@example.com")
    categories = {category.slug: category for category in TicketCategory.objects.all()}
    made = []

    withdrawal = _file(
        li_wei,
        categories["withdrawal"],
        "USDT 提币 3 小时还没到账",
        "我从交易所提了 500 USDT（TRC20）到自己的钱包，已经 3 个小时了还没到账。",
        {
            "coin": "USDT",
            "network": "TRC20",
            "amount": "500",
            "address": TRC20_ADDRESS,
            "txid": TRC20_TXID,
        },
        "zh-hans",
    )
    if withdrawal is not None:
        services.ticket_reply(
            ticket=withdrawal,
            author=agent_zh,
            body="您好，我们已在链上查到这笔提币，正在与钱包方核对，请稍候。",
        )
        services.ticket_reply(
            ticket=withdrawal,
            author=agent_zh,
            body="Wallet team confirmed 19 confirmations; waiting for the receiver to credit.",
            internal=True,
        )
        made.append(withdrawal)

    deposit = _file(
        alex,
        categories["deposit"],
        "ETH deposit not credited",
        "I sent 0.8 ETH from my hardware wallet two hours ago and it is not in my balance.",
        {
            "coin": "ETH",
            "network": "ERC20",
            "amount": "0.8",
            "address": "0x52908400098527886E0F7030069857D2E4169EE7",
            "txid": "0x" + "5c0e" * 16,
        },
        "en",
    )
    if deposit is not None:
        deposit.refresh_from_db()
        if deposit.assignee is None:
            services.ticket_assign(
                ticket=deposit,
                actor=agent_zh,
                assignee=agent_zh,
                expected_version=deposit.version,
            )
            deposit.refresh_from_db()
        services.ticket_reply(
            ticket=deposit,
            author=agent_zh,
            body="Hello Alex, the transfer has 3 of 12 confirmations. Could you send a screenshot "
            "of the sending wallet's record so we can match the amount?",
        )
        deposit.refresh_from_db()
        services.ticket_change_status(
            ticket=deposit,
            actor=agent_zh,
            to_status=Status.WAITING,
            expected_version=deposit.version,
        )
        made.append(deposit)

    solved = _file(
        sato,
        categories["security-2fa"],
        "二段階認証アプリを新しいスマホに移したい",
        "機種変更したので、認証アプリを新しいスマホに移す方法を教えてください。",
        {},
        "ja",
    )
    if solved is not None:
        agent_ja = User.objects.get(email="agent.ja@example.com")
        services.ticket_reply(
            ticket=solved,
            author=agent_ja,
            body="ヘルプセンターの「二段階認証のリセット」の手順で移行できます。",
        )
        solved.refresh_from_db()
        services.ticket_solve_by_customer(ticket=solved, customer=sato)
        services.ticket_rate(ticket=solved, customer=sato, rating="good", comment="助かりました")
        made.append(solved)
    return [(ticket.reference, ticket.subject) for ticket in made]


def _file(
    requester: User,
    category: TicketCategory,
    subject: str,
    description: str,
    fields: dict[str, str],
    language: str,
) -> Ticket | None:
    """File a demo request unless its requester already has one with that subject."""
    if Ticket.objects.filter(requester=requester, subject=subject).exists():
        return None
    return services.ticket_create(
        requester=requester,
        category=category,
        subject=subject,
        description=description,
        fields=fields,
        language=language,
    )
