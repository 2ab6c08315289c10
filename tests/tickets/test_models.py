import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.tickets.factories import MacroFactory, TeamFactory, TicketFieldFactory
from tickets import services
from tickets.models import REFERENCE_ALPHABET, Ticket, TicketCategory, generate_reference

REFERENCE = re.compile(r"HD-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}")


def test_reference_is_hd_and_six_unambiguous_characters():
    references = [generate_reference() for _ in range(2000)]
    assert all(REFERENCE.fullmatch(reference) for reference in references)
    assert not set("".join(r[3:] for r in references)) & set("01ILO")
    assert len(set(references)) > 1990
    assert set(REFERENCE_ALPHABET) == set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")


def test_consecutive_requests_get_unrelated_references(open_request):
    first, second, third = (open_request() for _ in range(3))
    assert len({first.reference, second.reference, third.reference}) == 3
    assert first.reference[3:] != second.reference[3:]


def test_a_reference_collision_is_retried(open_request, monkeypatch):
    """Two draws: the first is taken, so the request gets the second."""
    taken = open_request().reference
    draws = iter([taken, "HD-ABCDEF"])
    monkeypatch.setattr(services, "generate_reference", lambda: next(draws))
    ticket = open_request()
    assert ticket.reference == "HD-ABCDEF"
    assert Ticket.objects.filter(reference=taken).count() == 1


def test_names_fall_back_to_english(db):
    team = TeamFactory(name_en="Wallet", name_zh_hans="钱包", name_ja="")
    assert team.name_for("zh-hans") == "钱包"
    assert team.name_for("ja") == "Wallet"
    with translation.override("zh-hans"):
        assert team.name == "钱包"


def test_field_keys_used_by_the_form_itself_are_refused(db):
    field = TicketFieldFactory.build(category=TicketCategory(slug="x"), key="subject")
    with pytest.raises(ValidationError, match="used by the request form"):
        field.full_clean(exclude=["category"])


def test_field_pattern_must_be_a_regular_expression(db):
    field = TicketFieldFactory.build(category=TicketCategory(slug="x"), pattern="[")
    with pytest.raises(ValidationError, match="Not a valid regular expression"):
        field.full_clean(exclude=["category"])


def test_macro_fills_only_its_placeholders(db):
    macro = MacroFactory(body="{reference} {customer_name} {reference.__class__} {other}")
    rendered = macro.render({"reference": "HD-ABCDEF", "customer_name": "李伟"})
    assert rendered == "HD-ABCDEF 李伟 {reference.__class__} {other}"


def test_compromise_categories_start_urgent(db):
    category = TicketCategory(slug="x", name_en="x", default_priority=10, is_compromise=True)
    assert category.initial_priority == Ticket.Priority.URGENT
