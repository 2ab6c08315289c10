"""`POST /api/v1/tickets/inbound-email/`: a mail provider hands over one incoming email.

For providers that forward the desk's incoming mail over HTTP. The body is
the raw message (`Content-Type: message/rfc822`), imported exactly like mail
from the IMAP mailbox or the `ingest_email` command (`tickets.mail_ingest`).

The provider authenticates with the secret INBOUND_EMAIL_TOKEN, sent as
`Authorization: Bearer <token>`, or as the password of HTTP Basic auth for
providers that only take credentials in the URL. Without a configured token
the endpoint does not exist (404); a missing or wrong token is a 403.

Every outcome is a 200, including a duplicate delivery and mail that was
refused or quarantined: the message is recorded and sending it again changes
nothing. Only a 503 (database or storage failing, nothing recorded) asks the provider
to try again later.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from support_portal.throttling import FixedWindowMixin
from tickets import mail_ingest
from tickets.api.serializers import ApiErrorSerializer
from tickets.models import InboundEmail, InboundSource, InboundStatus

INBOUND_TAG = ["Incoming email"]
# What `request.auth` is once the provider's token checked out.
PROVIDER = "inbound-email-provider"


@dataclass(frozen=True)
class RawEmail:
    content: bytes  # the message, or its first INBOUND_EMAIL_MAX_BYTES + 1 bytes
    size: int  # of the whole body, as far as it is known


class RawEmailParser(BaseParser):
    """Reads the raw message, never more than one byte over the size limit."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> RawEmail:
        limit = settings.INBOUND_EMAIL_MAX_BYTES
        # The stream is read directly: request.body would refuse anything over
        # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), and keep all of a huge body in memory.
        content = stream.read(limit + 1) if stream is not None else b""
        size = len(content)
        if size > limit:
            declared = (parser_context or {}).get("request").META.get("CONTENT_LENGTH")
            size = max(size, int(declared)) if str(declared or "").isdigit() else size
        return RawEmail(content=content, size=size)


class InboundTokenAuthentication(BaseAuthentication):
    """The provider's secret, as a bearer token or as the Basic auth password."""

    def authenticate(self, request: Request):
        supplied = _supplied_token(request)
        if supplied is None:
            return None
        if not constant_time_compare(supplied, settings.INBOUND_EMAIL_TOKEN):
            raise exceptions.AuthenticationFailed()
        return AnonymousUser(), PROVIDER


def _supplied_token(request: Request) -> str | None:
    scheme, _space, value = get_authorization_header(request).decode("latin-1").partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return value
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return None


class InboundTokenScheme(OpenApiAuthenticationExtension):
    target_class = InboundTokenAuthentication
    name = "inboundEmailToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "The secret INBOUND_EMAIL_TOKEN (also accepted as the password of HTTP Basic auth)."
            ),
        }


class IsMailProvider(BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        return request.auth == PROVIDER


class InboundEmailThrottle(FixedWindowMixin, SimpleRateThrottle):
    """Per client IP; rate INBOUND_EMAIL_RATE."""

    scope = "inbound_email"

    def get_rate(self) -> str:
        return settings.INBOUND_EMAIL_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class InboundEmailResultSerializer(serializers.Serializer):
    message_id = serializers.CharField(
        source="email_message_id", help_text="Lower-case, without angle brackets."
    )
    # Not "status": that name (and its enum) belongs to the requests' status.
    outcome = serializers.ChoiceField(source="status", choices=InboundStatus.choices)
    reason = serializers.CharField(help_text="Why it was ignored, refused or quarantined.")
    ticket = serializers.CharField(
        source="ticket.reference",
        allow_null=True,
        help_text="The request it was added to or opened, if any.",
    )


class InboundEmailView(APIView):
    authentication_classes = [InboundTokenAuthentication]
    permission_classes = [IsMailProvider]
    throttle_classes = [InboundEmailThrottle]
    parser_classes = [RawEmailParser]

    def initial(self, request: Request, *args, **kwargs) -> None:
        # No token configured: the endpoint does not exist (before any other check).
        if not settings.INBOUND_EMAIL_TOKEN:
            raise Http404
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Hand over an incoming email",
        description=(
            "The body is one raw RFC 822 message. It becomes a reply on the request it "
            "belongs to, a new request, or a recorded refusal (see `outcome`). Every outcome "
            "is a 200, a repeated delivery of the same Message-ID too; retry only on 503. "
            "Larger than the size limit (25 MB by default): the headers are kept and the "
            "sender gets a polite answer. Rate-limited per client IP."
        ),
        tags=INBOUND_TAG,
        request={"message/rfc822": OpenApiTypes.BINARY},
        responses={
            200: InboundEmailResultSerializer,
            400: OpenApiResponse(ApiErrorSerializer, description="The body is empty."),
            403: OpenApiResponse(ApiErrorSerializer, description="Missing or wrong token."),
            404: OpenApiResponse(
                ApiErrorSerializer, description="Not configured (no INBOUND_EMAIL_TOKEN)."
            ),
            415: OpenApiResponse(
                ApiErrorSerializer, description="The body is not `message/rfc822`."
            ),
            429: OpenApiResponse(ApiErrorSerializer, description="Too many requests."),
            503: OpenApiResponse(
                ApiErrorSerializer,
                description="Database or storage failing; nothing was recorded. Retry later.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        message = request.data
        if not isinstance(message, RawEmail) or not message.content:
            return Response(
                {"detail": _("The body must be one email message."), "code": "empty"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            if message.size > settings.INBOUND_EMAIL_MAX_BYTES:
                inbound = mail_ingest.ingest_oversized(
                    message.content, size=message.size, source=InboundSource.HTTP
                )
            else:
                inbound = mail_ingest.ingest(message.content, source=InboundSource.HTTP)
        except mail_ingest.TRANSIENT_ERRORS:
            return Response(
                {"detail": _("Temporarily unavailable; try again later."), "code": "unavailable"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "60"},
            )
        return Response(_result(inbound))


def _result(inbound: InboundEmail) -> dict:
    return InboundEmailResultSerializer(inbound).data
