"""Customer pages for support requests, and the attachment downloads agents share.

Every page needs a signed-in user (LoginRequiredMiddleware). A request is
fetched with `selectors.ticket_for_customer`, so anybody but its requester
(agents included: they work in the console) gets the same 404 as for a
reference that does not exist. Writes go through `tickets.services`; their
ValidationErrors (TransitionError and ConcurrentChangeError among them) are
shown as messages or next to the inputs, never as a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from helpcenter import selectors as helpcenter_selectors
from helpcenter.paging import page_for
from tickets import networks, selectors, services, sla_targets
from tickets.forms import (
    STATUS_FILTERS,
    DeflectionForm,
    RatingForm,
    ReplyForm,
    RequestFilterForm,
    RequestForm,
    VersionForm,
)
from tickets.lifecycle import ActorKind, Status, can_transition, reopen_window
from tickets.models import Attachment, FieldType, Message, Ticket
from tickets.permissions import can_view_attachment

# Attachment responses: nothing in a file may run, load or style anything.
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


# Submitting ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    categories = list(selectors.active_categories())
    if request.method == "GET":
        chosen = request.GET.get("category", "")
        initial = {"category": chosen} if chosen in {c.slug for c in categories} else {}
        return _render_new(
            request, RequestForm(user=request.user, categories=categories, initial=initial)
        )
    form = RequestForm(request.POST, request.FILES, user=request.user, categories=categories)
    if "choose_category" in request.POST:
        # Step one of the form without JavaScript: show the chosen category's fields.
        slug = request.POST.get("category", "")
        if slug in form.categories:
            return redirect(f"{reverse('tickets:new')}?{urlencode({'category': slug})}")
        form.full_clean()
        return _render_new(request, form)
    if not form.is_valid():
        return _render_new(request, form)
    return _submit(request, form, categories)


def _submit(request: HttpRequest, form: RequestForm, categories: Sequence) -> HttpResponse:
    data = form.cleaned_data
    user = request.user
    target = selectors.ticket_for_customer(user, data["add_to"]) if data["add_to"] else None
    try:
        with services.stored_attachments(data["attachments"], uploaded_by=user) as stored:
            attachments = [*data["pending"], *stored]
            if target is not None:
                message = services.ticket_reply(
                    ticket=target, author=user, body=data["description"], attachments=attachments
                )
                return _after_reply(request, target, message)
            duplicates = (
                []
                if data["confirm_new"]
                else selectors.duplicate_candidates(
                    user, category=data["category"], subject=data["subject"], fields=data["fields"]
                )
            )
            if duplicates:
                # The uploads are kept (committed, unattached) for whichever choice comes next.
                return _render_duplicates(request, categories, attachments, duplicates)
            ticket = services.ticket_create(
                requester=user,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                fields=data["fields"],
                language=get_language(),
                attachments=attachments,
            )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _render_new(request, form)
    return redirect("tickets:submitted", ticket.reference)


def _render_duplicates(
    request: HttpRequest,
    categories: Sequence,
    attachments: Sequence[Attachment],
    duplicates: Sequence[Ticket],
) -> HttpResponse:
    data = request.POST.copy()
    data.setlist("pending", [str(attachment.uuid) for attachment in attachments])
    for name in ("confirm_new", "add_to"):
        data.pop(name, None)
    form = RequestForm(data, user=request.user, categories=categories)
    form.full_clean()
    return _render_new(request, form, duplicates=duplicates)


def _render_new(
    request: HttpRequest, form: RequestForm, *, duplicates: Sequence[Ticket] = ()
) -> HttpResponse:
    return render(
        request,
        "tickets/request_new.html",
        {
            "form": form,
            "duplicates": duplicates,
            "coin_networks": {
                code: [network.code for network in networks.networks_for_coin(code)]
                for code, _label in networks.coin_choices()
            },
        },
    )


@require_GET
def request_submitted(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_customer(request.user, reference)
    expected = sla_targets.expected_first_response(ticket)
    return render(
        request,
        "tickets/request_submitted.html",
        {
            "ticket": ticket,
            "response_time": sla_targets.describe_duration(expected.duration) if expected else "",
            "expected_by": expected.due_at if expected else None,
            "business_hours": expected is not None and expected.business_hours,
        },
    )


@require_POST
def request_deflect(request: HttpRequest) -> HttpResponse:
    """A suggested article solved the problem: count it, and file nothing."""
    form = DeflectionForm(request.POST)
    if not form.is_valid():
        raise Http404
    data = form.cleaned_data
    if helpcenter_selectors.translation_get(data["article"], data["language"]) is None:
        raise Http404
    category = (
        selectors.active_categories().filter(slug=data["category"]).first()
        if data["category"]
        else None
    )
    services.deflection_record(
        user=request.user,
        article_key=data["article"],
        language=data["language"],
        subject=data["subject"],
        category=category,
    )
    query = urlencode({"article": data["article"], "lang": data["language"]})
    return redirect(f"{reverse('tickets:deflected')}?{query}")


@require_GET
def request_deflected(request: HttpRequest) -> HttpResponse:
    key, language = request.GET.get("article", ""), request.GET.get("lang", "")
    translation = None
    if key and language in dict(settings.LANGUAGES):
        translation = helpcenter_selectors.translation_get(key[:120], language)
    article_url = (
        helpcenter_selectors.article_url(translation.article.key, translation.language)
        if translation is not None
        else ""
    )
    return render(
        request,
        "tickets/request_deflected.html",
        {"translation": translation, "article_url": article_url},
    )


# My requests ---------------------------------------------------------------------------


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    form = RequestFilterForm(request.GET)
    status, query = (
        ("", "")
        if not form.is_valid()
        else (
            form.cleaned_data["status"],
            form.cleaned_data["q"],
        )
    )
    page = page_for(request, selectors.customer_tickets(request.user, status=status, query=query))
    return render(
        request,
        "tickets/request_list.html",
        {
            "form": form,
            "page": page,
            "status": status,
            "query": query,
            "filters": _filter_links(status, query),
            "waiting_count": selectors.customer_tickets(
                request.user, status=Status.WAITING
            ).count(),
        },
    )


@dataclass(frozen=True)
class FilterLink:
    value: str
    label: str
    query: str
    current: bool


def _filter_links(status: str, query: str) -> list[FilterLink]:
    links = []
    for value, label in STATUS_FILTERS:
        params = {key: val for key, val in (("status", value), ("q", query)) if val}
        links.append(FilterLink(value, str(label), urlencode(params), value == status))
    return links


# One request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: str
    is_identifier: bool
    explorer_url: str | None


def _field_rows(ticket: Ticket) -> list[FieldRow]:
    form_fields = {field.key: field for field in ticket.category.form_fields.all()}
    network = next(
        (
            ticket.fields.get(field.key, "")
            for field in form_fields.values()
            if field.field_type == FieldType.NETWORK
        ),
        "",
    )
    rows = []
    for key, value in ticket.fields.items():
        field = form_fields.get(key)
        field_type = field.field_type if field else FieldType.TEXT
        explorer = None
        if field_type == FieldType.TXID:
            explorer = networks.explorer_tx_url(network, value)
        elif field_type == FieldType.ADDRESS:
            explorer = networks.explorer_address_url(network, value)
        if field_type == FieldType.NETWORK and value in networks.NETWORKS:
            value = networks.NETWORKS[value].name
        rows.append(
            FieldRow(
                label=field.label if field else key,
                value=str(value),
                is_identifier=field_type in {FieldType.TXID, FieldType.ADDRESS, FieldType.MEMO},
                explorer_url=explorer,
            )
        )
    return rows


def _render_detail(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    rating_form: RatingForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    merged_into = ticket.merged_into
    if merged_into is not None and merged_into.requester_id != request.user.pk:
        # Merged into another customer's request: never name it.
        merged_into = None
    can_rate = (
        ticket.status in (Status.SOLVED, Status.CLOSED)
        and ticket.merged_into_id is None
        and (ticket.rated_at is None or now <= ticket.rated_at + reopen_window())
    )
    reply_opens_follow_up = ticket.status == Status.CLOSED or (
        ticket.status == Status.SOLVED
        and not can_transition(ticket, Status.OPEN, ActorKind.CUSTOMER, now)
    )
    # The promise of the confirmation page, until support has answered (or the
    # request waits on the customer: then the next move is theirs).
    expected = (
        sla_targets.expected_first_response(ticket)
        if ticket.first_response_at is None and ticket.status in (Status.NEW, Status.OPEN)
        else None
    )
    return render(
        request,
        "tickets/request_detail.html",
        {
            "ticket": ticket,
            "timeline": selectors.ticket_timeline(ticket, for_customer=True),
            "field_rows": _field_rows(ticket),
            "merged_into": merged_into,
            "reply_form": reply_form or ReplyForm(),
            "rating_form": rating_form
            or RatingForm(initial={"rating": ticket.rating, "comment": ticket.rating_comment}),
            "can_solve": can_transition(ticket, Status.SOLVED, ActorKind.CUSTOMER, now),
            "can_reopen": ticket.status == Status.SOLVED
            and can_transition(ticket, Status.OPEN, ActorKind.CUSTOMER, now),
            "reopen_until": ticket.solved_at + reopen_window() if ticket.solved_at else None,
            "can_rate": can_rate,
            "reply_opens_follow_up": reply_opens_follow_up and merged_into is None,
            "response_time": sla_targets.describe_duration(expected.duration) if expected else "",
            "expected_by": expected.due_at if expected else None,
            "business_hours": expected is not None and expected.business_hours,
        },
    )


@require_GET
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    return _render_detail(request, selectors.ticket_for_customer(request.user, reference))


@require_POST
def request_reply(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_customer(request.user, reference)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with services.stored_attachments(
                form.cleaned_data["attachments"], uploaded_by=request.user
            ) as attachments:
                message = services.ticket_reply(
                    ticket=ticket,
                    author=request.user,
                    body=form.cleaned_data["body"],
                    attachments=attachments,
                )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return _after_reply(request, ticket, message)
    return _render_detail(request, ticket, reply_form=form)


def _after_reply(request: HttpRequest, ticket: Ticket, message: Message) -> HttpResponse:
    landed = message.ticket
    if landed.pk == ticket.pk:
        messages.success(
            request, _("Your message was added to %(reference)s.") % {"reference": ticket.reference}
        )
        return redirect(
            f"{reverse('tickets:detail', args=[ticket.reference])}#message-{message.pk}"
        )
    names = {"old": ticket.reference, "new": landed.reference}
    if landed.follow_up_of_id == ticket.pk:
        messages.info(
            request,
            _(
                "%(old)s is closed, so your message opened a new request, %(new)s, "
                "linked to it. Please follow up there."
            )
            % names,
        )
    else:
        messages.info(
            request,
            _("%(old)s was merged into %(new)s, so your message was added there.") % names,
        )
    return redirect("tickets:detail", landed.reference)


def _status_action(request: HttpRequest, reference: str, verb, success: str) -> HttpResponse:
    ticket = selectors.ticket_for_customer(request.user, reference)
    form = VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        verb(ticket=ticket, customer=request.user, expected_version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("tickets:detail", ticket.reference)


@require_POST
def request_solve(request: HttpRequest, reference: str) -> HttpResponse:
    return _status_action(
        request,
        reference,
        services.ticket_solve_by_customer,
        _("Thank you. The request is marked as solved."),
    )


@require_POST
def request_reopen(request: HttpRequest, reference: str) -> HttpResponse:
    return _status_action(
        request,
        reference,
        services.ticket_reopen_by_customer,
        _("The request is open again. Tell us what is still wrong."),
    )


@require_POST
def request_rate(request: HttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_customer(request.user, reference)
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_rate(
                ticket=ticket,
                customer=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                # Not about the input (not solved yet, rating final): the form may be gone.
                messages.error(request, " ".join(exc.messages))
                return redirect("tickets:detail", ticket.reference)
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Thank you for rating our support."))
            return redirect(f"{reverse('tickets:detail', args=[ticket.reference])}#rating")
    return _render_detail(request, ticket, rating_form=form)


# Attachments ---------------------------------------------------------------------------


def _serve_attachment(request: HttpRequest, uuid, *, thumbnail: bool) -> FileResponse:
    attachment = Attachment.objects.select_related("message__ticket").filter(uuid=uuid).first()
    if attachment is None or not can_view_attachment(request.user, attachment):
        raise Http404
    stored = attachment.thumbnail if thumbnail else attachment.file
    if not stored:
        raise Http404
    if thumbnail:
        content_type = "image/png" if stored.name.endswith(".png") else "image/jpeg"
    else:
        content_type = attachment.content_type
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # Images are re-encoded by support_portal.uploads and safe to show in the page;
    # PDFs and text are only ever downloaded.
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not content_type.startswith("image/"),
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_cache_control(response, private=True, max_age=3600)
    patch_vary_headers(response, ("Cookie",))
    return response


@require_safe
def attachment_download(request: HttpRequest, uuid) -> FileResponse:
    return _serve_attachment(request, uuid, thumbnail=False)


@require_safe
def attachment_thumbnail(request: HttpRequest, uuid) -> FileResponse:
    return _serve_attachment(request, uuid, thumbnail=True)
