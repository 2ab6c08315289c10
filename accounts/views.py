"""Account pages: sign-up, email verification, sign-in, profile, language and presence."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy, translate_url
from django.utils import translation
from django.utils.translation import get_language_from_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import services, throttling
from accounts.forms import (
    EmailAuthenticationForm,
    PresenceForm,
    ProfileForm,
    QueuedPasswordResetForm,
    ResendVerificationForm,
    SignUpForm,
    language_is_supported,
)
from accounts.models import AgentProfile, Presence, User
from accounts.tokens import user_for_verification_token


def _remember_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
    )
    return response


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and not throttling.allow(
        "signup-ip", throttling.client_ip(request)
    ):
        form.add_error(
            None, _("Too many accounts were created from your network. Try again later.")
        )
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.user_register(
            email=data["email"],
            password=data["password1"],
            display_name=data["display_name"],
            preferred_language=translation.get_language(),
            time_zone=data["time_zone"],
        )
        request.session["signup_email"] = data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form})


@login_not_required
def signup_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get("signup_email", "")
    return render(
        request,
        "accounts/signup_done.html",
        {"email": email, "resend_form": ResendVerificationForm(initial={"email": email})},
    )


@login_not_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    form = ResendVerificationForm(request.POST)
    if form.is_valid():
        email = form.cleaned_data["email"].lower()
        # One email a minute per address, whoever asks: no mail bombing.
        if _may_send_email(request, email):
            user = User.objects.filter(email__iexact=email, is_active=True).first()
            if user is not None:
                services.user_send_verification(user=user)
        # The same answer whether or not the address has an account.
        messages.info(
            request,
            _("If %(email)s has an unconfirmed account, a new link is on its way.")
            % {"email": email},
        )
        request.session["signup_email"] = email
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect("accounts:signup_done")


@login_not_required
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    user = user_for_verification_token(token)
    if user is None:
        return render(request, "accounts/verify_email_invalid.html", status=400)
    newly_verified = services.user_verify_email(user=user)
    return render(
        request,
        "accounts/verify_email_done.html",
        {"verified_user": user, "newly_verified": newly_verified},
    )


def _may_send_email(request: HttpRequest, address: str) -> bool:
    return throttling.allow("email-per-address", address) and throttling.allow(
        "email-per-ip", throttling.client_ip(request)
    )


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["show_resend"] = form.is_bound and form.has_error("__all__", "unverified")
        context["resend_form"] = ResendVerificationForm(
            initial={"email": form.data.get("username", "")} if form.is_bound else None
        )
        return context

    def get_redirect_url(self) -> str:
        target = super().get_redirect_url()
        # A `next` pointing back at this page would loop once signed in.
        if target and urlsplit(target).path == self.request.path:
            return ""
        return target

    def get_success_url(self) -> str:
        # Land in the user's saved language, not the one the login page had.
        language = self.request.user.preferred_language
        target = self.get_redirect_url()
        if target:
            return translate_url(target, language)
        with translation.override(language):
            return reverse(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form):
        response = super().form_valid(form)
        return _remember_language(response, self.request.user.preferred_language)


def login_locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """Page shown instead of the sign-in form once too many attempts failed."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    return render(request, "accounts/locked_out.html", {"minutes": minutes}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = QueuedPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Over the limit, answer exactly as usual but send nothing: the page must
        # not reveal whether the address has an account or was throttled.
        if not _may_send_email(self.request, form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The link reached the mailbox: the address is proven (and an account
        # opened by email is now claimed by its owner).
        services.user_verify_email(user=form.user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.user_update_profile(
            user=user,
            display_name=data["display_name"],
            preferred_language=data["preferred_language"],
            time_zone=data["time_zone"],
            wants_optional_emails=data["wants_optional_emails"],
        )
        with translation.override(user.preferred_language):
            messages.success(request, _("Your profile has been saved."))
            target = reverse("accounts:profile")
        return _remember_language(HttpResponseRedirect(target), user.preferred_language)
    return render(request, "accounts/profile.html", {"form": form})


def _masked(email: str) -> str:
    """li.wei@example.com → li***@example.com: enough to recognise, not to harvest."""
    local, _at, domain = email.partition("@")
    return f"{local[:2]}***@{domain}"


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Turn optional emails off from the link in one, without signing in.

    GET only asks: mail scanners open links by themselves, and that must not
    unsubscribe anyone. The button, or a mail client's own one-click
    "unsubscribe" (RFC 8058, a POST to this address), does it. The signed
    token is the credential, hence no CSRF token: a forged POST would need
    it, and could only turn reminders off.
    """
    subscriber = services.user_for_unsubscribe_token(token)
    if subscriber is None:
        return render(request, "accounts/unsubscribe_invalid.html", status=400)
    done = request.method == "POST"
    if done:
        services.user_turn_off_optional_emails(user=subscriber)
    return render(
        request,
        "accounts/unsubscribe.html",
        {"done": done, "masked_email": _masked(subscriber.email)},
    )


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the page language; signed-in users also keep it as their preference."""
    language = request.POST.get("language")
    if request.user.is_authenticated and language_is_supported(language):
        services.user_set_language(user=request.user, language=language)
    # Django's view checks `next` against open redirects and translates it, but
    # it resolves `next` in the active language: make that the page's language.
    page_language = get_language_from_path(request.POST.get("next", ""))
    if page_language:
        translation.activate(page_language)
    return django_set_language(request)


@permission_required("accounts.access_agent_console", raise_exception=True)
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    form = PresenceForm(request.POST)
    profile = get_object_or_404(AgentProfile, user=request.user)
    if form.is_valid():
        services.agent_set_presence(
            profile=profile, presence=Presence(form.cleaned_data["presence"])
        )
        messages.success(
            request,
            _("Presence set to: %(presence)s.") % {"presence": profile.get_presence_display()},
        )
    return redirect("console")
