"""The categories a fresh portal ships with (created by the data migration)."""

from tests.helpcenter.factories import CategoryFactory
from tickets.defaults import CATEGORIES, TEAMS, ensure_default_categories
from tickets.models import FieldType, Priority, Team, TicketCategory, TicketField

LANGUAGES = ("zh-hans", "en", "ja", "ko")


def test_the_migration_created_teams_categories_and_fields(db):
    assert set(Team.objects.values_list("slug", flat=True)) >= set(TEAMS)
    withdrawal = TicketCategory.objects.get(slug="withdrawal")
    assert withdrawal.team.slug == "wallet"
    fields = {f.key: f for f in withdrawal.form_fields.all()}
    assert list(fields) == ["coin", "network", "amount", "address", "memo", "txid"]
    assert fields["txid"].required and fields["txid"].field_type == FieldType.TXID
    assert not fields["memo"].required
    assert TicketCategory.objects.get(slug="deposit").form_fields.get(key="txid").required
    compromised = TicketCategory.objects.get(slug="account-compromised")
    assert compromised.is_compromise and compromised.initial_priority == Priority.URGENT
    assert (
        list(TicketCategory.objects.order_by("position").values_list("slug", flat=True))[0]
        == "account-compromised"
    )
    assert TicketCategory.objects.get(slug="account-login").form_fields.get().key == "uid"
    assert set(
        TicketCategory.objects.get(slug="trading").form_fields.values_list("key", flat=True)
    ) == {"order_id", "trading_pair"}


def test_every_label_exists_in_all_four_languages(db):
    slugs = [spec["slug"] for spec in CATEGORIES]
    for category in TicketCategory.objects.filter(slug__in=slugs):
        for language in LANGUAGES:
            suffix = language.replace("-", "_")
            assert getattr(category, f"name_{suffix}"), (category.slug, language)
            assert getattr(category, f"description_{suffix}"), (category.slug, language)
    for field in TicketField.objects.filter(category__slug__in=slugs):
        assert all(getattr(field, f"label_{lang.replace('-', '_')}") for lang in LANGUAGES)
    assert TicketCategory.objects.get(slug="withdrawal").name_for("ja") == "出金"


def test_running_again_changes_nothing_an_admin_edited(db):
    category = TicketCategory.objects.get(slug="kyc")
    category.name_en = "Verification"
    category.save()
    TicketField.objects.filter(category__slug="deposit", key="memo").delete()
    counts = (Team.objects.count(), TicketCategory.objects.count(), TicketField.objects.count())
    ensure_default_categories()
    ensure_default_categories()
    assert TicketCategory.objects.get(slug="kyc").name_en == "Verification"
    assert (
        Team.objects.count(),
        TicketCategory.objects.count(),
        TicketField.objects.count(),
    ) == counts


def test_help_center_categories_are_linked_once_they_exist(db):
    assert TicketCategory.objects.get(slug="withdrawal").helpcenter_category is None
    help_category = CategoryFactory(slug="withdrawal")
    ensure_default_categories()
    assert TicketCategory.objects.get(slug="withdrawal").helpcenter_category == help_category


def test_shipped_sla_policies_are_created_once_and_never_over_an_admins_own(db):
    from tickets.defaults import ensure_default_sla_policies
    from tickets.models import SlaPolicy

    shipped = list(
        SlaPolicy.objects.values_list(
            "priority", "first_response_minutes", "next_response_minutes", "resolution_minutes"
        )
    )
    assert sorted(shipped) == [
        (10, 72 * 60, 72 * 60, 7 * 24 * 60),
        (20, 24 * 60, 24 * 60, 72 * 60),
        (30, 2 * 60, 4 * 60, 24 * 60),
        (40, 30, 60, 8 * 60),
    ]
    ensure_default_sla_policies()
    assert SlaPolicy.objects.count() == 4

    SlaPolicy.objects.all().delete()
    SlaPolicy.objects.create(name="Our own", first_response_minutes=15)
    ensure_default_sla_policies()
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["Our own"]
