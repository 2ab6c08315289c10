"""Demo people for every role (used by `seed_demo`)."""

from __future__ import annotations

from django.utils import timezone

from accounts import services
from accounts.models import AgentProfile, Presence, User
from accounts.roles import Role
from helpcenter.models import Category

# email, display name, role, language, time zone, password,
# agent languages, agent skills (category slugs), max chats, presence
DEMO_USERS = [
    (
        "customer@example.com",
        "Alex Morgan",
        Role.CUSTOMER,
        "en",
        "Europe/London",
        "demo-customer-2026",
        None,
    ),
    (
        "li.wei@example.com",
        "李伟",
        Role.CUSTOMER,
        "zh-hans",
        "Asia/Shanghai",
        "demo-customer-2026",
        None,
    ),
    (
        "sato.yuki@example.com",
        "佐藤 由紀",
        Role.CUSTOMER,
        "ja",
        "Asia/Tokyo",
        "demo-customer-2026",
        None,
    ),
    (
        "kim.minjun@example.com",
        "김민준",
        Role.CUSTOMER,
        "ko",
        "Asia/Seoul",
        "demo-customer-2026",
        None,
    ),
    (
        "agent.zh@example.com",
        "王芳 (Support)",
        Role.AGENT,
        "zh-hans",
        "Asia/Shanghai",
        "demo-agent-2026",
        (["zh-hans", "en"], ["deposit", "withdrawal"], 4, Presence.ONLINE),
    ),
    (
        "agent.ja@example.com",
        "田中 健 (Support)",
        Role.AGENT,
        "ja",
        "Asia/Tokyo",
        "demo-agent-2026",
        (["ja", "en"], ["identity-verification", "security"], 3, Presence.ONLINE),
    ),
    (
        "agent.ko@example.com",
        "박서연 (Support)",
        Role.AGENT,
        "ko",
        "Asia/Seoul",
        "demo-agent-2026",
        (["ko", "en"], ["spot-trading", "futures", "fiat-p2p"], 3, Presence.AWAY),
    ),
    (
        "supervisor@example.com",
        "Maria Chen",
        Role.SUPERVISOR,
        "en",
        "Asia/Singapore",
        "demo-supervisor-2026",
        (["en", "zh-hans"], ["security", "withdrawal"], 2, Presence.ONLINE),
    ),
    (
        "admin@example.com",
        "Portal Admin",
        Role.ADMIN,
        "en",
        "UTC",
        "demo-admin-2026",
        (["en"], [], 0, Presence.OFFLINE),
    ),
]


def seed(*, reveal_secrets: bool) -> list[str]:
    """Create or update the demo users; return a line per user (with its password if asked)."""
    lines = []
    for email, name, role, language, zone, password, agent in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password)
        user.display_name = name
        user.preferred_language = language
        user.time_zone = zone
        user.email_verified_at = user.email_verified_at or timezone.now()
        user.is_superuser = role is Role.ADMIN
        user.save()
        services.user_set_role(user=user, role=role)
        if agent is not None:
            languages, skill_slugs, max_chats, presence = agent
            profile = AgentProfile.objects.get(user=user)
            services.agent_profile_update(
                profile=profile,
                languages=languages,
                skill_ids=Category.objects.filter(slug__in=skill_slugs).values_list(
                    "pk", flat=True
                ),
                max_concurrent_chats=max_chats,
            )
            services.agent_set_presence(profile=profile, presence=presence)
        shown = password if reveal_secrets else "(password hidden)"
        lines.append(f"{role.value:<10} {email:<26} {shown:<22} UID {user.uid}")
    return lines
