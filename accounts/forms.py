"""Input shapes of the account pages."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Presence, User, validate_display_name
from accounts.services import user_request_password_reset


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    zones = sorted(
        zone
        for zone in zoneinfo.available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/"))
    )
    return [("UTC", "UTC"), *((zone, zone.replace("_", " ")) for zone in zones)]


def _supported_time_zone(value: str | None) -> str:
    return value if value in zoneinfo.available_timezones() else "UTC"


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    display_name = forms.CharField(
        label=_("Name shown to support"),
        max_length=80,
        required=False,
        validators=[validate_display_name],
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common or all-numeric password."),
    )
    password2 = forms.CharField(
        label=_("Repeat password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # Filled in by the browser (Intl API); the profile page can change it later.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "An account with this email address already exists. "
                    "Sign in or reset your password."
                ),
                code="duplicate_email",
            )
        return email

    def clean_time_zone(self) -> str:
        return _supported_time_zone(self.cleaned_data.get("time_zone"))

    def clean(self) -> dict:
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            candidate = User(
                email=cleaned.get("email", ""), display_name=cleaned.get("display_name", "")
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """Sign-in by email; unverified addresses are told how to finish sign-up."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email address and password do not match an account."),
        "unverified": _(
            "Please confirm your email address first: open the link we sent you, "
            "or ask for a new one below."
        ),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        if not user.is_email_verified:
            raise forms.ValidationError(self.error_messages["unverified"], code="unverified")


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's reset form, but the email goes through the worker, not the request."""

    def save(self, *args, **kwargs) -> None:  # noqa: ARG002 - Django passes mail options
        user_request_password_reset(email=self.cleaned_data["email"])


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = User
        fields = ["display_name", "preferred_language", "time_zone", "wants_optional_emails"]
        labels = {
            "display_name": _("Name shown to support"),
            "preferred_language": _("Language for pages and emails"),
            "wants_optional_emails": _("Email me reminders and other optional messages"),
        }
        help_texts = {
            "wants_optional_emails": _(
                "Confirmations of your requests, answers from support and status changes "
                "are always emailed."
            ),
        }


class PresenceForm(forms.Form):
    presence = forms.ChoiceField(label=_("Presence"), choices=Presence.choices)


def language_is_supported(code: str | None) -> bool:
    return code in {language for language, _name in settings.LANGUAGES}
