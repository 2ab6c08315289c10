"""Every write to accounts: registration, verification, profile, roles, presence.

Views, the API, the admin and management commands call these functions; they
never save users or profiles themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import AgentProfile, Presence, User, generate_uid
from accounts.roles import EXTRA_GROUPS, ROLE_PERMISSIONS, Role
from accounts.tasks import account_email_send


def roles_sync(*, using: str = "default") -> None:
    """Create the role groups (and `EXTRA_GROUPS`) with exactly the permissions listed."""
    every_permission = Permission.objects.using(using).all()
    by_name = {
        f"{perm.content_type.app_label}.{perm.codename}": perm
        for perm in every_permission.select_related("content_type")
    }
    tables = {role.group_name: names for role, names in ROLE_PERMISSIONS.items()}
    tables.update(EXTRA_GROUPS)
    for group_name, names in tables.items():
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        wanted = (
            list(by_name.values())
            if names is None
            else [by_name[name] for name in sorted(names) if name in by_name]
        )
        group.permissions.set(wanted)


def user_register(
    *,
    email: str,
    password: str,
    display_name: str = "",
    preferred_language: str = "en",
    time_zone: str = "UTC",
) -> User:
    """Create an unverified customer account and email it a verification link.

    The email is queued after the surrounding transaction commits.
    """
    with transaction.atomic():
        user = _create_user_with_unique_uid(
            email=email,
            password=password,
            display_name=display_name.strip(),
            preferred_language=preferred_language,
            time_zone=time_zone,
        )
        user_set_role(user=user, role=Role.CUSTOMER)
        account_email_send.delay_on_commit(user.pk, "verify_email")
    return user


def user_create_from_email(
    *, email: str, display_name: str = "", preferred_language: str = "en"
) -> User:
    """Create an unverified customer account for someone who wrote to support by email.

    The account has no usable password, so nobody can sign in with it, and
    no verification email is sent: a From address proves nothing (anyone can
    forge one), and mail the person did not ask for would be spam. Their
    requests are answered by email; to use the website they ask for a
    password-reset link ("Forgot your password?"), which only the mailbox's
    owner receives. Raises IntegrityError when the address already has an account.
    """
    with transaction.atomic():
        user = _create_user_with_unique_uid(
            email=email,
            password=None,
            display_name=display_name.strip(),
            preferred_language=preferred_language,
        )
        user_set_role(user=user, role=Role.CUSTOMER)
    return user


def _create_user_with_unique_uid(**fields) -> User:
    # A 9-digit random UID collides rarely; retry instead of failing sign-up.
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return User.objects.create_user(**fields)
        except IntegrityError:
            if User.objects.filter(email__iexact=fields["email"]).exists():
                raise
            fields["uid"] = generate_uid()
    raise IntegrityError("Could not allocate a unique UID.")


def user_send_verification(*, user: User) -> bool:
    """Queue a new verification email; return False when the address is already verified."""
    if user.is_email_verified:
        return False
    account_email_send.delay_on_commit(user.pk, "verify_email")
    return True


def user_verify_email(*, user: User) -> bool:
    """Mark the user's address verified; return False if it already was."""
    updated = User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    user.refresh_from_db(fields=["email_verified_at"])
    return bool(updated)


def user_request_password_reset(*, email: str) -> None:
    """Queue a password-reset email if an active account uses `email`.

    Says nothing about whether it does, so the form cannot reveal who has an account.
    An account without a password (opened by emailing support, see
    `user_create_from_email`) gets the link too: that is how its owner claims it.
    """
    for user in User.objects.filter(email__iexact=email.strip(), is_active=True):
        account_email_send.delay_on_commit(user.pk, "password_reset")


def user_update_profile(
    *,
    user: User,
    display_name: str,
    preferred_language: str,
    time_zone: str,
    wants_optional_emails: bool | None = None,
) -> User:
    """Save the fields a user may edit on their own profile (None: leave as it is)."""
    user.display_name = display_name.strip()
    user.preferred_language = preferred_language
    user.time_zone = time_zone
    if wants_optional_emails is not None:
        user.wants_optional_emails = wants_optional_emails
    user.full_clean(exclude=["password"])
    user.save(
        update_fields=["display_name", "preferred_language", "time_zone", "wants_optional_emails"]
    )
    return user


_UNSUBSCRIBE_SALT = "accounts.unsubscribe-optional-emails"


def user_unsubscribe_token(user: User) -> str:
    """A signed token for the unsubscribe link in optional emails.

    It never expires: a link in an old email must still work. It names the
    account by its public UID and can do one thing only, turn optional emails off.
    """
    return signing.dumps(user.uid, salt=_UNSUBSCRIBE_SALT)


def user_for_unsubscribe_token(token: str) -> User | None:
    """The active account a token was issued to, or None if it is forged or unknown."""
    try:
        uid = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return User.objects.filter(uid=str(uid), is_active=True).first()


def user_turn_off_optional_emails(*, user: User) -> bool:
    """Stop reminders and other optional emails; return False if they already were off."""
    updated = User.objects.filter(pk=user.pk, wants_optional_emails=True).update(
        wants_optional_emails=False
    )
    user.wants_optional_emails = False
    return bool(updated)


def user_set_language(*, user: User, language: str) -> None:
    """Remember `language` as the user's preference (used for pages and emails)."""
    if user.preferred_language != language:
        User.objects.filter(pk=user.pk).update(preferred_language=language)
        user.preferred_language = language


def user_set_role(*, user: User, role: Role) -> None:
    """Put the user in exactly one role group; staff access follows the role.

    Agents and above get an agent profile so routing can find them.
    """
    with transaction.atomic():
        role_groups = Group.objects.filter(name__in=[r.group_name for r in Role])
        user.groups.remove(*role_groups)
        user.groups.add(Group.objects.get(name=role.group_name))
        if user.is_staff != role.is_staff:
            user.is_staff = role.is_staff
            user.save(update_fields=["is_staff"])
        if role is not Role.CUSTOMER:
            AgentProfile.objects.get_or_create(user=user)
    # The cached role and permission sets are stale now.
    for attr in ("role", "_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)


def agent_profile_update(
    *,
    profile: AgentProfile,
    languages: Iterable[str],
    skill_ids: Iterable[int] = (),
    max_concurrent_chats: int | None = None,
) -> AgentProfile:
    """Set what an agent speaks, handles and can take on."""
    profile.languages = list(dict.fromkeys(languages))
    if max_concurrent_chats is not None:
        profile.max_concurrent_chats = max_concurrent_chats
    profile.full_clean(exclude=["user"])
    profile.save(update_fields=["languages", "max_concurrent_chats"])
    profile.skills.set(list(skill_ids))
    return profile


def agent_set_presence(*, profile: AgentProfile, presence: Presence) -> AgentProfile:
    """Switch the agent between online, away and offline."""
    if profile.presence != presence:
        profile.presence = presence
        profile.presence_changed_at = timezone.now()
        profile.save(update_fields=["presence", "presence_changed_at"])
    return profile
