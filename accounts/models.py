"""People who use the portal: customers, agents, supervisors and admins."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

UID_DIGITS = 9


def generate_uid() -> str:
    """Return a random 9-digit public UID (no leading zero, not sequential)."""
    return str(secrets.randbelow(9 * 10 ** (UID_DIGITS - 1)) + 10 ** (UID_DIGITS - 1))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


def validate_display_name(value: str) -> None:
    # Names appear in agents' queues and in emails: markup and control
    # characters have no place there.
    if any(char in value for char in "<>") or any(ord(char) < 32 for char in value):
        raise ValidationError(
            _("A name cannot contain < or > or control characters."), code="invalid_name"
        )


def language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields) -> User:
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified_at", timezone.now())
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username: str | None) -> User:
        # Addresses are stored lower-cased; sign-in is case-insensitive.
        return self.get(**{self.model.USERNAME_FIELD: (username or "").lower()})


class User(AbstractBaseUser, PermissionsMixin):
    """An account that signs in with its email address.

    `uid` is the public reference a customer quotes to support; the primary key
    never leaves the server.
    """

    email = models.EmailField(_("email address"), unique=True)
    uid = models.CharField(
        _("UID"), max_length=16, unique=True, default=generate_uid, editable=False
    )
    display_name = models.CharField(
        _("display name"), max_length=80, blank=True, validators=[validate_display_name]
    )
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=language_choices,
        default="en",
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    # Confirmations, replies and status changes always go out; this turns off the
    # rest (reminders and similar nudges), see tickets.notifications.
    wants_optional_emails = models.BooleanField(
        _("reminders and other optional emails"), default=True
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can sign in to the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("access_agent_console", _("Can use the agent console")),
            ("supervise_agents", _("Can supervise agents and teams")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@", 1)[0]

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @cached_property
    def role(self) -> Role:
        """The user's role, from the groups they belong to (highest wins)."""
        if self.is_superuser:
            return Role.ADMIN
        names = {group.name for group in self.groups.all()}
        for role in reversed(Role.ordered()):
            if role.group_name in names:
                return role
        return Role.CUSTOMER

    @property
    def is_agent(self) -> bool:
        return self.role in {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}


class Presence(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class AgentProfile(models.Model):
    """What routing needs to know about an agent: languages, skills, capacity, presence."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("user"),
    )
    languages = models.JSONField(
        _("languages spoken"),
        default=list,
        blank=True,
        help_text=_('Language codes this agent answers in, e.g. ["zh-hans", "en"].'),
    )
    skills = models.ManyToManyField(
        "helpcenter.Category",
        blank=True,
        related_name="skilled_agents",
        verbose_name=_("skills"),
        help_text=_("Help-center categories this agent handles."),
    )
    max_concurrent_chats = models.PositiveSmallIntegerField(
        _("maximum concurrent chats"), default=3
    )
    presence = models.CharField(
        _("presence"),
        max_length=10,
        choices=Presence,
        default=Presence.OFFLINE,
        db_index=True,
    )
    presence_changed_at = models.DateTimeField(_("presence changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    PRESENCE_CHOICES = Presence.choices

    def __str__(self) -> str:
        return str(self.user)

    @property
    def language_names(self) -> list[str]:
        names = dict(settings.LANGUAGES)
        return [names[code] for code in self.languages if code in names]

    def clean(self) -> None:
        super().clean()
        known = {code for code, _name in settings.LANGUAGES}
        if not isinstance(self.languages, list) or not all(
            code in known for code in self.languages
        ):
            raise ValidationError(
                {
                    "languages": _("Choose languages from: %(codes)s.")
                    % {"codes": ", ".join(sorted(known))}
                }
            )
