import datetime
import io
import os
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from PIL import Image

from tests.tickets.factories import (
    ETH_TXID,
    TRON_TXID,
    AttachmentFactory,
    TicketCategoryFactory,
)
from tickets import selectors, services
from tickets.lifecycle import TransitionError
from tickets.models import (
    Attachment,
    Deflection,
    IdentifierKind,
    Priority,
    Rating,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.services import ConcurrentChangeError

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def kinds(ticket, **filters):
    return list(ticket.events.filter(**filters).values_list("kind", flat=True))


def set_status(ticket, status, **extra):
    """Put a request in `status` directly (the path there is not what the test is about)."""
    Ticket.objects.filter(pk=ticket.pk).update(status=status, **extra)
    ticket.refresh_from_db()
    return ticket


# Creating ----------------------------------------------------------------------------


class TestCreate:
    def test_creates_routes_and_posts_the_description(
        self, customer, withdrawal, withdrawal_values, agent_in_wallet
    ):
        ticket = services.ticket_create(
            requester=customer,
            category=withdrawal,
            subject="  提币未到账  ",
            description="我昨天提币，现在还没到账。\n",
            fields=withdrawal_values,
            language="zh-hans",
        )
        assert ticket.status == Status.NEW
        assert ticket.subject == "提币未到账"
        assert ticket.priority == Priority.NORMAL
        assert ticket.team == withdrawal.team
        assert ticket.assignee == agent_in_wallet
        assert ticket.version == 1
        [message] = ticket.messages.all()
        assert message.body == "我昨天提币，现在还没到账。"
        assert message.author == customer
        assert not message.is_internal
        assert kinds(ticket, is_public=True) == ["created"]
        assert sorted(kinds(ticket, is_public=False)) == ["assignee", "team"]

    def test_structured_fields_are_normalised_and_indexed(
        self, customer, withdrawal, withdrawal_values
    ):
        ticket = services.ticket_create(
            requester=customer,
            category=withdrawal,
            subject="Missing withdrawal",
            description="Please check.",
            fields=withdrawal_values,
            language="en",
        )
        assert ticket.fields["coin"] == "USDT"
        assert ticket.fields["amount"] == "100.5"
        assert list(ticket.fields) == ["coin", "network", "amount", "address", "txid"]
        identifiers = set(ticket.identifiers.values_list("kind", "value"))
        assert (IdentifierKind.TXID, TRON_TXID.lower()) in identifiers
        assert {kind for kind, _value in identifiers} == {"txid", "address"}

    def test_every_problem_is_reported_at_once(self, customer, withdrawal, withdrawal_values):
        values = {**withdrawal_values, "txid": "", "unknown": "x"}
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(
                requester=customer,
                category=withdrawal,
                subject="",
                description="a\x00b",
                fields=values,
                language="en",
            )
        assert set(caught.value.message_dict) == {"subject", "description", "txid", "unknown"}
        assert not Ticket.objects.filter(requester=customer).exists()

    def test_required_txid_is_required(self, customer, withdrawal, withdrawal_values):
        del withdrawal_values["txid"]
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(
                requester=customer,
                category=withdrawal,
                subject="Missing",
                description="Please check.",
                fields=withdrawal_values,
                language="en",
            )
        assert caught.value.message_dict == {"txid": ["This field is required."]}

    def test_txid_is_validated_for_the_network(self, customer, withdrawal, withdrawal_values):
        pytest.importorskip("tickets.networks")
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(
                requester=customer,
                category=withdrawal,
                subject="Missing",
                description="Please check.",
                fields={**withdrawal_values, "txid": ETH_TXID},
                language="en",
            )
        assert list(caught.value.message_dict) == ["txid"]

    def test_compromise_reports_are_urgent_whatever_was_asked(self, customer):
        compromised = TicketCategoryFactory(is_compromise=True, default_priority=Priority.LOW)
        ticket = services.ticket_create(
            requester=customer,
            category=compromised,
            subject="Someone withdrew my USDT",
            description="Not me!",
            fields={},
            language="en",
            priority=Priority.LOW,
        )
        assert ticket.priority == Priority.URGENT

    def test_category_default_priority_applies(self, customer):
        category = TicketCategoryFactory(default_priority=Priority.HIGH)
        ticket = services.ticket_create(
            requester=customer,
            category=category,
            subject="x",
            description="y",
            fields={},
            language="en",
        )
        assert ticket.priority == Priority.HIGH

    def test_inactive_categories_and_unknown_languages_are_refused(self, customer):
        category = TicketCategoryFactory(is_active=False)
        with pytest.raises(ValidationError) as caught:
            services.ticket_create(
                requester=customer,
                category=category,
                subject="x",
                description="y",
                fields={},
                language="fr",
            )
        assert set(caught.value.message_dict) == {"category", "language"}

    def test_markup_is_stored_verbatim_as_text(self, open_request, customer, agent):
        ticket = open_request(subject=XSS, description=XSS)
        reply = services.ticket_reply(ticket=ticket, author=agent, body=XSS)
        ticket.refresh_from_db()
        assert ticket.subject == XSS[:200]
        assert ticket.messages.first().body == XSS
        assert reply.body == XSS

    def test_control_characters_in_the_subject_are_refused(self, open_request):
        with pytest.raises(ValidationError, match="control characters"):
            open_request(subject="Hello\x1b[31m")


# Attachments --------------------------------------------------------------------------


class TestAttachments:
    def test_five_files_per_message_are_accepted(self, open_request, customer):
        files = [AttachmentFactory(uploaded_by=customer) for _ in range(5)]
        ticket = open_request(attachments=files)
        message = ticket.messages.get()
        assert message.attachments.count() == 5

    def test_a_sixth_file_is_refused(self, open_request, customer):
        files = [AttachmentFactory(uploaded_by=customer) for _ in range(6)]
        with pytest.raises(ValidationError, match="at most 5 files"):
            open_request(attachments=files)
        assert Attachment.objects.filter(message__isnull=False).count() == 0

    def test_the_same_limit_applies_to_replies(self, open_request, customer):
        ticket = open_request()
        files = [AttachmentFactory(uploaded_by=customer) for _ in range(6)]
        with pytest.raises(ValidationError, match="at most 5 files"):
            services.ticket_reply(ticket=ticket, author=customer, body="logs", attachments=files)

    def test_someone_elses_upload_cannot_be_attached(self, open_request, other_customer):
        theirs = AttachmentFactory(uploaded_by=other_customer)
        with pytest.raises(ValidationError, match="cannot be attached"):
            open_request(attachments=[theirs])

    def test_an_attached_file_cannot_be_attached_again(self, open_request, customer):
        upload = AttachmentFactory(uploaded_by=customer)
        ticket = open_request(attachments=[upload])
        stale = Attachment.objects.get(pk=upload.pk)
        stale.message_id = None  # a stale copy still looks unattached
        with pytest.raises(ValidationError, match="cannot be attached"):
            services.ticket_reply(ticket=ticket, author=customer, body="again", attachments=[stale])

    def test_images_are_stored_privately_with_a_thumbnail(self, customer):
        buffer = io.BytesIO()
        Image.new("RGB", (800, 600), "red").save(buffer, format="PNG")
        attachment = services.attachment_store(
            data=buffer.getvalue(), filename="../../etc/screenshot.png", uploaded_by=customer
        )
        assert attachment.kind == "image"
        assert (attachment.width, attachment.height) == (800, 600)
        assert re.fullmatch(r"tickets/\d{4}/\d{2}/[0-9a-f]{32}\.png", attachment.file.name)
        assert attachment.file.name.startswith(f"tickets/{attachment.created_at:%Y/%m}/")
        assert attachment.thumbnail.name
        assert attachment.message is None
        assert "/" not in attachment.original_name

    def test_text_logs_are_accepted_without_a_thumbnail(self, customer):
        attachment = services.attachment_store(
            data=b"2026-01-01 error\n", filename="app.log", uploaded_by=customer
        )
        assert attachment.kind == "text"
        assert not attachment.thumbnail

    def test_web_pages_and_programs_are_refused(self, customer):
        with pytest.raises(ValidationError):
            services.attachment_store(
                data=b"<html><script>alert(1)</script></html>",
                filename="x.txt",
                uploaded_by=customer,
            )
        with pytest.raises(ValidationError):
            services.attachment_store(
                data=b"MZ\x90\x00" + bytes(100), filename="x.exe", uploaded_by=customer
            )
        assert not Attachment.objects.exists()

    def test_the_size_limit_comes_from_settings(self, customer, settings):
        settings.TICKET_ATTACHMENT_MAX_BYTES = 10
        with pytest.raises(ValidationError):
            services.attachment_store(data=b"x" * 11, filename="a.txt", uploaded_by=customer)


# Replies ------------------------------------------------------------------------------


class TestReply:
    def test_customer_reply_to_a_request_waiting_on_them_reopens_the_conversation(
        self, open_request, customer
    ):
        ticket = set_status(open_request(), Status.WAITING)
        services.ticket_reply(ticket=ticket, author=customer, body="Here is the screenshot.")
        assert ticket.status == Status.OPEN
        assert ticket.last_customer_reply_at is not None
        event = ticket.events.get(kind="status")
        assert (event.old_value, event.new_value, event.is_public) == ("waiting", "open", True)

    def test_customer_reply_within_the_window_reopens_a_solved_request(
        self, open_request, customer
    ):
        now = timezone.now()
        ticket = set_status(
            open_request(), Status.SOLVED, solved_at=now - datetime.timedelta(days=6)
        )
        message = services.ticket_reply(
            ticket=ticket, author=customer, body="Still broken", now=now
        )
        assert message.ticket == ticket
        assert ticket.status == Status.OPEN
        assert ticket.solved_at is None
        assert ticket.events.filter(kind="reopened", is_public=True).exists()

    def test_customer_reply_after_the_window_opens_a_linked_follow_up(self, open_request, customer):
        now = timezone.now()
        original = set_status(
            open_request(), Status.SOLVED, solved_at=now - datetime.timedelta(days=7, seconds=1)
        )
        message = services.ticket_reply(ticket=original, author=customer, body="Again!", now=now)
        follow_up = message.ticket
        assert follow_up != original
        assert follow_up.follow_up_of == original
        assert follow_up.subject == original.subject
        assert follow_up.messages.get().body == "Again!"
        assert follow_up.status == Status.NEW
        original.refresh_from_db()
        assert original.status == Status.SOLVED
        event = original.events.get(kind="follow_up")
        assert event.new_value == follow_up.reference and event.is_public

    def test_customer_reply_to_a_closed_request_opens_a_follow_up(self, open_request, customer):
        original = set_status(open_request(), Status.CLOSED)
        message = services.ticket_reply(ticket=original, author=customer, body="One more thing")
        assert message.ticket.follow_up_of == original

    def test_agent_public_reply_records_the_first_response_once(self, open_request, agent):
        ticket = open_request()
        first = services.ticket_reply(ticket=ticket, author=agent, body="Checking now.")
        assert ticket.status == Status.OPEN
        assert ticket.first_response_at == first.created_at
        later = timezone.now() + datetime.timedelta(minutes=5)
        services.ticket_reply(ticket=ticket, author=agent, body="Found it.", now=later)
        assert ticket.first_response_at == first.created_at
        assert ticket.last_agent_reply_at == later

    def test_internal_notes_change_nothing_on_the_request(self, open_request, agent, customer):
        ticket = set_status(open_request(), Status.WAITING)
        version = ticket.version
        note = services.ticket_reply(ticket=ticket, author=agent, body="VIP user", internal=True)
        ticket.refresh_from_db()
        assert note.is_internal
        assert (ticket.status, ticket.version, ticket.first_response_at) == (
            Status.WAITING,
            version,
            None,
        )
        timeline = selectors.ticket_timeline(ticket, for_customer=True)
        assert note not in [entry.message for entry in timeline]

    def test_customers_cannot_write_internal_notes(self, open_request, customer):
        with pytest.raises(PermissionDenied):
            services.ticket_reply(ticket=open_request(), author=customer, body="x", internal=True)

    def test_only_the_requester_and_agents_of_the_queue_may_reply(
        self, open_request, other_customer, other_team_agent, withdrawal, withdrawal_values
    ):
        ticket = open_request()
        with pytest.raises(PermissionDenied):
            services.ticket_reply(ticket=ticket, author=other_customer, body="hi")
        wallet_ticket = open_request(category=withdrawal, fields=withdrawal_values)
        with pytest.raises(PermissionDenied):
            services.ticket_reply(ticket=wallet_ticket, author=other_team_agent, body="hi")

    def test_agents_cannot_reply_publicly_on_a_closed_request(self, open_request, agent):
        ticket = set_status(open_request(), Status.CLOSED)
        with pytest.raises(TransitionError, match="closed request cannot be changed"):
            services.ticket_reply(ticket=ticket, author=agent, body="hello")

    def test_empty_replies_are_refused(self, open_request, customer):
        with pytest.raises(ValidationError) as caught:
            services.ticket_reply(ticket=open_request(), author=customer, body="   ")
        assert "body" in caught.value.message_dict


# Agent changes and concurrency -------------------------------------------------------


class TestAgentChanges:
    def test_status_change_is_public_and_bumps_the_version(self, open_request, agent):
        ticket = open_request()
        services.ticket_change_status(
            ticket=ticket, actor=agent, to_status=Status.WAITING, expected_version=1
        )
        assert (ticket.status, ticket.version) == (Status.WAITING, 2)
        assert ticket.events.get(kind="status").is_public

    def test_solving_and_closing_stamp_the_time(self, open_request, agent):
        ticket = open_request()
        services.ticket_change_status(
            ticket=ticket, actor=agent, to_status=Status.SOLVED, expected_version=1
        )
        assert ticket.solved_at is not None
        services.ticket_change_status(
            ticket=ticket, actor=agent, to_status=Status.CLOSED, expected_version=2
        )
        assert ticket.closed_at is not None

    def test_an_open_request_cannot_be_closed_except_by_merging(self, open_request, agent):
        ticket = open_request()
        with pytest.raises(TransitionError, match="merging"):
            services.ticket_change_status(
                ticket=ticket, actor=agent, to_status=Status.CLOSED, expected_version=1
            )

    def test_customers_cannot_put_requests_on_hold(self, open_request, customer):
        ticket = open_request()
        with pytest.raises(TransitionError):
            services.ticket_change_status(
                ticket=ticket, actor=customer, to_status=Status.WAITING, expected_version=1
            )

    def test_two_agents_with_the_same_version_the_second_loses_cleanly(
        self, open_request, agent, supervisor
    ):
        """Both loaded version 1; the second write raises and changes nothing."""
        ticket = open_request()
        first_view = Ticket.objects.get(pk=ticket.pk)
        second_view = Ticket.objects.get(pk=ticket.pk)
        services.ticket_assign(ticket=first_view, actor=agent, assignee=agent, expected_version=1)
        with pytest.raises(ConcurrentChangeError, match="Someone else changed this request"):
            services.ticket_set_priority(
                ticket=second_view, actor=supervisor, priority=Priority.LOW, expected_version=1
            )
        ticket.refresh_from_db()
        assert (ticket.assignee, ticket.priority, ticket.version) == (agent, Priority.NORMAL, 2)
        assert not ticket.events.filter(kind="priority").exists()

    def test_the_update_itself_is_conditional(self, open_request, agent, monkeypatch):
        """A write between the read and the UPDATE is caught by `WHERE version = ?`."""
        ticket = open_request()
        original_current = services._current

        def read_then_someone_writes(*args, **kwargs):
            current = original_current(*args, **kwargs)
            Ticket.objects.filter(pk=current.pk).update(version=current.version + 1)
            return current

        monkeypatch.setattr(services, "_current", read_then_someone_writes)
        with pytest.raises(ConcurrentChangeError):
            services.ticket_set_priority(
                ticket=ticket, actor=agent, priority=Priority.HIGH, expected_version=1
            )
        assert not TicketEvent.objects.filter(ticket=ticket, kind="priority").exists()

    def test_assigning_records_an_internal_event(self, open_request, agent):
        ticket = open_request()
        services.ticket_assign(ticket=ticket, actor=agent, assignee=agent, expected_version=1)
        event = ticket.events.get(kind="assignee")
        assert not event.is_public
        assert event.new_value == {"uid": agent.uid, "name": "王芳"}
        services.ticket_assign(ticket=ticket, actor=agent, assignee=None, expected_version=2)
        assert ticket.assignee is None

    def test_only_agents_can_be_assigned(self, open_request, agent, other_customer):
        with pytest.raises(ValidationError, match="Only an agent"):
            services.ticket_assign(
                ticket=open_request(), actor=agent, assignee=other_customer, expected_version=1
            )

    def test_customers_cannot_use_agent_verbs(self, open_request, customer):
        ticket = open_request()
        with pytest.raises(PermissionDenied):
            services.ticket_set_priority(
                ticket=ticket, actor=customer, priority=Priority.URGENT, expected_version=1
            )

    def test_moving_team_drops_an_assignee_outside_it(self, open_request, agent, trading_team):
        ticket = open_request()
        services.ticket_assign(ticket=ticket, actor=agent, assignee=agent, expected_version=1)
        services.ticket_set_team(ticket=ticket, actor=agent, team=trading_team, expected_version=2)
        assert (ticket.team, ticket.assignee) == (trading_team, None)
        assert sorted(kinds(ticket, actor=agent)) == ["assignee", "assignee", "team"]
        assert not ticket.events.filter(kind="team", is_public=True).exists()

    def test_recategorising_follows_the_team_and_compromise_is_urgent(
        self, open_request, agent_in_wallet, withdrawal, withdrawal_values, trading_team
    ):
        ticket = open_request(category=withdrawal, fields=withdrawal_values)
        compromised = TicketCategoryFactory(team=trading_team, is_compromise=True)
        services.ticket_change_category(
            ticket=ticket, actor=agent_in_wallet, category=compromised, expected_version=1
        )
        assert ticket.category == compromised
        assert ticket.team == trading_team
        assert ticket.assignee is None
        assert ticket.priority == Priority.URGENT
        assert ticket.events.get(kind="category").is_public
        assert ticket.fields == withdrawal_values | {"coin": "USDT", "amount": "100.5"}

    def test_updating_fields_rewrites_the_identifiers(
        self, open_request, customer, withdrawal, withdrawal_values
    ):
        pytest.importorskip("tickets.networks")
        ticket = open_request(category=withdrawal, fields=withdrawal_values)
        new_txid = "a" * 64
        services.ticket_update_fields(
            ticket=ticket,
            actor=customer,
            values={**withdrawal_values, "txid": new_txid},
            expected_version=1,
        )
        assert ticket.fields["txid"] == new_txid
        txids = ticket.identifiers.filter(kind="txid").values_list("value", flat=True)
        assert list(txids) == [new_txid]
        event = ticket.events.get(kind="fields")
        assert event.old_value == {"txid": TRON_TXID} and event.new_value == {"txid": new_txid}
        assert event.is_public

    def test_closed_requests_cannot_be_edited(self, open_request, agent):
        ticket = set_status(open_request(), Status.CLOSED)
        with pytest.raises(TransitionError, match="closed"):
            services.ticket_set_priority(
                ticket=ticket, actor=agent, priority=Priority.HIGH, expected_version=1
            )


# Customer verbs -----------------------------------------------------------------------


class TestCustomerVerbs:
    def test_customer_solves_and_reopens(self, open_request, customer):
        ticket = open_request()
        services.ticket_solve_by_customer(ticket=ticket, customer=customer)
        assert ticket.status == Status.SOLVED
        services.ticket_reopen_by_customer(ticket=ticket, customer=customer)
        assert ticket.status == Status.OPEN
        assert kinds(ticket, is_public=True) == ["created", "status", "reopened"]

    def test_customer_cannot_reopen_after_the_window(self, open_request, customer):
        ticket = set_status(
            open_request(), Status.SOLVED, solved_at=timezone.now() - datetime.timedelta(days=8)
        )
        with pytest.raises(TransitionError, match="cannot be reopened"):
            services.ticket_reopen_by_customer(ticket=ticket, customer=customer)

    def test_customer_verbs_are_for_the_requester_only(self, open_request, other_customer, agent):
        ticket = open_request()
        for user in (other_customer, agent):
            with pytest.raises(PermissionDenied):
                services.ticket_solve_by_customer(ticket=ticket, customer=user)

    def test_rating_once_solved_changeable_within_the_window(self, open_request, customer):
        ticket = open_request()
        with pytest.raises(ValidationError, match="once it is solved"):
            services.ticket_rate(ticket=ticket, customer=customer, rating=Rating.GOOD)
        services.ticket_solve_by_customer(ticket=ticket, customer=customer)
        now = timezone.now()
        services.ticket_rate(
            ticket=ticket, customer=customer, rating=Rating.BAD, comment=XSS, now=now
        )
        assert (ticket.rating, ticket.rating_comment, ticket.rated_at) == (Rating.BAD, XSS, now)
        services.ticket_rate(
            ticket=ticket,
            customer=customer,
            rating=Rating.GOOD,
            now=now + datetime.timedelta(days=7),
        )
        assert (ticket.rating, ticket.rated_at) == (Rating.GOOD, now)
        with pytest.raises(ValidationError, match="can no longer be changed"):
            services.ticket_rate(
                ticket=ticket,
                customer=customer,
                rating=Rating.BAD,
                now=now + datetime.timedelta(days=7, seconds=1),
            )
        assert kinds(ticket, kind="rated", is_public=True) == ["rated", "rated"]

    def test_only_the_requester_may_rate(self, open_request, customer, other_customer):
        ticket = open_request()
        services.ticket_solve_by_customer(ticket=ticket, customer=customer)
        with pytest.raises(PermissionDenied):
            services.ticket_rate(ticket=ticket, customer=other_customer, rating=Rating.BAD)

    def test_deflections_are_recorded(self, customer, general):
        deflection = services.deflection_record(
            user=customer,
            article_key="withdrawal-pending",
            language="zh-hans",
            subject="提币没到账",
            category=general,
        )
        assert Deflection.objects.get() == deflection
        assert deflection.subject == "提币没到账"


# Merging ------------------------------------------------------------------------------


class TestMerge:
    def test_merge_moves_the_conversation_and_closes_the_source(
        self, open_request, customer, agent
    ):
        target = open_request(subject="Withdrawal missing", description="first")
        source = open_request(
            subject="Withdrawal still missing", description="second", priority=Priority.HIGH
        )
        services.ticket_reply(ticket=target, author=customer, body="third")
        services.ticket_reply(ticket=source, author=customer, body="fourth")
        services.ticket_merge(source=source, target=target, actor=agent)

        source.refresh_from_db()
        assert (source.status, source.merged_into) == (Status.CLOSED, target)
        assert source.closed_at is not None
        assert not source.messages.exists()
        bodies = [m.body for m in target.messages.order_by("created_at", "pk")]
        assert bodies == ["first", "second", "third", "fourth", f"Merged from {source.reference}."]
        assert target.priority == Priority.HIGH
        merged = source.events.get(kind="merged")
        assert merged.is_public and merged.new_value == target.reference
        assert target.events.get(kind="merged_from").is_public

    def test_merging_another_customers_request_keeps_their_words_internal(
        self, open_request, other_customer, agent_in_wallet, withdrawal_values, withdrawal
    ):
        agent = agent_in_wallet
        target = open_request()
        source = open_request(
            requester=other_customer,
            category=withdrawal,
            fields=withdrawal_values,
            description="My secret address is …",
        )
        services.ticket_merge(source=source, target=target, actor=agent)
        moved = target.messages.get(body="My secret address is …")
        assert moved.is_internal
        note = target.messages.filter(author=None).get()
        assert other_customer.email in note.body and note.is_internal
        assert not target.events.get(kind="merged_from").is_public
        assert source.events.get(kind="merged").new_value is None
        customer_view = selectors.ticket_timeline(target, for_customer=True)
        assert "My secret address is …" not in [e.message.body for e in customer_view if e.message]
        # Searching the source's TXID now finds the target too.
        found = selectors.agent_inbox(agent, view="all", query=TRON_TXID)
        assert set(found) == {target, source}

    def test_replies_to_a_merged_request_go_to_the_target(self, open_request, customer, agent):
        target, source = open_request(), open_request()
        services.ticket_merge(source=source, target=target, actor=agent)
        source.refresh_from_db()
        message = services.ticket_reply(ticket=source, author=customer, body="hello?")
        assert message.ticket == target

    def test_impossible_merges_are_refused(
        self, open_request, agent, other_team_agent, withdrawal, withdrawal_values
    ):
        first, second = open_request(), open_request()
        with pytest.raises(ValidationError, match="into itself"):
            services.ticket_merge(source=first, target=first, actor=agent)
        set_status(second, Status.CLOSED)
        with pytest.raises(ValidationError, match="into a closed one"):
            services.ticket_merge(source=first, target=second, actor=agent)
        with pytest.raises(TransitionError, match="closed request"):
            services.ticket_merge(source=second, target=first, actor=agent)
        wallet = open_request(category=withdrawal, fields=withdrawal_values)
        with pytest.raises(PermissionDenied):
            services.ticket_merge(source=wallet, target=first, actor=other_team_agent)


class TestStoredAttachments:
    """One way to keep uploads for a message: all of them or none, files included."""

    @staticmethod
    def upload(name, data):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return SimpleUploadedFile(name, data)

    def png(self, name="shot.png"):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), "blue").save(buffer, format="PNG")
        return self.upload(name, buffer.getvalue())

    def test_every_refused_file_is_named_and_nothing_is_kept(self, customer):
        files = [
            self.png(),
            self.upload("a.svg", b"<svg onload=alert(1)>"),
            self.upload("b.exe", b"MZ\x90\x00"),
        ]
        with (
            pytest.raises(ValidationError) as refused,
            services.stored_attachments(files, uploaded_by=customer),
        ):
            pytest.fail("the block must not run")
        messages = refused.value.message_dict["attachments"]
        assert len(messages) == 2
        assert "“a.svg”" in messages[0] and "“b.exe”" in messages[1]
        assert not Attachment.objects.exists()

    def test_a_failing_block_removes_the_stored_files(self, customer):
        with (
            pytest.raises(ValidationError),
            services.stored_attachments([self.png()], uploaded_by=customer) as stored,
        ):
            path = stored[0].file.path
            raise ValidationError("the reply was refused")
        assert not Attachment.objects.exists()
        assert not os.path.exists(path)

    def test_files_of_a_committed_message_survive_a_later_error(self, customer, open_request):
        with (
            pytest.raises(RuntimeError),
            services.stored_attachments([self.png()], uploaded_by=customer) as stored,
        ):
            ticket = open_request(attachments=stored)
            raise RuntimeError("after the commit")
        kept = Attachment.objects.get()
        assert kept.message.ticket == ticket
        assert os.path.exists(kept.file.path)

    def test_a_new_request_emails_its_confirmation_once_committed(
        self, open_request, customer, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            ticket = open_request()
        assert len(mailoutbox) == 1
        assert f"[{ticket.reference}]" in mailoutbox[0].subject
        assert mailoutbox[0].to == [customer.email]
