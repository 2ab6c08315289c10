"""Validation and normalisation of what customers type: free text and structured fields.

Text is stored as written and escaped on output, so nothing here sanitises
HTML. What is refused is what can hurt regardless of escaping: NUL and other
control characters, lone surrogates (the database cannot store them) and
bidirectional overrides, which can make an address or a reference read
differently from what it is.

Network-typed values (address, memo, TXID, coin, network) are checked by
`tickets.networks` through `validate_network_value`; until that module is
installed only a generic shape check applies.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from types import ModuleType
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import UID_DIGITS
from tickets.models import FieldType, IdentifierKind, TicketField

# U+202A–U+202E and U+2066–U+2069: embeddings, overrides and isolates.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Never part of an identifier; often picked up when copying from a web page.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_WHITESPACE_RUN = re.compile(r"\s+")

DEFAULT_TEXT_FIELD_MAX_LENGTH = 500
IDENTIFIER_MAX_LENGTH = 200

# Field types whose values become TicketIdentifier rows (searchable by agents).
IDENTIFIER_KINDS: dict[str, str] = {
    FieldType.TXID: IdentifierKind.TXID,
    FieldType.ADDRESS: IdentifierKind.ADDRESS,
    FieldType.ORDER_ID: IdentifierKind.ORDER_ID,
    FieldType.UID: IdentifierKind.UID,
}
NETWORK_TYPED = frozenset({FieldType.ADDRESS, FieldType.MEMO, FieldType.TXID})


def clean_text(value: Any, *, max_length: int, multiline: bool, required: bool = True) -> str:
    """Return `value` stripped (newlines normalised), or raise ValidationError.

    Single-line values have every whitespace run collapsed to one space.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(_("Enter text."), code="invalid")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in value:
        raise ValidationError(_("The text contains a NUL character."), code="nul")
    value = value.strip() if multiline else _WHITESPACE_RUN.sub(" ", value).strip()
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in "\n\t") or category == "Cs":
            raise ValidationError(
                _("The text contains control characters (U+%(code)04X)."),
                params={"code": ord(char)},
                code="control",
            )
        if char in _BIDI_CONTROLS:
            raise ValidationError(
                _("The text contains invisible direction-changing characters (U+%(code)04X)."),
                params={"code": ord(char)},
                code="bidi",
            )
    if required and not value:
        raise ValidationError(_("This field is required."), code="required")
    if len(value) > max_length:
        raise ValidationError(
            _("Use at most %(max)d characters (it has %(length)d)."),
            params={"max": max_length, "length": len(value)},
            code="max_length",
        )
    return value


def _networks() -> ModuleType | None:
    """`tickets.networks`, or None while it is not installed."""
    try:
        return importlib.import_module("tickets.networks")
    except ModuleNotFoundError as exc:
        if exc.name != "tickets.networks":
            raise
        return None


def _codes(choices: Iterable[Any]) -> set[str]:
    return {choice[0] if isinstance(choice, list | tuple) else str(choice) for choice in choices}


def validate_network_value(field_type: str, network: str | None, value: str) -> str:
    """Validate a coin, network, address, memo or TXID through `tickets.networks`.

    Returns the normalised value. `network` is the network code chosen in the
    same form (address, memo and TXID formats depend on it); without one, or
    without `tickets.networks`, only the generic identifier shape is checked.
    """
    networks = _networks()
    if field_type == FieldType.COIN:
        value = value.upper()
        if networks is not None and value not in _codes(networks.coin_choices()):
            raise ValidationError(_("Choose a supported coin."), code="unknown_coin")
        return _generic_identifier(value)
    if field_type == FieldType.NETWORK:
        if networks is not None:
            codes = _codes(networks.network_choices())
            match = next((code for code in codes if code.upper() == value.upper()), None)
            if match is None:
                raise ValidationError(_("Choose a supported network."), code="unknown_network")
            return match
        return _generic_identifier(value.upper())
    if networks is None or not network:
        return _generic_identifier(value)
    validator = {
        FieldType.ADDRESS: networks.validate_address,
        FieldType.MEMO: networks.validate_memo,
        FieldType.TXID: networks.validate_txid,
    }[field_type]
    normalised = validator(network, value)
    return normalised if isinstance(normalised, str) else value


def _generic_identifier(value: str) -> str:
    if any(char.isspace() for char in value) or not value.isprintable():
        raise ValidationError(
            _("This value cannot contain spaces or invisible characters."), code="invalid"
        )
    if len(value) > IDENTIFIER_MAX_LENGTH:
        raise ValidationError(
            _("Use at most %(max)d characters."),
            params={"max": IDENTIFIER_MAX_LENGTH},
            code="max_length",
        )
    return value


_ORDER_ID_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")
_PAIR_RE = re.compile(r"[A-Z0-9]{2,15}(?:/[A-Z0-9]{2,15})?")
_AMOUNT_RE = re.compile(r"\d{1,30}(?:\.\d{1,18})?")


def _clean_amount(value: str) -> str:
    value = value.replace(",", "").replace("_", "")
    if not _AMOUNT_RE.fullmatch(value):
        raise ValidationError(_("Enter an amount such as 0.5 or 1200."), code="invalid_amount")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValidationError(_("Enter an amount such as 0.5 or 1200."), code="invalid") from exc
    if amount <= 0:
        raise ValidationError(_("The amount must be greater than zero."), code="not_positive")
    # Fixed-point, without the exponent Decimal.normalize() would produce for 1E+3.
    text = format(amount.normalize(), "f")
    return text


def _clean_typed(field_type: str, value: str, network: str | None) -> str:
    if field_type == FieldType.AMOUNT:
        return _clean_amount(value)
    if field_type == FieldType.ORDER_ID:
        if not _ORDER_ID_RE.fullmatch(value):
            raise ValidationError(
                _("An order ID has 4 to 64 letters, digits, - or _."), code="invalid_order_id"
            )
        return value
    if field_type == FieldType.TRADING_PAIR:
        pair = re.sub(r"[\s_\-/]+", "/", value.upper()).strip("/")
        if not _PAIR_RE.fullmatch(pair):
            raise ValidationError(_("Enter a trading pair such as BTC/USDT."), code="invalid_pair")
        return pair
    if field_type == FieldType.UID:
        if not re.fullmatch(rf"\d{{{UID_DIGITS}}}", value):
            raise ValidationError(
                _("A UID has %(digits)d digits."), params={"digits": UID_DIGITS}, code="invalid_uid"
            )
        return value
    return validate_network_value(field_type, network, value)


def clean_field_value(field: TicketField, raw: Any, *, network: str | None = None) -> str:
    """Return the normalised value of one field, or "" for an empty optional field."""
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        raw = str(raw)
    is_text = field.field_type == FieldType.TEXT
    limit = field.max_length or (
        DEFAULT_TEXT_FIELD_MAX_LENGTH if is_text else IDENTIFIER_MAX_LENGTH
    )
    value = clean_text(raw, max_length=limit, multiline=False, required=field.required)
    if not value:
        if field.field_type == FieldType.MEMO and network:
            # Some networks (XRP) need a memo or tag even where the form makes it optional.
            return validate_network_value(field.field_type, network, "")
        return ""
    if not is_text:
        # Full-width letters and digits from CJK input methods become ASCII.
        value = unicodedata.normalize("NFKC", value)
        if any(char in _INVISIBLE for char in value):
            raise ValidationError(
                _("This value contains invisible characters; type it again or paste it as text."),
                code="invisible",
            )
        value = _clean_typed(field.field_type, value, network)
    if field.pattern and not re.fullmatch(field.pattern, value):
        raise ValidationError(_("This value does not have the expected format."), code="pattern")
    return value


def clean_fields(fields: Iterable[TicketField], values: Mapping[str, Any]) -> dict[str, str]:
    """Validate `values` against a category's fields; return only the non-empty ones.

    Raises one ValidationError keyed by field key, with every problem at once.
    """
    fields = list(fields)
    known = {field.key: field for field in fields}
    errors: dict[str, list[ValidationError]] = {}
    for key in values:
        if key not in known:
            errors[str(key)] = [ValidationError(_("Unknown field."), code="unknown")]
    cleaned: dict[str, str] = {}
    # The network decides how address, memo and TXID are checked, so it goes first.
    ordered = sorted(fields, key=lambda field: field.field_type != FieldType.NETWORK)
    network: str | None = None
    for field in ordered:
        try:
            value = clean_field_value(field, values.get(field.key), network=network)
        except ValidationError as exc:
            errors[field.key] = exc.error_list
            continue
        if value:
            cleaned[field.key] = value
            if field.field_type == FieldType.NETWORK:
                network = value
    _check_coin_network(fields, cleaned, errors)
    if errors:
        raise ValidationError(errors)
    return {field.key: cleaned[field.key] for field in fields if field.key in cleaned}


def _check_coin_network(
    fields: list[TicketField], cleaned: dict[str, str], errors: dict[str, list[ValidationError]]
) -> None:
    """USDT on the Bitcoin network is a typo, not a request we can look up."""
    networks = _networks()
    coin = next((f for f in fields if f.field_type == FieldType.COIN and f.key in cleaned), None)
    network = next(
        (f for f in fields if f.field_type == FieldType.NETWORK and f.key in cleaned), None
    )
    if networks is None or coin is None or network is None or network.key in errors:
        return
    codes = {item.code for item in networks.networks_for_coin(cleaned[coin.key])}
    if codes and cleaned[network.key] not in codes:
        errors[network.key] = [
            ValidationError(
                _("%(coin)s cannot be sent on this network; choose one of: %(networks)s."),
                params={"coin": cleaned[coin.key], "networks": ", ".join(sorted(codes))},
                code="coin_network",
            )
        ]


def identifiers_from(
    fields: Iterable[TicketField], values: Mapping[str, str]
) -> set[tuple[str, str]]:
    """(kind, lookup value) pairs to index for these field values."""
    return {
        (IDENTIFIER_KINDS[field.field_type], values[field.key].lower())
        for field in fields
        if field.field_type in IDENTIFIER_KINDS and values.get(field.key)
    }
