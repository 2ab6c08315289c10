"""Incoming email becoming replies, new requests or recorded refusals (tickets.mail_ingest)."""

import threading
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.tickets.test_mail_parsing import (
    APPLE_REPLY,
    EUC_KR_REPLY,
    GB2312_REPLY,
    GMAIL_REPLY,
    HTML_ONLY_REPLY,
    ISO2022JP_REPLY,
    OUTLOOK_REPLY,
    QQ_REPLY,
    SHIFT_JIS_REPLY,
    STRANGER_REPLY,
)
from tickets import mail_ingest, services
from tickets.lifecycle import Status
from tickets.models import (
    Channel,
    EventKind,
    InboundEmail,
    InboundSource,
    InboundStatus,
    Message,
    Notification,
    NotificationKind,
    NotificationStatus,
    Ticket,
)

EMAILS = Path(__file__).parent / "emails"
MB = 1024 * 1024
# What the desk's outgoing mail was sent with (the samples quote these ids).
REPLY_ID = "hd-7k3p9q.reply.4d5e6f@support.example.com"
CREATED_ID = "hd-7k3p9q.created.1a2b3c@support.example.com"


def sample(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def ingest(raw_or_name: bytes | str) -> InboundEmail:
    raw = sample(raw_or_name) if isinstance(raw_or_name, str) else raw_or_name
    return mail_ingest.ingest(raw, source=InboundSource.COMMAND)


def simple_email(
    body: str = "Hello, my deposit is missing.",
    *,
    sender: str = "Alice Chen <alice.chen@example.com>",
    subject: str = "Deposit missing",
    message_id: str = "<simple.1@mail.example.com>",
    headers: str = "",
) -> bytes:
    return (
        f"From: {sender}\nTo: support@example.com\nSubject: {subject}\n"
        f"Date: Tue, 3 Nov 2026 11:00:00 +0000\nMessage-ID: {message_id}\nMIME-Version: 1.0\n"
        f'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit\n'
        f"{headers}\n{body}\n"
    ).encode()


@pytest.fixture(autouse=True)
def desk(settings, general):
    """Incoming mail files new requests under `general`; the desk writes as support@example.com."""
    settings.INBOUND_EMAIL_CATEGORY = general.slug
    settings.INBOUND_EMAIL_CREATE_ACCOUNTS = True
    settings.SUPPORT_REPLY_ADDRESS = "support@example.com"
    settings.DEFAULT_FROM_EMAIL = "Crypto Exchange Support <support@example.com>"


@pytest.fixture
def alice(db):
    """Alice Chen: a customer who writes from Gmail in English."""
    return UserFactory(email="alice.chen@example.com", display_name="Alice Chen")


def request_of(requester, reference, open_request, *, sent=(REPLY_ID,), language="en", **kw):
    """A request of `requester` known by `reference`, on which the desk sent emails `sent`."""
    ticket = open_request(requester=requester, language=language, **kw)
    Ticket.objects.filter(pk=ticket.pk).update(reference=reference)
    ticket.refresh_from_db()
    for message_id in sent:
        Notification.objects.create(
            kind=NotificationKind.AGENT_REPLY,
            ticket=ticket,
            recipient=requester,
            email_message_id=message_id,
            status=NotificationStatus.SENT,
            sent_at=timezone.now(),
        )
    return ticket


def waiting_on_customer(ticket, agent):
    services.ticket_reply(ticket=ticket, author=agent, body="Could you send the TXID?")
    ticket.refresh_from_db()
    services.ticket_change_status(
        ticket=ticket, actor=agent, to_status=Status.WAITING, expected_version=ticket.version
    )
    ticket.refresh_from_db()
    return ticket


def solved(ticket, agent, *, days_ago=0):
    services.ticket_reply(ticket=ticket, author=agent, body="Fixed on our side.")
    ticket.refresh_from_db()
    services.ticket_change_status(
        ticket=ticket, actor=agent, to_status=Status.SOLVED, expected_version=ticket.version
    )
    if days_ago:
        Ticket.objects.filter(pk=ticket.pk).update(
            solved_at=timezone.now() - timedelta(days=days_ago)
        )
    ticket.refresh_from_db()
    return ticket


def last_message(ticket) -> Message:
    return ticket.messages.order_by("-created_at", "-pk").first()


# Replies --------------------------------------------------------------------------------------


def test_gmail_reply_is_posted_on_its_request_without_history_or_signature(
    alice, agent, open_request
):
    """The requester's answer reopens the request waiting on her; only her new text is stored."""
    ticket = waiting_on_customer(request_of(alice, "HD-7K3P9Q", open_request), agent)

    inbound = ingest("gmail_reply.eml")

    ticket.refresh_from_db()
    message = last_message(ticket)
    assert inbound.status == InboundStatus.REPLY
    assert (inbound.ticket, inbound.message) == (ticket, message)
    assert message.body == GMAIL_REPLY
    assert (message.author, message.channel, message.is_internal) == (alice, Channel.EMAIL, False)
    assert ticket.status == Status.OPEN
    assert inbound.email_message_id == "cagx3k9qv7d2mpzx+1ftq8wjh5s0o=yb6a@mail.example.com"
    assert inbound.sender == "alice.chen@example.com"


def test_the_original_email_is_kept_and_downloadable_only_by_those_who_see_the_request(
    client, alice, other_customer, agent, open_request
):
    request_of(alice, "HD-7K3P9Q", open_request)
    raw = sample("gmail_reply.eml")

    inbound = ingest(raw)

    original = inbound.message.attachments.get()
    assert (original.original_name, original.kind) == ("original-email.eml", "email")
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw
    url = reverse("tickets:attachment", kwargs={"uuid": original.uuid})
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content) == raw
    client.force_login(agent)
    assert client.get(url).status_code == 200
    client.force_login(other_customer)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "sender", "reference", "reply"),
    [
        ("outlook_reply.eml", "piotr.kowalski@example.net", "HD-4M8RTW", OUTLOOK_REPLY),
        ("apple_mail_reply.eml", "maria.garcia@example.net", "HD-Q2W3E4", APPLE_REPLY),
        ("html_only.eml", "kenji.watanabe@example.net", "HD-9XKZ2R", HTML_ONLY_REPLY),
        ("gb2312_reply.eml", "wang.zhe@example.com", "HD-7K3P9Q", GB2312_REPLY),
        ("shift_jis_reply.eml", "takahashi.ken@example.net", "HD-P7N4VB", SHIFT_JIS_REPLY),
        ("euc_kr_reply.eml", "minjun.kim@example.com", "HD-3BVQ8M", EUC_KR_REPLY),
        ("iso2022jp_reply.eml", "taro.yamada@example.com", "HD-W8R2KD", ISO2022JP_REPLY),
        ("qq_mail_reply.eml", "li.wei@example.com", "HD-7K3P9Q", QQ_REPLY),
    ],
)
def test_each_clients_reply_lands_on_the_senders_request_as_plain_new_text(
    name, sender, reference, reply, open_request
):
    requester = User.objects.filter(email=sender).first() or UserFactory(email=sender)
    ticket = request_of(requester, reference, open_request, sent=())

    inbound = ingest(name)

    assert inbound.status == InboundStatus.REPLY
    assert inbound.ticket == ticket
    assert last_message(ticket).body == reply
    assert ticket.messages.count() == 2


def test_a_reply_threads_by_the_message_id_the_desk_sent_even_without_a_reference(
    alice, open_request
):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)
    raw = sample("gmail_reply.eml").replace(b"[HD-7K3P9Q] ", b"")

    inbound = ingest(raw)

    assert (inbound.status, inbound.ticket) == (InboundStatus.REPLY, ticket)


def test_a_reply_threads_by_the_plus_address_it_was_sent_to(alice, open_request):
    """A phone client that dropped In-Reply-To and the subject tag still reaches the request."""
    ticket = request_of(alice, "HD-7K3P9Q", open_request, sent=())

    inbound = ingest("plus_address_reply.eml")

    assert (inbound.status, inbound.ticket) == (InboundStatus.REPLY, ticket)
    assert last_message(ticket).body == "It arrived just now, thank you!"


def test_a_follow_up_to_the_customers_own_email_joins_the_request_it_opened():
    first = ingest("forwarded.eml")
    assert first.status == InboundStatus.NEW_TICKET

    second = ingest("reply_to_own_email.eml")

    assert (second.status, second.ticket) == (InboundStatus.REPLY, first.ticket)
    assert last_message(first.ticket).body.startswith("One more thing: I did NOT click the link.")


def test_a_stranger_quoting_someone_elses_reference_gets_a_request_of_their_own(
    alice, open_request
):
    alices = request_of(alice, "HD-7K3P9Q", open_request)

    inbound = ingest("stranger_quoting_reference.eml")

    assert alices.messages.count() == 1  # nothing was added to Alice's request
    assert inbound.status == InboundStatus.NEW_TICKET
    stranger = User.objects.get(email="alice.chen.support@example.net")
    ticket = inbound.ticket
    assert ticket != alices
    assert ticket.requester == stranger
    assert ticket.subject == 'USDT withdrawal stuck in "processing"'
    assert ticket.description == STRANGER_REPLY
    assert "HD-7K3P9Q" in inbound.reason
    assert not stranger.is_email_verified
    assert not stranger.has_usable_password()


def test_the_reply_of_an_address_cced_on_the_request_is_accepted(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)
    Ticket.objects.filter(pk=ticket.pk).update(cc_emails=["bob.chen@example.com"])

    inbound = ingest("cc_reply.eml")

    message = last_message(ticket)
    assert (inbound.status, inbound.ticket) == (InboundStatus.REPLY, ticket)
    assert message.author == alice  # the conversation is hers
    assert message.body.startswith(
        "From bob.chen@example.com:\n\nAdding to what Alice wrote: our treasury wallet"
    )
    assert not User.objects.filter(email="bob.chen@example.com").exists()


def test_an_address_not_cced_on_the_request_cannot_reply_on_it(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)

    inbound = ingest("cc_reply.eml")

    assert inbound.status == InboundStatus.NEW_TICKET
    assert inbound.ticket.requester.email == "bob.chen@example.com"
    assert ticket.messages.count() == 1


def test_a_reply_to_a_request_solved_within_the_window_reopens_it(alice, agent, open_request):
    ticket = solved(request_of(alice, "HD-7K3P9Q", open_request), agent, days_ago=2)

    inbound = ingest("gmail_reply.eml")

    ticket.refresh_from_db()
    assert (inbound.status, inbound.ticket) == (InboundStatus.REPLY, ticket)
    assert ticket.status == Status.OPEN
    assert ticket.events.filter(kind=EventKind.REOPENED).exists()


def test_a_reply_after_the_reopen_window_opens_a_linked_follow_up(alice, agent, open_request):
    ticket = solved(request_of(alice, "HD-7K3P9Q", open_request), agent, days_ago=30)

    inbound = ingest("gmail_reply.eml")

    ticket.refresh_from_db()
    follow_up = inbound.ticket
    assert inbound.status == InboundStatus.REPLY
    assert follow_up.follow_up_of == ticket
    assert follow_up.channel == Channel.EMAIL
    assert follow_up.description == GMAIL_REPLY
    assert ticket.status == Status.SOLVED
    assert f"opened follow-up {follow_up.reference}" in inbound.reason


def test_a_reply_from_a_disabled_account_is_refused_without_an_answer(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)
    User.objects.filter(pk=alice.pk).update(is_active=False)

    inbound = ingest("gmail_reply.eml")

    assert inbound.status == InboundStatus.REFUSED
    assert ticket.messages.count() == 1
    assert not Notification.objects.filter(to_email="alice.chen@example.com").exists()


# New requests -------------------------------------------------------------------------------


def test_new_mail_from_a_customer_opens_a_request_in_their_language_with_the_ccs(customer, general):
    """Li Wei reads the portal in Chinese; his colleague on Cc may answer on the request."""
    inbound = ingest("new_request_cc.eml")

    ticket = inbound.ticket
    assert inbound.status == InboundStatus.NEW_TICKET
    assert (ticket.requester, ticket.language, ticket.channel) == (
        customer,
        "zh-hans",
        Channel.EMAIL,
    )
    assert ticket.category == general
    assert ticket.subject == "合约账户划转失败"
    assert ticket.description.startswith("你好，\n\n我从合约账户划转 2,000 USDT")
    assert ticket.cc_emails == ["zhang.min@example.com"]  # the desk's own address is not a CC
    assert inbound.message == ticket.messages.get()


@pytest.fixture
def closed_all_week(settings):
    """Support hours that are never open now: only the first minute of 1 January."""
    from tickets.models import SlaCalendar

    SlaCalendar.objects.create(
        name="Never now", time_zone="UTC", weekly={"mon": [["00:00", "00:01"]]}
    )
    settings.SUPPORT_HOURS_CALENDAR = "Never now"


def test_outside_support_hours_new_mail_is_told_when_support_opens(customer, closed_all_week):
    inbound = ingest("new_request_cc.eml")
    again = ingest(simple_email(sender=customer.email, message_id="<second@mail.example.com>"))

    [reply] = Notification.objects.filter(kind=NotificationKind.OUT_OF_HOURS, ticket=inbound.ticket)
    assert reply.recipient == customer
    assert "opens_at" in reply.context
    # A second request gets its own answer; the first one is not answered twice a day.
    assert again.ticket != inbound.ticket
    ingest(
        simple_email(
            sender=customer.email,
            subject=f"Re: [{inbound.ticket.reference}] more",
            message_id="<third@mail.example.com>",
        )
    )
    assert (
        Notification.objects.filter(
            kind=NotificationKind.OUT_OF_HOURS, ticket=inbound.ticket
        ).count()
        == 1
    )
    assert Notification.objects.filter(kind=NotificationKind.OUT_OF_HOURS).count() == 2


def test_ignored_mail_gets_no_out_of_hours_answer(closed_all_week):
    ingest(simple_email(headers="Auto-Submitted: auto-replied\n"))

    assert not Notification.objects.filter(kind=NotificationKind.OUT_OF_HOURS).exists()


def test_new_mail_from_an_unknown_address_creates_an_unverified_account_in_its_language():
    inbound = ingest("new_request_ko.eml")

    user = User.objects.get(email="seoyeon.park@example.kr")
    assert inbound.status == InboundStatus.NEW_TICKET
    assert inbound.ticket.requester == user
    assert inbound.ticket.language == "ko"
    assert (user.preferred_language, user.display_name) == ("ko", "박서연")
    assert not user.is_email_verified
    assert not user.has_usable_password()
    assert user.role.value == "customer"


def test_unknown_sender_is_refused_politely_when_accounts_from_email_are_off(settings):
    settings.INBOUND_EMAIL_CREATE_ACCOUNTS = False

    inbound = ingest("new_request_ko.eml")

    assert inbound.status == InboundStatus.REFUSED
    assert not User.objects.filter(email="seoyeon.park@example.kr").exists()
    answer = Notification.objects.get()
    assert answer.kind == NotificationKind.EMAIL_REFUSED
    assert (answer.to_email, answer.recipient, answer.language) == (
        "seoyeon.park@example.kr",
        None,
        "ko",
    )
    assert answer.context == {
        "subject": "출금 주소 변경 문의",
        "in_reply_to": "20261104181209.6F1A2B@mail.example.kr",
    }
    assert answer.dedupe_key == "inbound:email_refused:20261104181209.6f1a2b@mail.example.kr"


def test_automatic_answers_to_one_address_stop_after_five_a_day(settings):
    """A forged sender or an auto-responder without headers cannot make the desk spam."""
    settings.INBOUND_EMAIL_CREATE_ACCOUNTS = False

    for number in range(7):
        ingest(simple_email(sender="x@example.org", message_id=f"<n{number}@example.org>"))

    assert InboundEmail.objects.filter(status=InboundStatus.REFUSED).count() == 7
    assert Notification.objects.filter(to_email="x@example.org").count() == 5


def test_an_email_without_a_subject_is_named_after_its_first_line(alice):
    inbound = ingest(simple_email("Deposit of 5 SOL missing\n\nSent at 10:00.", subject=""))

    assert inbound.ticket.subject == "Deposit of 5 SOL missing"


# Attachments ----------------------------------------------------------------------------------


def test_attachments_are_checked_like_web_uploads(customer, open_request):
    """The screenshot and the PDF pass the upload checks and are attached with their names."""
    ticket = request_of(customer, "HD-7K3P9Q", open_request, sent=(REPLY_ID,))

    inbound = ingest("with_attachment.eml")

    message = inbound.message
    assert message.ticket == ticket
    names = sorted(message.attachments.values_list("original_name", "kind"))
    assert names == [
        ("original-email.eml", "email"),
        ("截图.png", "image"),
        ("提现记录 2026-11.pdf", "pdf"),
    ]
    assert "not attached" not in message.body


def test_refused_attachments_do_not_lose_the_message_and_are_listed_in_it(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)

    inbound = ingest("refused_attachment.eml")

    message = inbound.message
    assert (inbound.status, message.ticket) == (InboundStatus.REPLY, ticket)
    lines = message.body.split("\n")
    assert lines[0] == "Here are my wallet backup, the bank statement and the app log."
    assert lines[2].startswith("“wallet-backup.zip” was not attached: This type of file is not")
    assert (
        lines[3] == "“statement.html” was not attached: HTML, SVG and XML files are not accepted."
    )
    assert sorted(message.attachments.values_list("original_name", flat=True)) == [
        "app.log",
        "original-email.eml",
    ]


def test_only_as_many_files_as_a_web_message_takes_are_attached(settings, alice, open_request):
    settings.TICKET_ATTACHMENTS_PER_MESSAGE = 1
    request_of(alice, "HD-7K3P9Q", open_request)
    raw = sample("with_attachment.eml").replace(b"li.wei@example.com", b"alice.chen@example.com")

    inbound = ingest(raw)

    message = inbound.message
    assert message.attachments.filter(kind="image").count() == 1
    assert not message.attachments.filter(kind="pdf").exists()
    assert "“提现记录 2026-11.pdf” was not attached: Attach at most 1 files" in message.body


def test_a_flood_of_refused_files_is_summed_up_after_twenty(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)
    message = EmailMessage()
    message["From"] = "alice.chen@example.com"
    message["To"] = "support@example.com"
    message["Subject"] = "Re: [HD-7K3P9Q] files"
    message["Message-ID"] = "<many.files@mail.example.com>"
    message.set_content("All my exports.")
    for number in range(25):
        message.add_attachment(
            b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename=f"{number}.exe"
        )

    inbound = ingest(message.as_bytes())

    lines = inbound.message.body.split("\n")
    assert inbound.message.ticket == ticket
    assert len(lines) == 2 + 20 + 1
    assert lines[-2].startswith("“19.exe” was not attached")
    assert lines[-1] == "5 more files were not attached."


# Mail that is recorded but not answered -----------------------------------------------------------


def test_an_auto_reply_is_recorded_on_its_request_but_changes_and_answers_nothing(
    alice, agent, open_request
):
    ticket = waiting_on_customer(request_of(alice, "HD-7K3P9Q", open_request), agent)
    version, emails = ticket.version, Notification.objects.count()

    inbound = ingest("auto_reply.eml")

    ticket.refresh_from_db()
    assert (inbound.status, inbound.ticket) == (InboundStatus.IGNORED, ticket)
    assert (ticket.status, ticket.version, ticket.messages.count()) == (Status.WAITING, version, 2)
    event = ticket.events.get(kind=EventKind.EMAIL_IGNORED)
    assert not event.is_public
    assert event.new_value["from"] == "alice.chen@example.com"
    assert Notification.objects.count() == emails


def test_a_bounce_is_noted_on_the_request_whose_email_bounced(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request, sent=(CREATED_ID,))
    emails = Notification.objects.count()

    inbound = ingest("bounce_dsn.eml")

    assert (inbound.status, inbound.ticket) == (InboundStatus.IGNORED, ticket)
    assert "bounce" in inbound.reason
    assert ticket.events.get(kind=EventKind.EMAIL_IGNORED).new_value["reason"] == "bounce"
    assert Notification.objects.count() == emails


def test_an_out_of_office_from_the_requester_is_noted_by_its_subject_reference(
    customer, open_request
):
    ticket = request_of(customer, "HD-7K3P9Q", open_request, sent=())

    inbound = ingest("out_of_office_zh.eml")

    assert (inbound.status, inbound.ticket) == (InboundStatus.IGNORED, ticket)
    assert ticket.events.filter(kind=EventKind.EMAIL_IGNORED).count() == 1


def test_mailing_list_mail_opens_nothing_and_creates_no_account():
    inbound = ingest("mailing_list.eml")

    assert inbound.status == InboundStatus.IGNORED
    assert inbound.ticket is None
    assert not Ticket.objects.exists()
    assert not User.objects.filter(email="sam.taylor@example.net").exists()
    assert not Notification.objects.exists()


def test_mail_from_the_desks_own_address_is_a_loop_and_ignored():
    inbound = ingest(simple_email(sender="Support <support+hd-7k3p9q@example.com>"))

    assert inbound.status == InboundStatus.IGNORED
    assert "loop" in inbound.reason
    assert not Ticket.objects.exists()


# Size, malformed mail, failures and duplicates ----------------------------------------------------


def test_an_oversized_email_gets_a_polite_answer_and_only_its_headers_are_kept(settings, customer):
    settings.INBOUND_EMAIL_MAX_BYTES = 1 * MB
    raw = sample("with_attachment.eml") + b"\n" + b"x" * MB

    inbound = ingest(raw)

    assert inbound.status == InboundStatus.TOO_LARGE
    assert inbound.size == len(raw)
    assert not Ticket.objects.exists()
    with inbound.raw.open("rb") as stored:
        kept = stored.read()
    assert kept.startswith(b"MIME-Version: 1.0\nFrom: Li Wei <li.wei@example.com>")
    assert len(kept) < 1000
    answer = Notification.objects.get()
    assert (answer.kind, answer.to_email, answer.language) == (
        NotificationKind.EMAIL_TOO_LARGE,
        "li.wei@example.com",
        "zh-hans",  # a known customer is answered in their own language
    )
    assert answer.context == {
        "subject": "Re: [HD-7K3P9Q] USDT withdrawal stuck",
        "in_reply_to": "CAHb7n1p4Rz8sYq2XwE9kT6mLu0VdFj3cGa5oNiQ@mail.example.com",
        "limit_mb": 1,
    }


def test_an_oversized_auto_reply_is_not_answered(settings):
    settings.INBOUND_EMAIL_MAX_BYTES = 1 * MB

    inbound = ingest(sample("auto_reply.eml") + b"x" * MB)

    assert inbound.status == InboundStatus.TOO_LARGE
    assert not Notification.objects.exists()


def test_a_malformed_email_is_quarantined_once_with_its_bytes(db):
    raw = sample("malformed.eml")

    inbound = ingest(raw)
    again = ingest(raw)

    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.reason == "no From header"
    assert again.pk == inbound.pk
    with inbound.raw.open("rb") as stored:
        assert stored.read() == raw


def test_an_import_that_fails_is_quarantined_whole_and_can_be_imported_again(settings):
    """Nothing half-done stays behind (no account, no request); the raw mail is kept."""
    settings.INBOUND_EMAIL_CATEGORY = "no-such-category"

    inbound = ingest("new_request_ko.eml")

    assert inbound.status == InboundStatus.QUARANTINED
    assert "INBOUND_EMAIL_CATEGORY" in inbound.reason
    assert not User.objects.filter(email="seoyeon.park@example.kr").exists()
    assert not Ticket.objects.exists()

    settings.INBOUND_EMAIL_CATEGORY = "test-general"
    with inbound.raw.open("rb") as stored:
        raw = stored.read()
    inbound.delete()
    assert ingest(raw).status == InboundStatus.NEW_TICKET


def test_the_same_message_id_is_imported_only_once(alice, open_request):
    ticket = request_of(alice, "HD-7K3P9Q", open_request)

    first = ingest("gmail_reply.eml")
    second = ingest("gmail_reply.eml")

    assert second.pk == first.pk
    assert ticket.messages.count() == 2
    assert InboundEmail.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_email_at_once_import_it_once(general, settings):
    settings.INBOUND_EMAIL_CATEGORY = general.slug
    raw = sample("new_request_ko.eml")
    start = threading.Barrier(2)
    results: list[InboundEmail] = []

    def deliver():
        try:
            start.wait()
            results.append(ingest(raw))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2
    assert results[0].pk == results[1].pk
    assert Ticket.objects.count() == 1
    assert User.objects.filter(email="seoyeon.park@example.kr").count() == 1
