"""Customer request pages: submit, duplicates, deflection, list, detail, actions, downloads."""

from __future__ import annotations

import datetime
import io
import re
from html import escape
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from helpcenter import services as helpcenter_services
from helpcenter.models import Category as HelpCategory
from tests.tickets.factories import (
    ETH_TXID,
    TRC20_ADDRESS,
    TRON_TXID,
    AttachmentFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketFieldFactory,
)
from tickets import networks, services
from tickets.forms import structured_name
from tickets.lifecycle import Status
from tickets.models import Attachment, Deflection, FieldType, Message, Priority, Ticket

NEW_URL = "/en/requests/new/"
LIST_URL = "/en/requests/"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def detail_url(ticket: Ticket, suffix: str = "") -> str:
    return f"/en/requests/{ticket.reference}/{suffix}"


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name="screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def stored_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT) / "tickets"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def request_data(category, *, subject="USDT withdrawal not received", fields=None, **extra):
    data = {
        "category": category.slug,
        "subject": subject,
        "description": "I withdrew 100 USDT six hours ago and it has not arrived.",
        **extra,
    }
    for key, value in (fields or {}).items():
        data[structured_name(category, key)] = value
    return data


def nothing_stored() -> bool:
    return (
        not Ticket.objects.exists()
        and not Message.objects.exists()
        and not Attachment.objects.exists()
        and not stored_files()
    )


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Each test writes attachments to its own folder, so leftovers are countable."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed_in(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def ticket(open_request, withdrawal, withdrawal_values):
    """Li Wei's withdrawal request, routed to the wallet team."""
    return open_request(category=withdrawal, fields=withdrawal_values, language="en")


@pytest.fixture
def article(db):
    """A published help-center article in English."""
    category, _ = HelpCategory.objects.get_or_create(slug="withdrawal", defaults={"name_en": "W"})
    created = helpcenter_services.article_create(key="withdrawal-not-received", category=category)
    helpcenter_services.translation_save(
        article=created,
        language="en",
        title="Withdrawal not received",
        summary="",
        body="Check the TXID on the explorer.",
        tags=(),
        status="published",
        editor=None,
        reindex=False,
    )
    return created


# Who may open what ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "submitted/", "reply/", "solve/", "reopen/", "rate/"])
def test_visitors_are_sent_to_sign_in(client, ticket, suffix):
    """Anonymous visitors get the sign-in page for every request URL."""
    response = client.get(detail_url(ticket, suffix))
    assert response.status_code == 302
    assert response.url.startswith("/en/accounts/login/")


@pytest.mark.parametrize("path", [LIST_URL, NEW_URL])
def test_visitors_are_sent_to_sign_in_from_list_and_form(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/en/accounts/login/")


@pytest.mark.parametrize("suffix", ["", "submitted/"])
def test_requester_sees_their_request_pages(signed_in, ticket, suffix):
    response = signed_in.get(detail_url(ticket, suffix))
    assert response.status_code == 200
    assert ticket.reference in response.content.decode()


@pytest.mark.parametrize("persona", ["other_customer", "agent_in_wallet", "supervisor"])
@pytest.mark.parametrize("suffix", ["", "submitted/"])
def test_anyone_else_gets_404_on_customer_pages(client, request, ticket, persona, suffix):
    """Other customers, and agents too (they work in the console), get a plain 404."""
    client.force_login(request.getfixturevalue(persona))
    assert client.get(detail_url(ticket, suffix)).status_code == 404


@pytest.mark.parametrize("persona", ["other_customer", "agent_in_wallet", "supervisor"])
@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("reply/", {"body": "Hi"}),
        ("solve/", {}),
        ("reopen/", {}),
        ("rate/", {"rating": "good"}),
    ],
)
def test_anyone_else_cannot_act_on_a_request(client, request, ticket, persona, suffix, data):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(detail_url(ticket, suffix), data).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.messages.count() == 1


def test_an_unknown_or_malformed_reference_is_404(signed_in, db):
    assert signed_in.get("/en/requests/HD-ZZZZZZ/").status_code == 404
    assert signed_in.get("/en/requests/not-a-reference/").status_code == 404


def test_actions_only_accept_post(signed_in, ticket):
    assert signed_in.get(detail_url(ticket, "solve/")).status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_posts_need_a_csrf_token(customer, ticket):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer)
    assert strict.post(detail_url(ticket, "solve/")).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


# The form ------------------------------------------------------------------------------


def test_form_lists_active_categories_with_descriptions_in_the_users_language(
    signed_in, withdrawal
):
    withdrawal.description_zh_hans = "提币处理中或未到账。"
    withdrawal.name_zh_hans = "提币问题"
    withdrawal.save()
    TicketCategoryFactory(slug="retired", name_en="Retired topic", is_active=False)
    page = signed_in.get("/zh-hans/requests/new/").content.decode()
    assert "提币问题" in page and "提币处理中或未到账。" in page
    assert "retired" not in page
    # The security reminder sits above the form.
    assert page.index("notice-safety") < page.index('id="request-form"')


def test_without_a_category_only_the_first_step_is_offered(signed_in, withdrawal):
    page = signed_in.get(NEW_URL).content.decode()
    assert re.search(r'data-category-fields="test-withdrawal" hidden disabled', page)
    assert re.search(r"data-after-category hidden", page)
    assert 'name="choose_category"' in page


def test_choosing_a_category_without_javascript_shows_its_fields(signed_in, withdrawal, general):
    response = signed_in.post(NEW_URL, {"category": withdrawal.slug, "choose_category": "1"})
    assert response.status_code == 302
    assert response.url == f"{NEW_URL}?category=test-withdrawal"

    page = signed_in.get(response.url).content.decode()
    assert re.search(r'data-category-fields="test-withdrawal">', page)
    assert 'name="test-withdrawal__txid"' in page
    assert "data-after-category hidden" not in page
    assert re.search(r'value="test-withdrawal"[^>]*\s+checked', page)


def test_coin_and_network_are_selects_with_the_registry_choices(signed_in, withdrawal):
    page = signed_in.get(f"{NEW_URL}?category={withdrawal.slug}").content.decode()
    coin = re.search(r'<select name="test-withdrawal__coin".*?</select>', page, re.S).group(0)
    network = re.search(r'<select name="test-withdrawal__network".*?</select>', page, re.S).group(0)
    for code, _label in networks.coin_choices():
        assert f'value="{code}"' in coin
    for code, _label in networks.network_choices():
        assert f'value="{code}"' in network
    # The JS filter reads which networks each coin travels on.
    assert '"USDT": ["ERC20", "TRC20"' in page


def test_a_valid_request_is_filed_and_confirmed(
    signed_in, customer, withdrawal, withdrawal_values, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            NEW_URL,
            {
                **request_data(withdrawal, fields=withdrawal_values),
                "attachments": [png_upload()],
            },
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/en/requests/{ticket.reference}/submitted/"
    assert ticket.requester == customer
    assert ticket.language == "en"
    assert ticket.fields["txid"] == TRON_TXID and ticket.fields["coin"] == "USDT"
    attachment = ticket.messages.get().attachments.get()
    assert attachment.original_name == "screenshot.png" and attachment.thumbnail
    assert len(mail.outbox) == 1 and ticket.reference in mail.outbox[0].subject

    page = signed_in.get(response.url).content.decode()
    assert ticket.reference in page
    assert "within 24 hours" in page
    assert f'href="/en/requests/{ticket.reference}/"' in page


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (Priority.URGENT, "within 30 minutes"),
        (Priority.HIGH, "within 2 hours"),
        (Priority.NORMAL, "within 24 hours"),
        (Priority.LOW, "within 72 hours"),
    ],
)
def test_confirmation_shows_the_first_response_target_of_the_priority(
    signed_in, customer, general, priority, expected
):
    ticket = TicketFactory(requester=customer, category=general, priority=priority)
    assert expected in signed_in.get(detail_url(ticket, "submitted/")).content.decode()


def test_a_compromise_category_is_urgent_and_promises_30_minutes(signed_in, db):
    compromised = TicketCategoryFactory(slug="compromised", name_en="Hacked", is_compromise=True)
    response = signed_in.post(NEW_URL, request_data(compromised, subject="Someone stole my BTC"))
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.URGENT
    assert "within 30 minutes" in signed_in.get(response.url).content.decode()


# Validation: per network, translated, keeps what was typed ----------------------------

NETWORK_CASES = [
    ("BTC", "BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", None, "abc123"),
    ("ETH", "ERC20", "0xdAC17F958D2ee523a2206206994597C13D831ec7", None, TRON_TXID),
    ("USDT", "TRC20", TRC20_ADDRESS, None, ETH_TXID),
    ("SOL", "SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", None, "0xnot-base58"),
    ("XRP", "XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", "12345", "zz" * 10),
]


def expected_error(validator, network, value) -> str:
    with pytest.raises(ValidationError) as caught:
        validator(network, value)
    return caught.value.messages[0]


@pytest.mark.parametrize(("coin", "network", "address", "memo", "bad_txid"), NETWORK_CASES)
def test_a_bad_txid_is_shown_next_to_its_field_with_the_networks_message(
    signed_in, withdrawal, coin, network, address, memo, bad_txid
):
    fields = {"coin": coin, "network": network, "amount": "1", "address": address, "txid": bad_txid}
    if memo:
        fields["memo"] = memo
    response = signed_in.post(NEW_URL, request_data(withdrawal, fields=fields))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[structured_name(withdrawal, "txid")] == [
        expected_error(networks.validate_txid, network, bad_txid)
    ]
    assert structured_name(withdrawal, "address") not in form.errors
    page = response.content.decode()
    assert f'value="{escape(bad_txid)}"' in page  # kept as typed
    assert 'value="USDT withdrawal not received"' in page
    assert not Ticket.objects.exists()


def test_validation_messages_are_in_the_users_language(client, customer, withdrawal):
    client.force_login(customer)
    fields = {"coin": "USDT", "network": "BTC", "amount": "1", "address": TRC20_ADDRESS}
    fields["txid"] = TRON_TXID
    response = client.post("/zh-hans/requests/new/", request_data(withdrawal, fields=fields))
    usdt_networks = ", ".join(sorted(n.code for n in networks.networks_for_coin("USDT")))
    message = "%(coin)s cannot be sent on this network; choose one of: %(networks)s."
    with translation.override("zh-hans"):
        expected = translation.gettext(message) % {"coin": "USDT", "networks": usdt_networks}
    assert expected.startswith("USDT 不支持")
    errors = response.context["form"].errors[structured_name(withdrawal, "network")]
    assert errors == [expected]

    fields.update(network="TRC20", txid=TRON_TXID[:40])
    response = client.post("/zh-hans/requests/new/", request_data(withdrawal, fields=fields))
    with translation.override("zh-hans"):
        expected = expected_error(networks.validate_txid, "TRC20", TRON_TXID[:40])
    assert "交易 ID" in expected
    assert response.context["form"].errors[structured_name(withdrawal, "txid")] == [expected]
    assert expected in response.content.decode()
    assert not Ticket.objects.exists()


def test_missing_required_fields_and_text_are_reported_together(signed_in, withdrawal):
    response = signed_in.post(
        NEW_URL, {"category": withdrawal.slug, "subject": "", "description": ""}
    )
    errors = response.context["form"].errors
    for name in ("subject", "description", structured_name(withdrawal, "txid")):
        assert name in errors
    assert nothing_stored()


def test_an_inactive_or_unknown_category_is_refused(signed_in, withdrawal):
    withdrawal.is_active = False
    withdrawal.save()
    response = signed_in.post(NEW_URL, request_data(withdrawal))
    assert "category" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_bidi_overrides_in_the_subject_are_refused(signed_in, general):
    response = signed_in.post(NEW_URL, request_data(general, subject="refund \u202eexe.pdf"))
    assert "subject" in response.context["form"].errors
    assert not Ticket.objects.exists()


# Upload attacks ------------------------------------------------------------------------


FAKE_PNG = b"\x89PNG\r\n\x1a\n" + b"this is not really an image" * 10
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png() -> bytes:
    """A PNG whose header claims 30,000 × 30,000 pixels (a few hundred bytes on disk)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("screenshot.png", FAKE_PNG, "This file is not a valid image."),
        ("logo.svg", SVG, "HTML, SVG and XML files are not accepted."),
        ("page.txt", b"<html><body>hi</body></html>", "HTML, SVG and XML files are not accepted."),
        ("photo.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "This type of file is not"),
        ("bomb.png", _bomb_png(), "This image has too many pixels."),
        ("cut.png", _png_bytes()[:-60], "This file is not a valid image."),
        ("both.png", _png_bytes() + b"<script>alert(1)</script>", "This file has something else"),
    ],
)
def test_refused_uploads_are_reported_per_file_and_nothing_is_stored(
    signed_in, general, name, content, message
):
    response = signed_in.post(
        NEW_URL,
        {
            **request_data(general),
            "attachments": [png_upload("fine.png"), SimpleUploadedFile(name, content)],
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert len(errors) == 1
    assert errors[0].startswith(f"“{name}” was not attached: {message}")
    assert nothing_stored()
    assert "attach them again" in response.content.decode()


def test_an_oversized_file_is_refused(signed_in, general, settings):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("debug.log", b"x" * (1024 * 1024 + 1))
    response = signed_in.post(NEW_URL, {**request_data(general), "attachments": [big]})
    assert response.context["form"].errors["attachments"] == [
        "“debug.log” was not attached: The file is larger than 1 MB."
    ]
    assert nothing_stored()


def test_six_files_are_refused_before_any_is_read(signed_in, general):
    files = [png_upload(f"shot-{number}.png") for number in range(6)]
    response = signed_in.post(NEW_URL, {**request_data(general), "attachments": files})
    assert response.context["form"].errors["attachments"] == [
        "Attach at most 5 files to one message."
    ]
    assert nothing_stored()


def test_a_field_error_stores_no_upload(signed_in, withdrawal, withdrawal_values):
    fields = {**withdrawal_values, "txid": "nonsense"}
    response = signed_in.post(
        NEW_URL, {**request_data(withdrawal, fields=fields), "attachments": [png_upload()]}
    )
    assert structured_name(withdrawal, "txid") in response.context["form"].errors
    assert nothing_stored()


# Duplicate guard -----------------------------------------------------------------------


@pytest.fixture
def existing(open_request, withdrawal, withdrawal_values):
    return open_request(
        category=withdrawal,
        subject="USDT withdrawal not received",
        fields=withdrawal_values,
        language="en",
    )


def test_a_similar_open_request_is_offered_instead_of_a_new_one(
    signed_in, existing, withdrawal, withdrawal_values
):
    response = signed_in.post(
        NEW_URL,
        {
            **request_data(
                withdrawal, subject="My USDT withdrawal not received", fields=withdrawal_values
            ),
            "attachments": [png_upload()],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert existing.reference in page
    assert f'name="add_to" value="{existing.reference}"' in page
    assert 'name="confirm_new" value="1"' in page
    assert Ticket.objects.count() == 1
    # The screenshot is kept, unattached, for whichever choice comes next.
    pending = Attachment.objects.get()
    assert pending.message is None
    assert f'value="{pending.uuid}"' in page and "checked" in page


def test_filing_a_new_request_anyway_keeps_the_uploaded_files(
    signed_in, existing, withdrawal, withdrawal_values
):
    signed_in.post(
        NEW_URL,
        {**request_data(withdrawal, fields=withdrawal_values), "attachments": [png_upload()]},
    )
    pending = Attachment.objects.get()
    response = signed_in.post(
        NEW_URL,
        {
            **request_data(withdrawal, fields=withdrawal_values),
            "pending": [str(pending.uuid)],
            "confirm_new": "1",
        },
    )
    created = Ticket.objects.exclude(pk=existing.pk).get()
    assert response.url == f"/en/requests/{created.reference}/submitted/"
    assert list(created.messages.get().attachments.all()) == [pending]


def test_adding_the_message_to_the_existing_request_posts_a_reply_there(
    signed_in, existing, withdrawal, withdrawal_values
):
    signed_in.post(
        NEW_URL,
        {**request_data(withdrawal, fields=withdrawal_values), "attachments": [png_upload()]},
    )
    pending = Attachment.objects.get()
    response = signed_in.post(
        NEW_URL,
        {
            **request_data(withdrawal, fields=withdrawal_values),
            "pending": [str(pending.uuid)],
            "add_to": existing.reference,
        },
        follow=True,
    )
    assert Ticket.objects.count() == 1
    reply = existing.messages.order_by("-pk").first()
    assert reply.body.startswith("I withdrew 100 USDT")
    assert list(reply.attachments.all()) == [pending]
    assert response.redirect_chain[-1][0].startswith(f"/en/requests/{existing.reference}/")
    assert f"Your message was added to {existing.reference}." in response.content.decode()


def test_a_request_with_the_same_txid_is_a_duplicate_in_any_category(
    signed_in, existing, withdrawal_values
):
    other = TicketCategoryFactory(slug="deposit-like", name_en="Deposit")
    for key in ("coin", "network", "txid"):
        TicketFieldFactory(category=other, key=key, field_type=key, required=True)
    fields = {key: withdrawal_values[key] for key in ("coin", "network", "txid")}
    response = signed_in.post(
        NEW_URL, request_data(other, subject="Completely different", fields=fields)
    )
    assert existing.reference in response.content.decode()
    assert Ticket.objects.count() == 1


def test_one_cannot_add_a_message_to_someone_elses_request(
    client, other_customer, existing, withdrawal, withdrawal_values
):
    client.force_login(other_customer)
    response = client.post(
        NEW_URL,
        {**request_data(withdrawal, fields=withdrawal_values), "add_to": existing.reference},
    )
    assert response.status_code == 404
    assert existing.messages.count() == 1


def test_someone_elses_pending_upload_cannot_be_claimed(signed_in, other_customer, general):
    theirs = AttachmentFactory(uploaded_by=other_customer)
    response = signed_in.post(
        NEW_URL, {**request_data(general), "pending": [str(theirs.uuid)], "confirm_new": "1"}
    )
    assert "pending" in response.context["form"].errors
    assert not Ticket.objects.exists()


# Deflection ----------------------------------------------------------------------------


def test_this_solved_my_problem_counts_a_deflection_and_files_nothing(
    signed_in, customer, article, general
):
    response = signed_in.post(
        "/en/requests/new/deflect/",
        {
            "article": "withdrawal-not-received",
            "language": "en",
            "subject": "withdrawal missing",
            "category": general.slug,
        },
        follow=True,
    )
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article_key, deflection.category) == (
        customer,
        "withdrawal-not-received",
        general,
    )
    assert deflection.subject == "withdrawal missing"
    page = response.content.decode()
    assert "Glad it helped!" in page
    assert 'href="/en/articles/withdrawal-not-received/"' in page
    assert not Ticket.objects.exists()


def test_a_deflection_for_an_unknown_article_is_not_counted(signed_in, db):
    response = signed_in.post(
        "/en/requests/new/deflect/", {"article": "no-such-article", "language": "en"}
    )
    assert response.status_code == 404
    assert not Deflection.objects.exists()


def test_the_form_points_the_suggestions_at_the_public_search_api(signed_in, general):
    page = signed_in.get(f"/ja/requests/new/?category={general.slug}").content.decode()
    assert 'data-search-url="/api/v1/helpcenter/search/"' in page
    assert 'data-language="ja"' in page
    assert 'action="/ja/requests/new/deflect/"' in page
    assert "js/tickets.js" in page


def test_the_ticket_script_is_only_on_ticket_pages(signed_in, db):
    assert "js/tickets.js" not in signed_in.get("/en/").content.decode()


# My requests ---------------------------------------------------------------------------


def test_my_requests_lists_only_mine_newest_activity_first(
    signed_in, customer, other_customer, general
):
    now = timezone.now()
    old = TicketFactory(requester=customer, category=general, subject="Older one")
    old.updated_at = now
    old.save()
    recent = TicketFactory(requester=customer, category=general, subject="Newer one")
    recent.updated_at = now - datetime.timedelta(days=1)
    recent.save()
    TicketFactory(requester=other_customer, category=general, subject="Not mine")
    page = signed_in.get(LIST_URL).content.decode()
    assert "Not mine" not in page
    assert page.index("Older one") < page.index("Newer one")


@pytest.mark.parametrize(
    ("status_filter", "shown"),
    [
        ("", {"new", "open", "waiting", "solved", "closed"}),
        ("active", {"new", "open", "waiting"}),
        ("waiting", {"waiting"}),
        ("solved", {"solved"}),
        ("closed", {"closed"}),
    ],
)
def test_status_filter(signed_in, customer, general, status_filter, shown):
    for status in Status.values:
        TicketFactory(
            requester=customer, category=general, status=status, subject=f"Subject {status}"
        )
    page = signed_in.get(LIST_URL, {"status": status_filter}).content.decode()
    assert {status for status in Status.values if f"Subject {status}" in page} == shown


def test_waiting_requests_are_marked_as_waiting_on_me(signed_in, customer, general):
    TicketFactory(requester=customer, category=general, status=Status.WAITING)
    page = signed_in.get(LIST_URL).content.decode()
    assert "Waiting on you" in page
    assert "One request is waiting for your reply." in page
    assert "Support needs your reply" in page


def test_search_by_reference_subject_and_txid(signed_in, ticket, customer, general):
    TicketFactory(requester=customer, category=general, subject="KYC rejected")
    for query in (ticket.reference, ticket.reference.lower(), "withdrawal not", TRON_TXID.upper()):
        page = signed_in.get(LIST_URL, {"q": query}).content.decode()
        assert ticket.reference in page, query
        assert "KYC rejected" not in page, query
    assert (
        "No requests match." in signed_in.get(LIST_URL, {"q": "nothing like it"}).content.decode()
    )


def test_my_requests_query_count_does_not_grow_with_the_list(
    signed_in, customer, general, django_assert_max_num_queries
):
    TicketFactory(requester=customer, category=general)
    with django_assert_max_num_queries(8) as one:
        signed_in.get(LIST_URL)
    TicketFactory.create_batch(29, requester=customer, category=TicketCategoryFactory())
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = signed_in.get(LIST_URL)
    assert response.context["page"].paginator.count == 30


@pytest.mark.parametrize(
    "params", [{}, {"status": "active"}, {"status": "waiting"}, {"q": "withdrawal"}]
)
def test_my_requests_costs_seven_queries_for_one_row_or_a_full_page(
    signed_in, customer, general, params, django_assert_num_queries
):
    """Session, user, count, page, the waiting count, and permissions (2, for the menu)."""
    make = {"requester": customer, "category": general, "status": Status.WAITING}
    TicketFactory(subject="USDT withdrawal", **make)
    with django_assert_num_queries(7) as one:
        signed_in.get(LIST_URL, params)
    assert len(one.captured_queries) == 7
    TicketFactory.create_batch(25, subject="Another withdrawal", **make)
    with django_assert_num_queries(7):
        response = signed_in.get(LIST_URL, params)
    assert len(response.context["page"].object_list) == 20


def test_my_requests_is_paginated(signed_in, customer, general):
    TicketFactory.create_batch(25, requester=customer, category=general)
    page = signed_in.get(LIST_URL, {"status": "active"}).content.decode()
    assert 'rel="next" href="?status=active&amp;page=2"' in page


# The request page ----------------------------------------------------------------------


def test_request_page_shows_fields_thread_and_public_timeline_only(
    signed_in, ticket, agent_in_wallet
):
    services.ticket_reply(
        ticket=ticket, author=agent_in_wallet, body="Secret: looks like fraud", internal=True
    )
    services.ticket_reply(ticket=ticket, author=agent_in_wallet, body="We are checking the chain.")
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert "We are checking the chain." in page
    assert "looks like fraud" not in page
    assert f'<code class="mono identifier">{TRON_TXID}</code>' in page
    assert f'data-copy="{TRON_TXID}"' in page
    assert f"https://tronscan.org/#/transaction/{TRON_TXID}" in page
    assert "Request submitted" in page
    assert "In progress" in page  # the agent's reply opened it
    # Queue mechanics (team, assignee) are internal events.
    assert "Assignee changed" not in page and "Team changed" not in page


def test_request_page_query_count_does_not_grow_with_the_thread(
    signed_in, ticket, agent_in_wallet, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as few:
        signed_in.get(detail_url(ticket))
    for number in range(8):
        services.ticket_reply(ticket=ticket, author=agent_in_wallet, body=f"Update {number}")
        attachment = services.attachment_store(
            data=png_bytes(), filename="more.png", uploaded_by=ticket.requester
        )
        services.ticket_reply(
            ticket=ticket, author=ticket.requester, body="Ok", attachments=[attachment]
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        signed_in.get(detail_url(ticket))


def test_user_text_renders_inert(signed_in, customer, general, agent):
    text_category = TicketCategoryFactory(slug="text-only", name_en="Text")
    TicketFieldFactory(category=text_category, key="note", field_type=FieldType.TEXT)
    response = signed_in.post(
        NEW_URL,
        {
            **request_data(text_category, subject=XSS, fields={"note": XSS}),
            "description": XSS,
            "attachments": [png_upload('"><svg onload=alert(1)>.png')],
        },
    )
    created = Ticket.objects.get()
    signed_in.post(detail_url(created, "reply/"), {"body": XSS})
    for path in (detail_url(created), detail_url(created, "submitted/"), LIST_URL):
        page = signed_in.get(path).content.decode()
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page, path
        assert "<svg onload" not in page, path
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page, path
    assert response.status_code == 302


# Replying, solving, reopening, rating --------------------------------------------------


def test_reply_with_an_attachment(signed_in, ticket):
    response = signed_in.post(
        detail_url(ticket, "reply/"),
        {"body": "Here is the screenshot.", "attachments": [png_upload()]},
    )
    reply = ticket.messages.order_by("-pk").first()
    assert response.status_code == 302
    assert response.url == f"{detail_url(ticket)}#message-{reply.pk}"
    assert reply.attachments.get().original_name == "screenshot.png"


def test_an_empty_reply_is_refused_with_a_message(signed_in, ticket):
    response = signed_in.post(detail_url(ticket, "reply/"), {"body": "   "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors["body"] == ["This field is required."]
    assert ticket.messages.count() == 1


def test_a_refused_reply_attachment_stores_nothing(signed_in, ticket):
    response = signed_in.post(
        detail_url(ticket, "reply/"),
        {"body": "see file", "attachments": [SimpleUploadedFile("x.svg", SVG)]},
    )
    assert "attachments" in response.context["reply_form"].errors
    assert ticket.messages.count() == 1
    assert not Attachment.objects.exists() and not stored_files()


def test_replying_to_a_waiting_request_reopens_the_conversation(signed_in, ticket, agent_in_wallet):
    services.ticket_change_status(
        ticket=ticket,
        actor=agent_in_wallet,
        to_status=Status.WAITING,
        expected_version=ticket.version,
    )
    assert (
        "Support is waiting for your reply." in signed_in.get(detail_url(ticket)).content.decode()
    )
    signed_in.post(detail_url(ticket, "reply/"), {"body": "Here you go."})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_a_reply_to_a_closed_request_opens_a_follow_up(
    signed_in, ticket, customer, agent_in_wallet, django_capture_on_commit_callbacks
):
    services.ticket_solve_by_customer(ticket=ticket, customer=customer)
    services.ticket_change_status(
        ticket=ticket,
        actor=agent_in_wallet,
        to_status=Status.CLOSED,
        expected_version=ticket.version,
    )
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert "If you write, a new request linked to this one is opened." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            detail_url(ticket, "reply/"), {"body": "It happened again."}, follow=True
        )
    follow_up = Ticket.objects.get(follow_up_of=ticket)
    assert response.redirect_chain[-1][0] == detail_url(follow_up)
    page = response.content.decode()
    assert (
        f"{ticket.reference} is closed, so your message opened a new request, {follow_up.reference}"
        in page
    )
    # The customer gets the follow-up's confirmation (its new agent, an assignment notice).
    [confirmation] = [email for email in mail.outbox if email.to == [customer.email]]
    assert follow_up.reference in confirmation.subject


def test_mark_as_solved_then_reopen_then_rate(signed_in, ticket):
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert "Mark as solved" in page and "Rate our support" not in page
    response = signed_in.post(
        detail_url(ticket, "solve/"), {"version": ticket.version}, follow=True
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED
    page = response.content.decode()
    assert "The request is marked as solved." in page
    assert "Reopen" in page and "Rate our support" in page

    signed_in.post(detail_url(ticket, "reopen/"), {"version": ticket.version})
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN

    signed_in.post(detail_url(ticket, "solve/"), {"version": ticket.version})
    response = signed_in.post(
        detail_url(ticket, "rate/"), {"rating": "good", "comment": "Fast, thanks"}
    )
    assert response.url == f"{detail_url(ticket)}#rating"
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == ("good", "Fast, thanks")
    assert "You rated the support: good" in signed_in.get(detail_url(ticket)).content.decode()


def test_solving_a_request_changed_meanwhile_is_reported_not_applied(
    signed_in, ticket, agent_in_wallet
):
    shown_version = ticket.version
    services.ticket_reply(
        ticket=ticket, author=agent_in_wallet, body="Could you send the TXID again?"
    )
    response = signed_in.post(detail_url(ticket, "solve/"), {"version": shown_version}, follow=True)
    assert response.status_code == 200
    assert (
        "Someone else changed this request; reload to see their change."
        in response.content.decode()
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_reopening_after_the_window_is_refused_with_a_message(
    signed_in, ticket, customer, settings
):
    services.ticket_solve_by_customer(
        ticket=ticket, customer=customer, now=timezone.now() - datetime.timedelta(days=30)
    )
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert f'action="/en/requests/{ticket.reference}/reopen/"' not in page
    response = signed_in.post(detail_url(ticket, "reopen/"), follow=True)
    assert response.status_code == 200
    assert "cannot be reopened" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_rating_an_open_request_is_refused_without_a_500(signed_in, ticket):
    response = signed_in.post(detail_url(ticket, "rate/"), {"rating": "good"}, follow=True)
    assert response.status_code == 200
    assert "You can rate a request once it is solved." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.rating == ""


def test_a_rating_needs_a_choice(signed_in, ticket, customer):
    services.ticket_solve_by_customer(ticket=ticket, customer=customer)
    response = signed_in.post(detail_url(ticket, "rate/"), {"comment": "meh"})
    assert response.context["rating_form"].errors["rating"] == ["Choose good or bad."]


def test_solving_twice_is_a_message_not_an_error(signed_in, ticket, customer):
    services.ticket_solve_by_customer(ticket=ticket, customer=customer)
    response = signed_in.post(detail_url(ticket, "solve/"), follow=True)
    assert response.status_code == 200
    assert "already" in response.content.decode()


def test_a_merged_request_does_not_name_another_customers_request(
    signed_in, ticket, other_customer, withdrawal, supervisor
):
    theirs = TicketFactory(requester=other_customer, category=withdrawal)
    services.ticket_merge(source=ticket, target=theirs, actor=supervisor)
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert theirs.reference not in page
    assert "merged into another request" in page


# Attachments ---------------------------------------------------------------------------


@pytest.fixture
def attached(ticket, customer):
    """A PNG the customer sent with a reply on `ticket` (wallet team)."""
    upload = services.attachment_store(data=png_bytes(), filename="proof.png", uploaded_by=customer)
    services.ticket_reply(ticket=ticket, author=customer, body="proof", attachments=[upload])
    return upload


def attachment_url(attachment, thumb=False) -> str:
    return f"/en/requests/attachments/{attachment.uuid}/" + ("thumb/" if thumb else "")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("customer", 200),
        ("other_customer", 404),
        ("agent_in_wallet", 200),
        ("other_team_agent", 404),
        ("supervisor", 200),
    ],
)
@pytest.mark.parametrize("thumb", [False, True])
def test_attachment_permission_matrix(client, request, attached, persona, status, thumb):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(attachment_url(attached, thumb))
    assert response.status_code == status


def test_anonymous_visitors_cannot_download(client, attached):
    response = client.get(attachment_url(attached))
    assert response.status_code == 302


def test_an_internal_notes_file_is_never_served_to_the_customer(
    client, ticket, customer, agent_in_wallet
):
    upload = services.attachment_store(
        data=png_bytes(), filename="note.png", uploaded_by=agent_in_wallet
    )
    services.ticket_reply(
        ticket=ticket, author=agent_in_wallet, body="n", internal=True, attachments=[upload]
    )
    client.force_login(customer)
    assert client.get(attachment_url(upload)).status_code == 404
    client.force_login(agent_in_wallet)
    assert client.get(attachment_url(upload)).status_code == 200


def test_an_unsent_upload_is_only_for_its_uploader(client, customer, other_customer, supervisor):
    upload = services.attachment_store(
        data=b"log line\n", filename="debug.log", uploaded_by=customer
    )
    client.force_login(customer)
    assert client.get(attachment_url(upload)).status_code == 200
    for someone in (other_customer, supervisor):
        client.force_login(someone)
        assert client.get(attachment_url(upload)).status_code == 404


def test_an_unknown_attachment_is_404(signed_in, db):
    assert (
        signed_in.get("/en/requests/attachments/7c1f8f1c-3a7e-4a55-9d5b-0c55d1f0a111/").status_code
        == 404
    )


def test_image_responses_are_inline_and_locked_down(signed_in, attached):
    response = signed_in.get(attachment_url(attached))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    assert response["Content-Disposition"].startswith("inline")
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    thumb = signed_in.get(attachment_url(attached, thumb=True))
    assert thumb["Content-Type"] in {"image/png", "image/jpeg"}


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("debug.log", b"2026-01-01 error\n", "text/plain; charset=utf-8"),
        ("statement.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf"),
    ],
)
def test_pdf_and_text_are_always_downloads(
    signed_in, ticket, customer, name, content, content_type
):
    upload = services.attachment_store(data=content, filename=name, uploaded_by=customer)
    services.ticket_reply(ticket=ticket, author=customer, body="file", attachments=[upload])
    response = signed_in.get(attachment_url(upload))
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment")
    assert name in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert signed_in.get(attachment_url(upload, thumb=True)).status_code == 404


def test_request_page_shows_thumbnails_and_download_links(signed_in, ticket, attached):
    page = signed_in.get(detail_url(ticket)).content.decode()
    assert f'src="{attachment_url(attached, thumb=True)}"' in page
    assert f'href="{attachment_url(attached)}"' in page


def test_a_deflection_with_a_garbled_subject_is_still_counted(signed_in, article):
    response = signed_in.post(
        "/en/requests/new/deflect/",
        {"article": "withdrawal-not-received", "language": "en", "subject": "bad\x00subject"},
    )
    assert response.status_code == 302
    assert Deflection.objects.get().subject == ""
