"""What an integrator needs before filing a request: the categories and their fields.

`GET /api/v1/tickets/categories/?lang=` lists the categories offered on the
request form, each with the keys, types and labels of its structured fields;
fields of type `coin` and `network` list the values they accept.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import networks, selectors
from tickets.models import FieldType

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class RequestCategoryFieldSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.ChoiceField(choices=FieldType.choices, source="field_type")
    label = serializers.SerializerMethodField()
    required = serializers.BooleanField()
    max_length = serializers.IntegerField(allow_null=True)
    choices = serializers.SerializerMethodField()

    def get_label(self, field) -> str:
        return field.label_for(self.context["language"])

    @extend_schema_field(ChoiceSerializer(many=True, allow_null=True))
    def get_choices(self, field) -> list[dict[str, str]] | None:
        if field.field_type == FieldType.COIN:
            pairs = networks.coin_choices()
        elif field.field_type == FieldType.NETWORK:
            pairs = networks.network_choices()
        else:
            return None
        return [{"value": value, "label": str(label)} for value, label in pairs]


class RequestCategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    fields = RequestCategoryFieldSerializer(many=True, source="form_fields.all")

    def get_name(self, category) -> str:
        return category.name_for(self.context["language"])

    def get_description(self, category) -> str:
        return category.description_for(self.context["language"])


class CategoryListView(GenericAPIView):
    """The request categories offered to customers, with their structured fields."""

    permission_classes = [IsAuthenticated]
    serializer_class = RequestCategorySerializer
    pagination_class = None

    @extend_schema(
        operation_id="tickets_categories_list",
        tags=["Tickets: customers"],
        parameters=[
            OpenApiParameter(
                "lang",
                str,
                enum=LANGUAGE_CODES,
                description="Language of names and labels (default: the request's language).",
            )
        ],
        responses=RequestCategorySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        language = request.query_params.get("lang") or get_language()
        if language not in LANGUAGE_CODES:
            message = _("Choose a language: %(codes)s.") % {"codes": ", ".join(LANGUAGE_CODES)}
            raise exceptions.ValidationError({"lang": [message]})
        categories = selectors.active_categories().order_by("position", "pk")
        serializer = RequestCategorySerializer(
            categories, many=True, context={"language": language}
        )
        return Response(serializer.data)
