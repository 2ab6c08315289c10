"""Free text and structured field values as customers type them."""

import pytest
from django.core.exceptions import ValidationError

from tests.tickets.factories import TRC20_ADDRESS, TRON_TXID
from tickets.fields import clean_field_value, clean_fields, clean_text, identifiers_from
from tickets.models import FieldType, TicketField


def field(key, field_type=FieldType.TEXT, **kwargs):
    return TicketField(key=key, field_type=field_type, label_en=key, **kwargs)


def errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return {
        key: [str(message) for message in messages] for key, messages in exc.message_dict.items()
    }


class TestText:
    def test_text_is_kept_verbatim_apart_from_surrounding_space(self):
        payload = '  <script>alert("x")</script>\n\n<img src=x onerror=alert(1)>  '
        assert clean_text(payload, max_length=100, multiline=True) == payload.strip()

    def test_nul_is_refused(self):
        with pytest.raises(ValidationError, match="NUL"):
            clean_text("a\x00b", max_length=10, multiline=True)

    @pytest.mark.parametrize("char", ["\x07", "\x1b", "\x7f", "\x85"])
    def test_control_characters_are_refused(self, char):
        with pytest.raises(ValidationError, match="control characters"):
            clean_text(f"a{char}b", max_length=10, multiline=True)

    def test_direction_overrides_are_refused(self):
        with pytest.raises(ValidationError, match="direction-changing"):
            clean_text("HD-\u202eFEDCBA", max_length=20, multiline=False)

    def test_newlines_and_tabs_stay_in_multiline_text_only(self):
        assert clean_text("a\r\n\tb", max_length=10, multiline=True) == "a\n\tb"
        assert clean_text("a\r\n\tb", max_length=10, multiline=False) == "a b"

    def test_length_and_required(self):
        with pytest.raises(ValidationError, match="at most 3"):
            clean_text("abcd", max_length=3, multiline=False)
        with pytest.raises(ValidationError, match="required"):
            clean_text("   ", max_length=3, multiline=False)
        assert clean_text(None, max_length=3, multiline=False, required=False) == ""


class TestStructuredValues:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [("100.50", "100.5"), ("1,000", "1000"), ("0.00000001", "0.00000001"), (12, "12")],
    )
    def test_amounts_are_normalised(self, raw, expected):
        assert clean_field_value(field("amount", FieldType.AMOUNT), raw) == expected

    @pytest.mark.parametrize("raw", ["-1", "0", "1e5", "abc", "1.2.3"])
    def test_bad_amounts_are_refused(self, raw):
        with pytest.raises(ValidationError):
            clean_field_value(field("amount", FieldType.AMOUNT), raw)

    def test_full_width_input_becomes_ascii(self):
        assert clean_field_value(field("order", FieldType.ORDER_ID), "ＡＢ１２３４５") == "AB12345"

    def test_trading_pairs_are_written_one_way(self):
        pair = field("pair", FieldType.TRADING_PAIR)
        assert clean_field_value(pair, "btc-usdt") == "BTC/USDT"
        assert clean_field_value(pair, "eth / usdc") == "ETH/USDC"

    def test_uid_has_nine_digits(self):
        uid = field("uid", FieldType.UID)
        assert clean_field_value(uid, "123456789") == "123456789"
        with pytest.raises(ValidationError, match="9 digits"):
            clean_field_value(uid, "12345")

    def test_invisible_characters_in_identifiers_are_refused(self):
        with pytest.raises(ValidationError, match="invisible"):
            clean_field_value(field("order", FieldType.ORDER_ID), "ABC\u200b123")

    def test_pattern_and_max_length_apply(self):
        text = field("ref", FieldType.TEXT, pattern=r"[A-Z]{3}\d+", max_length=6)
        assert clean_field_value(text, "ABC12") == "ABC12"
        with pytest.raises(ValidationError, match="expected format"):
            clean_field_value(text, "abc12")
        with pytest.raises(ValidationError, match="at most 6"):
            clean_field_value(text, "ABC1234")

    def test_all_problems_are_reported_at_once_keyed_by_field(self):
        fields = [
            field("order", FieldType.ORDER_ID, required=True),
            field("pair", FieldType.TRADING_PAIR),
        ]
        with pytest.raises(ValidationError) as caught:
            clean_fields(fields, {"pair": "???", "surprise": "x"})
        assert set(errors_of(caught.value)) == {"order", "pair", "surprise"}

    def test_empty_optional_values_are_dropped_and_order_follows_the_form(self):
        fields = [field("pair", FieldType.TRADING_PAIR), field("order", FieldType.ORDER_ID)]
        assert clean_fields(fields, {"order": "A-1234", "pair": ""}) == {"order": "A-1234"}

    def test_identifiers_are_lower_cased_lookup_keys(self):
        fields = [field("order", FieldType.ORDER_ID), field("pair", FieldType.TRADING_PAIR)]
        assert identifiers_from(fields, {"order": "AB-123", "pair": "BTC/USDT"}) == {
            ("order_id", "ab-123")
        }


class TestNetworkValues:
    @pytest.fixture(autouse=True)
    def _networks(self):
        pytest.importorskip("tickets.networks")

    @pytest.fixture
    def transfer_fields(self):
        return [
            field("coin", FieldType.COIN, required=True),
            field("network", FieldType.NETWORK, required=True),
            field("address", FieldType.ADDRESS, required=True),
            field("memo", FieldType.MEMO),
            field("txid", FieldType.TXID, required=True),
        ]

    def test_a_valid_transfer_is_normalised(self, transfer_fields):
        cleaned = clean_fields(
            transfer_fields,
            {"coin": "usdt", "network": "trc20", "address": TRC20_ADDRESS, "txid": TRON_TXID},
        )
        assert cleaned == {
            "coin": "USDT",
            "network": "TRC20",
            "address": TRC20_ADDRESS,
            "txid": TRON_TXID,
        }

    def test_the_address_is_checked_for_the_chosen_network(self, transfer_fields):
        with pytest.raises(ValidationError) as caught:
            clean_fields(
                transfer_fields,
                {"coin": "USDT", "network": "ERC20", "address": TRC20_ADDRESS, "txid": TRON_TXID},
            )
        assert "address" in caught.value.message_dict

    def test_a_coin_on_a_network_it_does_not_use_is_refused(self, transfer_fields):
        with pytest.raises(ValidationError) as caught:
            clean_fields(
                transfer_fields,
                {"coin": "BTC", "network": "TRC20", "address": TRC20_ADDRESS, "txid": TRON_TXID},
            )
        assert "cannot be sent on this network" in caught.value.message_dict["network"][0]

    def test_unknown_coins_and_networks_are_refused(self, transfer_fields):
        with pytest.raises(ValidationError) as caught:
            clean_fields(
                transfer_fields,
                {"coin": "DOGE", "network": "MOON", "address": "x", "txid": "y"},
            )
        assert {"coin", "network"} <= set(caught.value.message_dict)

    def test_the_memo_is_checked_for_the_chosen_network(self):
        memo = field("memo", FieldType.MEMO)
        assert clean_field_value(memo, "12345", network="XRP") == "12345"
        with pytest.raises(ValidationError):
            clean_field_value(memo, "not-a-tag", network="XRP")
        with pytest.raises(ValidationError, match="no memo"):
            clean_field_value(memo, "12345", network="TRC20")
