"""The tickets REST API: thin adapters over `tickets.selectors` and `tickets.services`.

- `/api/v1/tickets/…`: a signed-in user's own requests (anyone's reference but
  their own is a 404, like one that does not exist);
- `/api/v1/tickets/agent/…`: the agent inbox and workspace (`tickets.work_tickets`;
  a request outside the agent's scope is a 404).

Errors keep DRF's shape. The services' Django `ValidationError`s become 400s:
`{input: [messages]}` (structured-detail errors nested under `fields`, as they
were sent), or `{"detail", "code"}` for a rule that is not about one input. A
status move the lifecycle table refuses is a 400 with code `invalid_transition`;
a stale `version` is a 409 with code `stale`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from accounts.models import User
from support_portal.throttling import FixedWindowMixin
from tickets import selectors, services
from tickets.api import serializers as s
from tickets.lifecycle import TransitionError
from tickets.models import Attachment, Channel, Ticket
from tickets.permissions import actor_kind_for, is_agent
from tickets.services import ConcurrentChangeError

T = TypeVar("T")

# Inputs of the create form that are not structured details (errors stay top-level).
CREATE_INPUTS = frozenset({"category", "subject", "description", "language", "attachments"})


# Plumbing ---------------------------------------------------------------------------------


class TicketPagination(PageNumberPagination):
    django_paginator_class = selectors.TicketPaginator
    page_size_query_param = "page_size"
    max_page_size = s.MAX_PAGE_SIZE


class TicketWriteThrottle(FixedWindowMixin, UserRateThrottle):
    """New requests and customer replies, per user: a flood of them is spam, not support.

    Rate: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ticket_write"] (API_TICKET_WRITE_RATE).
    """

    scope = "ticket_write"


class IsTicketAgent(BasePermission):
    message = _("Only support agents can use this endpoint.")

    def has_permission(self, request: Request, view) -> bool:
        return is_agent(request.user)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request changed meanwhile.")
    default_code = "stale"


def api_error(
    exc: DjangoValidationError, *, nested: str | None = None, top_level: Collection[str] = ()
) -> exceptions.APIException:
    """The API form of a service's ValidationError.

    With `nested`, error keys outside `top_level` (TicketField keys) go under
    `nested`, mirroring the request body.
    """
    if isinstance(exc, ConcurrentChangeError):
        return Conflict({"detail": " ".join(exc.messages), "code": "stale"})
    if isinstance(exc, TransitionError):
        return exceptions.ValidationError(
            {"detail": " ".join(exc.messages), "code": "invalid_transition"}
        )
    if hasattr(exc, "error_dict"):
        errors: dict = {}
        for name, messages in exc.message_dict.items():
            if name == NON_FIELD_ERRORS:
                errors[api_settings.NON_FIELD_ERRORS_KEY] = messages
            elif nested and name not in top_level:
                errors.setdefault(nested, {})[name] = messages
            else:
                errors[name] = messages
        return exceptions.ValidationError(errors)
    return exceptions.ValidationError(
        # A ValidationError built from a list has no `code` of its own.
        {"detail": " ".join(exc.messages), "code": getattr(exc, "code", None) or "invalid"}
    )


@contextmanager
def service_errors(*, nested: str | None = None, top_level: Collection[str] = ()) -> Iterator[None]:
    try:
        yield
    except DjangoValidationError as exc:
        raise api_error(exc, nested=nested, top_level=top_level) from exc


def with_uploads(
    files: Sequence[UploadedFile], user: User, write: Callable[[list[Attachment]], T]
) -> T:
    """Verify and store `files`, then `write(attachments)`; all or nothing (see the service)."""
    with services.stored_attachments(files, uploaded_by=user) as stored:
        return write(stored)


def _valid(serializer_class: type[Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _timeline_context(ticket: Ticket, *, for_customer: bool) -> dict:
    entries = selectors.ticket_timeline(ticket, for_customer=for_customer)
    return {
        "messages": [entry.message for entry in entries if entry.kind == "message"],
        "events": [entry.event for entry in entries if entry.kind == "event"],
    }


def customer_detail(
    ticket: Ticket, *, serializer_class: type[Serializer] = s.CustomerTicketDetailSerializer
) -> dict:
    context = _timeline_context(ticket, for_customer=True)
    return serializer_class(ticket, context=context).data


def agent_detail(ticket: Ticket, user: User) -> dict:
    context = _timeline_context(ticket, for_customer=False)
    try:
        context["actor_kind"] = actor_kind_for(user, ticket)
    except PermissionDenied:
        # e.g. the agent just moved it to a team they are not in: no further moves.
        context["actor_kind"] = None
    return s.AgentTicketDetailSerializer(ticket, context=context).data


def _default_language(user: User) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return user.preferred_language if user.preferred_language in codes else settings.LANGUAGE_CODE


# Schema snippets ----------------------------------------------------------------------------

CUSTOMER_TAG = ["Tickets: customers"]
AGENT_TAG = ["Tickets: agents"]
REFERENCE = OpenApiParameter(
    "reference", str, OpenApiParameter.PATH, description="A request reference, e.g. HD-7K3P9Q."
)

_FORBIDDEN = OpenApiResponse(
    s.ApiErrorSerializer,
    description="Not signed in (session or `Authorization: Token …`), or not allowed.",
    examples=[
        OpenApiExample(
            "Not signed in", value={"detail": "Authentication credentials were not provided."}
        )
    ],
)
_AGENT_FORBIDDEN = OpenApiResponse(
    s.ApiErrorSerializer,
    description="Not signed in, or not a support agent.",
    examples=[
        OpenApiExample(
            "Not an agent", value={"detail": "Only support agents can use this endpoint."}
        )
    ],
)
_NOT_FOUND = OpenApiResponse(
    s.ApiErrorSerializer,
    description="No such request, or one the caller may not see (the two look the same).",
    examples=[OpenApiExample("Not found", value={"detail": "Not found."})],
)
_INVALID = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description=(
        "Invalid input: `{input: [messages]}`, structured-detail errors nested under "
        "`fields`; or `{detail, code}` for a rule that is not about one input."
    ),
    examples=[
        OpenApiExample(
            "Field errors",
            value={
                "subject": ["This field is required."],
                "fields": {
                    "txid": [
                        "On TRON (TRC20), a transaction ID is 64 characters long (0–9, a–f); "
                        "this one has 5."
                    ]
                },
            },
        ),
        OpenApiExample(
            "Refused upload",
            value={"attachments": ["“scan.png” was not attached: This file is not a valid image."]},
        ),
    ],
)
_TRANSITION = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input, or a move the status table does not allow (`invalid_transition`).",
    examples=[
        OpenApiExample(
            "Illegal move",
            value={
                "detail": "A request cannot go from “New” to “Closed”.",
                "code": "invalid_transition",
            },
        ),
        OpenApiExample("Field error", value={"version": ["A valid integer is required."]}),
    ],
)
_CONFLICT = OpenApiResponse(
    s.ApiErrorSerializer,
    description="`version` is stale: someone changed the request since it was read.",
    examples=[
        OpenApiExample(
            "Stale version",
            value={
                "detail": "Someone else changed this request; reload to see their change.",
                "code": "stale",
            },
        )
    ],
)
_BAD_PARAMS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="An unknown filter value: `{parameter: [messages]}`.",
    examples=[OpenApiExample("Bad filter", value={"status": ["“bogus” is not a valid choice."]})],
)
_THROTTLED = OpenApiResponse(
    s.ApiErrorSerializer,
    description="Too many requests (scope `user`); `Retry-After` says when to try again.",
    examples=[
        OpenApiExample(
            "Throttled",
            value={"detail": "Request was throttled. Expected available in 30 seconds."},
        )
    ],
)
_WRITE_THROTTLED = OpenApiResponse(
    s.ApiErrorSerializer,
    description=(
        "Too many new requests and replies (scope `ticket_write`, 20 an hour by default) "
        "or requests overall; `Retry-After` says when to try again."
    ),
    examples=[
        OpenApiExample(
            "Flooding",
            value={
                "detail": "You have sent too many requests or replies in a short time. "
                "Expected available in 1200 seconds."
            },
        )
    ],
)


def _responses(
    ok: dict,
    *,
    agent: bool = False,
    throttled: OpenApiResponse = _THROTTLED,
    **extra: OpenApiResponse,
) -> dict:
    responses = {**ok, 403: _AGENT_FORBIDDEN if agent else _FORBIDDEN, 429: throttled}
    responses.update({int(code.removeprefix("r")): value for code, value in extra.items()})
    return dict(sorted(responses.items()))


def _change_schema(summary: str, request: type[Serializer], description: str = ""):
    """The schema of an agent change that takes `version` (409 when stale)."""
    return extend_schema(
        summary=summary,
        description=description,
        tags=AGENT_TAG,
        parameters=[REFERENCE],
        request=request,
        responses=_responses(
            {200: s.AgentTicketDetailSerializer},
            agent=True,
            r400=_TRANSITION,
            r404=_NOT_FOUND,
            r409=_CONFLICT,
        ),
    )


# Views --------------------------------------------------------------------------------------


class TicketViewSetBase(viewsets.GenericViewSet):
    lookup_field = "reference"
    # Never matches "agent", so /tickets/agent/ cannot be read as a reference.
    lookup_value_regex = "[Hh][Dd]-[^/.]+"
    # Only types the {reference} path parameter in the schema; lookups go through selectors.
    queryset = Ticket.objects.none()
    pagination_class = TicketPagination
    serializer_classes: dict[str, type[Serializer]] = {}

    def get_serializer_class(self):
        return self.serializer_classes.get(self.action, s.ApiErrorSerializer)

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = api_error(exc)
        return super().handle_exception(exc)


class CustomerTicketViewSet(TicketViewSetBase):
    """A signed-in user's own requests."""

    serializer_classes = {
        "list": s.CustomerTicketSerializer,
        "retrieve": s.CustomerTicketDetailSerializer,
        "create": s.TicketCreateMultipartSerializer,
        "replies": s.ReplyMultipartSerializer,
        "rating": s.RatingSerializer,
    }

    def get_object(self) -> Ticket:
        return selectors.ticket_for_customer(self.request.user, self.kwargs["reference"])

    def get_throttles(self):
        throttles = super().get_throttles()
        if self.action in {"create", "replies"}:
            throttles.append(TicketWriteThrottle())
        return throttles

    def throttled(self, request: Request, wait: float | None):
        if self.action in {"create", "replies"}:
            raise exceptions.Throttled(
                wait,
                detail=gettext("You have sent too many requests or replies in a short time."),
            )
        super().throttled(request, wait)

    @extend_schema(
        summary="List my requests",
        description="Newest activity first. Filter by status (or `active`) and search.",
        tags=CUSTOMER_TAG,
        parameters=[s.CustomerListParamsSerializer],
        responses=_responses({200: s.CustomerTicketSerializer(many=True)}, r400=_BAD_PARAMS),
    )
    def list(self, request: Request) -> Response:
        params = _valid(s.CustomerListParamsSerializer, request.query_params)
        tickets = selectors.customer_tickets(
            request.user, status=params.get("status"), query=params.get("q", "")
        )
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(s.CustomerTicketSerializer(page, many=True).data)

    @extend_schema(
        summary="Submit a request",
        description=(
            "JSON, or multipart with up to 5 `attachments` (then `fields` is a JSON string). "
            "Structured details are checked per category (TXIDs and addresses per network). "
            "Rate-limited per user (scope `ticket_write`)."
        ),
        tags=CUSTOMER_TAG,
        request={
            "application/json": s.TicketCreateSerializer,
            "multipart/form-data": s.TicketCreateMultipartSerializer,
        },
        responses=_responses(
            {201: s.CustomerTicketCreatedSerializer}, throttled=_WRITE_THROTTLED, r400=_INVALID
        ),
        examples=[
            OpenApiExample(
                "A withdrawal that did not arrive",
                request_only=True,
                media_type="application/json",
                value={
                    "category": "withdrawal",
                    "subject": "USDT withdrawal pending for 6 hours",
                    "description": "I withdrew 100 USDT on TRC20 this morning; it has not arrived.",
                    "fields": {
                        "coin": "USDT",
                        "network": "TRC20",
                        "amount": "100",
                        "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                        "txid": "0f89c6365796afa96ae05fab57207a4d8c5cc801b92ac2099c7dd9dcd5a91df0",
                    },
                    "language": "en",
                },
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = _valid(s.TicketCreateMultipartSerializer, request.data)
        user = request.user

        def submit(attachments: list[Attachment]) -> Ticket:
            return services.ticket_create(
                requester=user,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                fields=data["fields"],
                language=data.get("language") or _default_language(user),
                channel=Channel.API,
                attachments=attachments,
            )

        with service_errors(nested="fields", top_level=CREATE_INPUTS):
            ticket = with_uploads(data.get("attachments", []), user, submit)
        location = reverse("api-ticket-detail", kwargs={"reference": ticket.reference})
        body = customer_detail(ticket, serializer_class=s.CustomerTicketCreatedSerializer)
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary="One of my requests",
        description="With the conversation (no internal notes) and the public timeline.",
        tags=CUSTOMER_TAG,
        parameters=[REFERENCE],
        responses=_responses({200: s.CustomerTicketDetailSerializer}, r404=_NOT_FOUND),
    )
    def retrieve(self, request: Request, reference: str) -> Response:
        return Response(customer_detail(self.get_object()))

    @extend_schema(
        summary="Reply to my request",
        description=(
            "JSON or multipart (up to 5 `attachments`). A reply to a request waiting on you "
            "or solved recently reopens it; to a closed one it opens a linked follow-up request "
            "(see `ticket` in the answer). Rate-limited per user (scope `ticket_write`)."
        ),
        tags=CUSTOMER_TAG,
        parameters=[REFERENCE],
        request={
            "application/json": s.ReplySerializer,
            "multipart/form-data": s.ReplyMultipartSerializer,
        },
        responses=_responses(
            {201: s.CustomerReplyResultSerializer},
            throttled=_WRITE_THROTTLED,
            r400=_INVALID,
            r404=_NOT_FOUND,
        ),
    )
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.ReplyMultipartSerializer, request.data)
        user = request.user

        def post(attachments: list[Attachment]):
            return services.ticket_reply(
                ticket=ticket,
                author=user,
                body=data["body"],
                attachments=attachments,
                channel=Channel.API,
            )

        with service_errors():
            message = with_uploads(data.get("attachments", []), user, post)
        result = s.CustomerReplyResultSerializer(message, context={"ticket": message.ticket})
        return Response(result.data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark my request as solved",
        tags=CUSTOMER_TAG,
        parameters=[REFERENCE],
        request=None,
        responses=_responses(
            {200: s.CustomerTicketDetailSerializer}, r400=_TRANSITION, r404=_NOT_FOUND
        ),
    )
    @action(detail=True, methods=["post"])
    def solve(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        with service_errors():
            services.ticket_solve_by_customer(ticket=ticket, customer=request.user)
        return Response(customer_detail(ticket))

    @extend_schema(
        summary="Reopen my solved request",
        description="Within the reopen window after it was solved; later, reply instead.",
        tags=CUSTOMER_TAG,
        parameters=[REFERENCE],
        request=None,
        responses=_responses(
            {200: s.CustomerTicketDetailSerializer}, r400=_TRANSITION, r404=_NOT_FOUND
        ),
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        with service_errors():
            services.ticket_reopen_by_customer(ticket=ticket, customer=request.user)
        return Response(customer_detail(ticket))

    @extend_schema(
        summary="Rate the support on my solved request",
        description="good or bad, with an optional comment; changeable for a while.",
        tags=CUSTOMER_TAG,
        parameters=[REFERENCE],
        request=s.RatingSerializer,
        responses=_responses(
            {200: s.CustomerTicketDetailSerializer}, r400=_INVALID, r404=_NOT_FOUND
        ),
    )
    @action(detail=True, methods=["post"])
    def rating(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.RatingSerializer, request.data)
        with service_errors():
            services.ticket_rate(
                ticket=ticket, customer=request.user, rating=data["rating"], comment=data["comment"]
            )
        return Response(customer_detail(ticket))


class AgentTicketViewSet(TicketViewSetBase):
    """The agent inbox and workspace: requests the agent may work on."""

    permission_classes = [IsAuthenticated, IsTicketAgent]
    serializer_classes = {
        "list": s.AgentTicketSerializer,
        "retrieve": s.AgentTicketDetailSerializer,
        "replies": s.AgentReplyMultipartSerializer,
        "change_status": s.StatusChangeSerializer,
        "change_priority": s.PriorityChangeSerializer,
        "change_assignee": s.AssigneeChangeSerializer,
        "change_team": s.TeamChangeSerializer,
        "change_fields": s.FieldsChangeSerializer,
        "merge": s.MergeSerializer,
    }

    def get_object(self) -> Ticket:
        return selectors.ticket_for_agent(self.request.user, self.kwargs["reference"])

    def _answer(self, ticket: Ticket) -> Response:
        return Response(agent_detail(ticket, self.request.user))

    @extend_schema(
        summary="Agent inbox",
        description=(
            "An inbox view (default: assigned to me), filtered, searched and sorted. "
            f"`page_size` at most {s.MAX_PAGE_SIZE}."
        ),
        tags=AGENT_TAG,
        parameters=[s.InboxParamsSerializer],
        responses=_responses(
            {200: s.AgentTicketSerializer(many=True)}, agent=True, r400=_BAD_PARAMS
        ),
    )
    def list(self, request: Request) -> Response:
        params = _valid(s.InboxParamsSerializer, request.query_params)
        tickets = selectors.agent_inbox(
            request.user,
            view=params["view"],
            status=params.get("status"),
            priority=params.get("priority"),
            team=params.get("team"),
            category=params.get("category"),
            assignee=params.get("assignee"),
            language=params.get("language"),
            query=params.get("q", ""),
            sort=params["sort"],
        )
        page = self.paginate_queryset(tickets)
        return self.get_paginated_response(s.AgentTicketSerializer(page, many=True).data)

    @extend_schema(
        summary="A request in full",
        description=(
            "Requester, details with block-explorer links, every message (internal notes "
            "included), every event, the statuses it may move to, and `version`."
        ),
        tags=AGENT_TAG,
        parameters=[REFERENCE],
        responses=_responses({200: s.AgentTicketDetailSerializer}, agent=True, r404=_NOT_FOUND),
    )
    def retrieve(self, request: Request, reference: str) -> Response:
        return self._answer(self.get_object())

    @extend_schema(
        summary="Reply, or add an internal note",
        description="JSON or multipart (up to 5 `attachments`). `internal` notes stay internal.",
        tags=AGENT_TAG,
        parameters=[REFERENCE],
        request={
            "application/json": s.AgentReplySerializer,
            "multipart/form-data": s.AgentReplyMultipartSerializer,
        },
        responses=_responses(
            {201: s.AgentReplyResultSerializer}, agent=True, r400=_TRANSITION, r404=_NOT_FOUND
        ),
    )
    @action(detail=True, methods=["post"])
    def replies(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.AgentReplyMultipartSerializer, request.data)
        user = request.user

        def post(attachments: list[Attachment]):
            return services.ticket_reply(
                ticket=ticket,
                author=user,
                body=data["body"],
                internal=data["internal"],
                attachments=attachments,
                channel=Channel.API,
            )

        with service_errors():
            message = with_uploads(data.get("attachments", []), user, post)
        result = s.AgentReplyResultSerializer(message, context={"ticket": message.ticket})
        return Response(result.data, status=status.HTTP_201_CREATED)

    @_change_schema(
        "Change the status",
        s.StatusChangeSerializer,
        "Only the moves in `allowed_statuses`; closing an unsolved request takes a merge.",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.StatusChangeSerializer, request.data)
        with service_errors():
            services.ticket_change_status(
                ticket=ticket,
                actor=request.user,
                to_status=data["status"],
                expected_version=data["version"],
            )
        return self._answer(ticket)

    @_change_schema("Change the priority", s.PriorityChangeSerializer)
    @action(detail=True, methods=["post"], url_path="priority")
    def change_priority(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.PriorityChangeSerializer, request.data)
        with service_errors():
            services.ticket_set_priority(
                ticket=ticket,
                actor=request.user,
                priority=data["priority"],
                expected_version=data["version"],
            )
        return self._answer(ticket)

    @_change_schema("Assign or unassign", s.AssigneeChangeSerializer)
    @action(detail=True, methods=["post"], url_path="assignee")
    def change_assignee(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.AssigneeChangeSerializer, request.data)
        with service_errors():
            services.ticket_assign(
                ticket=ticket,
                actor=request.user,
                assignee=data["assignee"],
                expected_version=data["version"],
            )
        return self._answer(ticket)

    @_change_schema(
        "Move to another team's queue",
        s.TeamChangeSerializer,
        "The assignee stays only if they belong to the new team.",
    )
    @action(detail=True, methods=["post"], url_path="team")
    def change_team(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.TeamChangeSerializer, request.data)
        with service_errors():
            services.ticket_set_team(
                ticket=ticket,
                actor=request.user,
                team=data["team"],
                expected_version=data["version"],
            )
        return self._answer(ticket)

    @_change_schema(
        "Replace the structured details",
        s.FieldsChangeSerializer,
        "Validated against the category's fields; errors come back under `fields`.",
    )
    @action(detail=True, methods=["post"], url_path="fields")
    def change_fields(self, request: Request, reference: str) -> Response:
        ticket = self.get_object()
        data = _valid(s.FieldsChangeSerializer, request.data)
        with service_errors(nested="fields", top_level={"version"}):
            services.ticket_update_fields(
                ticket=ticket,
                actor=request.user,
                values=data["fields"],
                expected_version=data["version"],
            )
        return self._answer(ticket)

    @extend_schema(
        summary="Merge this request into another",
        description=(
            "Moves the conversation to `into` and closes this request; answers with the "
            "request merged into. Another customer's messages become internal notes there."
        ),
        tags=AGENT_TAG,
        parameters=[REFERENCE],
        request=s.MergeSerializer,
        responses=_responses(
            {200: s.AgentTicketDetailSerializer}, agent=True, r400=_TRANSITION, r404=_NOT_FOUND
        ),
    )
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, reference: str) -> Response:
        source = self.get_object()
        data = _valid(s.MergeSerializer, request.data)
        try:
            target = selectors.ticket_for_agent(request.user, data["into"])
        except Http404:
            raise exceptions.ValidationError(
                {"into": [gettext("There is no request with this reference that you can open.")]}
            ) from None
        with service_errors():
            target = services.ticket_merge(source=source, target=target, actor=request.user)
        return self._answer(target)
