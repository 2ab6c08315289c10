import pytest
from django.urls import reverse

from tests.tickets.factories import TicketFactory


@pytest.fixture
def admin_client(client, portal_admin):
    client.force_login(portal_admin)
    return client


def test_category_admin_edits_fields_inline(admin_client):
    from tickets.models import TicketCategory

    category = TicketCategory.objects.get(slug="withdrawal")
    response = admin_client.get(reverse("admin:tickets_ticketcategory_change", args=[category.pk]))
    assert response.status_code == 200
    assert b"form_fields-TOTAL_FORMS" in response.content


@pytest.mark.parametrize(
    "name", ["tickets_team_add", "tickets_macro_add", "tickets_ticketcategory_changelist"]
)
def test_configuration_pages_load(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_requests_are_read_only_in_the_admin(admin_client):
    ticket = TicketFactory(subject="<b>bold</b>")
    listing = admin_client.get(reverse("admin:tickets_ticket_changelist"))
    assert listing.status_code == 200
    assert b"&lt;b&gt;bold&lt;/b&gt;" in listing.content
    assert admin_client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    detail = admin_client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content


def test_supervisors_see_requests_and_manage_teams_but_not_categories(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("admin:tickets_ticket_changelist")).status_code == 200
    assert client.get(reverse("admin:tickets_team_changelist")).status_code == 200
    assert client.get(reverse("admin:tickets_ticketcategory_add")).status_code == 403


def test_incoming_email_admin_shows_a_quarantined_message_escaped_and_read_only(
    admin_client,
):
    from tickets import mail_ingest
    from tickets.models import InboundEmail, InboundSource, InboundStatus

    raw = b"From: <x@example.com>\nSubject: <script>alert(1)</script>\n\nbody"
    inbound = mail_ingest.quarantine(raw, source=InboundSource.HTTP, reason="broken MIME")

    listing = admin_client.get(
        reverse("admin:tickets_inboundemail_changelist"), {"status": "quarantined"}
    )
    detail = admin_client.get(reverse("admin:tickets_inboundemail_change", args=[inbound.pk]))

    assert inbound.status == InboundStatus.QUARANTINED
    assert listing.status_code == 200
    assert "x@example.com" in listing.content.decode()
    page = detail.content.decode()
    assert "broken MIME" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert admin_client.get(reverse("admin:tickets_inboundemail_add")).status_code == 403
    assert InboundEmail.objects.count() == 1


def test_supervisors_see_the_outbox_incoming_email_and_sla_rules_read_only(client, supervisor):
    client.force_login(supervisor)

    for name in ("notification", "inboundemail", "slapolicy", "slacalendar"):
        assert client.get(reverse(f"admin:tickets_{name}_changelist")).status_code == 200, name
    assert client.get(reverse("admin:tickets_slapolicy_add")).status_code == 403
