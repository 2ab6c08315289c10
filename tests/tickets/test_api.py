"""The tickets REST API: customers' own requests and the agent inbox, over session and token."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tests.tickets.factories import ETH_TXID, TRON_TXID, TicketFactory, team_agent
from tickets import services
from tickets.api.views import TicketWriteThrottle
from tickets.models import REFERENCE_RE, Attachment, Priority, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"
AGENT = "/api/v1/tickets/agent/"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def png(size=(40, 30), colour="red") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="PNG")
    return output.getvalue()


def upload(name="screenshot.png", data=None, content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png() if data is None else data, content_type=content_type)


def stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "tickets"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def post_json(client, url, body, **kwargs):
    return client.post(url, body, content_type="application/json", **kwargs)


@pytest.fixture
def as_user(client):
    """A client signed in as `user` (session), or anonymous for None."""

    def _as(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return _as


@pytest.fixture
def wallet_request(open_request, withdrawal, withdrawal_values, agent_in_wallet):
    """Li Wei's USDT withdrawal, routed to the wallet team and assigned to Wang Fang."""
    ticket = open_request(category=withdrawal, fields=withdrawal_values)
    assert ticket.team == withdrawal.team and ticket.assignee == agent_in_wallet
    return ticket


@pytest.fixture
def create_body(withdrawal, withdrawal_values):
    return {
        "category": withdrawal.slug,
        "subject": "USDT withdrawal pending for 6 hours",
        "description": "I withdrew 100 USDT on TRC20 this morning.",
        "fields": withdrawal_values,
    }


# Permission matrix ---------------------------------------------------------------------------

PERSONAS = ["anonymous", "customer", "other_customer", "agent_in_wallet", "other_team_agent"]
PERSONAS += ["supervisor"]


def _persona(request, name):
    return None if name == "anonymous" else request.getfixturevalue(name)


# (name, path under the request, body or None for GET, status for the requester)
CUSTOMER_ENDPOINTS = [
    ("detail", "", None, 200),
    ("reply", "replies/", {"body": "Any news?"}, 201),
    ("solve", "solve/", {}, 200),
    # A new request is neither solved (reopen) nor rateable: the service refuses, not a 404.
    ("reopen", "reopen/", {}, 400),
    ("rating", "rating/", {"rating": "good"}, 400),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("endpoint", "suffix", "body", "owner_status"), CUSTOMER_ENDPOINTS)
def test_customer_endpoints_answer_only_the_requester(
    request, as_user, wallet_request, persona, endpoint, suffix, body, owner_status
):
    """Anyone but the requester gets 404 (agents too: this is the customer's own view)."""
    client = as_user(_persona(request, persona))
    url = f"{TICKETS}{wallet_request.reference}/{suffix}"
    response = client.get(url) if body is None else post_json(client, url, body)
    expected = {"anonymous": 403, "customer": owner_status}.get(persona, 404)
    assert response.status_code == expected, response.content
    if expected == 404:
        assert response.json() == {"detail": "Not found."}


def _agent_bodies(wallet_request, merge_target):
    version = wallet_request.version
    return [
        ("detail", "", None, 200),
        ("reply", "replies/", {"body": "Checking.", "internal": True}, 201),
        ("status", "status/", {"status": "waiting", "version": version}, 200),
        ("priority", "priority/", {"priority": "high", "version": version}, 200),
        ("assignee", "assignee/", {"assignee": None, "version": version}, 200),
        ("team", "team/", {"team": None, "version": version}, 200),
        ("fields", "fields/", {"fields": {"coin": "USDT"}, "version": version}, 400),
        ("merge", "merge/", {"into": merge_target.reference}, 200),
    ]


AGENT_ENDPOINTS = ["detail", "reply", "status", "priority", "assignee", "team", "fields", "merge"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", AGENT_ENDPOINTS)
def test_agent_endpoints_answer_agents_who_may_work_on_the_request(
    request, as_user, wallet_request, open_request, withdrawal, withdrawal_values, persona, endpoint
):
    """Non-agents get 403 on the whole agent API; an agent of another team gets 404."""
    merge_target = open_request(category=withdrawal, fields=withdrawal_values, subject="Again")
    _name, suffix, body, ok = next(
        row for row in _agent_bodies(wallet_request, merge_target) if row[0] == endpoint
    )
    client = as_user(_persona(request, persona))
    url = f"{AGENT}{wallet_request.reference}/{suffix}"
    response = client.get(url) if body is None else post_json(client, url, body)
    expected = {
        "anonymous": 403,
        "customer": 403,
        "other_customer": 403,
        "agent_in_wallet": ok,
        "other_team_agent": 404,
        "supervisor": ok,
    }[persona]
    assert response.status_code == expected, response.content


@pytest.mark.parametrize(
    ("persona", "status_code"),
    [
        ("anonymous", 403),
        ("customer", 403),
        ("agent_in_wallet", 200),
        ("other_team_agent", 200),
        ("supervisor", 200),
    ],
)
def test_only_agents_may_list_the_inbox(request, as_user, persona, status_code):
    response = as_user(_persona(request, persona)).get(AGENT)
    assert response.status_code == status_code


def test_anonymous_callers_are_told_to_authenticate(client):
    response = client.get(TICKETS)
    assert response.status_code == 403
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert post_json(client, TICKETS, {}).status_code == 403


def test_an_unknown_or_malformed_reference_is_a_404(as_user, customer):
    client = as_user(customer)
    assert client.get(f"{TICKETS}HD-ZZZZZZ/").status_code == 404
    assert client.get(f"{TICKETS}HD-not-a-ref/").status_code == 404


def test_a_customer_lists_only_their_own_requests(as_user, customer, other_customer, open_request):
    mine = open_request(subject="Mine")
    open_request(subject="Theirs", requester=other_customer)
    body = as_user(customer).get(TICKETS).json()
    assert [row["reference"] for row in body["results"]] == [mine.reference]
    assert as_user(other_customer).get(TICKETS).json()["count"] == 1


# Token authentication ----------------------------------------------------------------------


def _token(email, *args) -> str:
    out = io.StringIO()
    call_command("create_api_token", email, *args, stdout=out)
    return out.getvalue().strip()


def test_a_token_from_the_management_command_authenticates_without_csrf(customer, create_body):
    key = _token(customer.email.upper())
    assert _token(customer.email) == key  # the same token until rotated
    client = Client(enforce_csrf_checks=True)
    auth = {"authorization": f"Token {key}"}
    assert client.get(TICKETS, headers=auth).status_code == 200
    created = post_json(client, TICKETS, create_body, headers=auth)
    assert created.status_code == 201, created.content
    assert Ticket.objects.get(reference=created.json()["reference"]).requester == customer


def test_rotating_a_token_revokes_the_old_one(customer):
    old = _token(customer.email)
    new = _token(customer.email, "--rotate")
    assert new != old
    client = Client()
    refused = client.get(TICKETS, headers={"authorization": f"Token {old}"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Invalid token."}
    assert client.get(TICKETS, headers={"authorization": f"Token {new}"}).status_code == 200


def test_tokens_only_for_active_users(customer):
    with pytest.raises(CommandError, match="No user"):
        _token("nobody@example.com")
    customer.is_active = False
    customer.save()
    with pytest.raises(CommandError, match="not active"):
        _token(customer.email)


def test_session_posts_still_need_the_csrf_token(customer, create_body):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = post_json(client, TICKETS, create_body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Ticket.objects.exists()


# Creating ------------------------------------------------------------------------------------


def test_create_with_json_answers_the_reference_and_the_first_response_target(
    as_user, customer, create_body, agent_in_wallet
):
    response = post_json(as_user(customer), TICKETS, create_body)
    assert response.status_code == 201, response.content
    body = response.json()
    assert REFERENCE_RE.fullmatch(body["reference"])
    assert response["Location"] == f"{TICKETS}{body['reference']}/"
    assert body["status"] == "new"
    assert body["channel"] == "api"
    assert body["language"] == "zh-hans"  # the customer's preferred language
    assert body["expected_first_response"] == {"seconds": 24 * 3600, "text": "24 hours"}
    assert {row["key"]: row["value"] for row in body["fields"]}["txid"] == TRON_TXID
    assert [m["body"] for m in body["messages"]] == [create_body["description"]]
    assert [e["kind"] for e in body["events"]] == ["created"]  # routing events are internal
    assert "priority" not in body and "version" not in body
    ticket = Ticket.objects.get(reference=body["reference"])
    assert ticket.channel == "api" and ticket.assignee == agent_in_wallet


def test_create_multipart_with_fields_and_a_png(as_user, customer, create_body):
    data = {**create_body, "fields": json.dumps(create_body["fields"]), "language": "en"}
    data["attachments"] = [upload("Screenshot 2024.png")]
    response = as_user(customer).post(TICKETS, data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["language"] == "en"
    [attachment] = body["messages"][0]["attachments"]
    stored = Attachment.objects.get()
    assert attachment == {
        "uuid": str(stored.uuid),
        "name": "Screenshot 2024.png",
        "size": stored.size,
        "content_type": "image/png",
        "kind": "image",
        "url": f"/en/requests/attachments/{stored.uuid}/",
    }
    assert stored.message.ticket.reference == body["reference"]


def test_the_attachment_url_downloads_for_the_requester_only(
    as_user, customer, other_customer, create_body
):
    data = {**create_body, "fields": json.dumps(create_body["fields"]), "attachments": [upload()]}
    body = as_user(customer).post(TICKETS, data).json()
    url = body["messages"][0]["attachments"][0]["url"]
    download = as_user(customer).get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert as_user(other_customer).get(url).status_code == 404


def test_a_bad_txid_is_a_400_with_the_network_message(as_user, customer, create_body):
    create_body["fields"]["txid"] = ETH_TXID  # an Ethereum hash on TRON
    response = post_json(as_user(customer), TICKETS, create_body)
    assert response.status_code == 400
    message = response.json()["fields"]["txid"][0]
    assert "TRON (TRC20) transaction IDs have no 0x prefix" in message
    assert not Ticket.objects.exists()


def test_every_invalid_input_is_reported_at_once(as_user, customer, withdrawal):
    body = {
        "category": withdrawal.slug,
        "subject": " ",
        "description": "bell\x07",
        "fields": {"coin": "USDT", "network": "TRC20", "colour": "red"},
    }
    errors = post_json(as_user(customer), TICKETS, body).json()
    assert set(errors) == {"subject", "description", "fields"}
    assert "control characters" in errors["description"][0]
    assert {"colour", "amount", "address", "txid"} <= set(errors["fields"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "no-such-category"}, "category"),
        ({"fields": ["not", "an", "object"]}, "fields"),
        ({"fields": {"txid": {"nested": 1}}}, "fields"),
        ({"language": "fr"}, "language"),
        ({"subject": None}, "subject"),
    ],
)
def test_malformed_input_is_a_400_on_that_field(as_user, customer, create_body, body, field):
    response = post_json(as_user(customer), TICKETS, {**create_body, **body})
    assert response.status_code == 400
    assert field in response.json()


def test_html_in_text_is_kept_verbatim_as_text(as_user, customer, general):
    body = {"category": general.slug, "subject": XSS, "description": f"{XSS}\nline two"}
    response = post_json(as_user(customer), TICKETS, body)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    created = response.json()
    assert created["subject"] == XSS
    assert created["messages"][0]["body"] == f"{XSS}\nline two"


def _fake_png():
    return b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([upload(data=_fake_png())], "not a valid image"),
        ([upload("page.png", b"<html><script>alert(1)</script></html>")], "HTML"),
        ([upload("big.png", png((600, 600), "white") + b"\x00" * 20_000)], "larger than"),
        ([upload(f"s{n}.png") for n in range(6)], "at most 5 files"),
        ([upload("ok.png"), upload("bad.png", _fake_png())], "not a valid image"),
    ],
    ids=["fake-image", "html-as-png", "oversize", "six-files", "one-good-one-bad"],
)
def test_refused_uploads_are_a_400_and_nothing_is_stored(
    as_user, customer, create_body, settings, files, message
):
    settings.TICKET_ATTACHMENT_MAX_BYTES = 20_000
    before = stored_files()
    data = {**create_body, "fields": json.dumps(create_body["fields"]), "attachments": files}
    response = as_user(customer).post(TICKETS, data)
    assert response.status_code == 400
    assert message in " ".join(response.json()["attachments"])
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files() == before


def test_a_refused_request_keeps_none_of_its_good_files(as_user, customer, create_body):
    before = stored_files()
    create_body["fields"]["txid"] = "nonsense"
    data = {**create_body, "fields": json.dumps(create_body["fields"]), "attachments": [upload()]}
    response = as_user(customer).post(TICKETS, data)
    assert response.status_code == 400 and "txid" in response.json()["fields"]
    assert not Attachment.objects.exists()
    assert stored_files() == before


# Customer reads and verbs ------------------------------------------------------------------


def test_my_list_filters_searches_and_sorts_by_latest_activity(as_user, customer, open_request):
    older = open_request(subject="Deposit missing")
    newer = open_request(subject="Card payment failed")
    client = as_user(customer)
    assert [r["reference"] for r in client.get(TICKETS).json()["results"]] == [
        newer.reference,
        older.reference,
    ]
    post_json(client, f"{TICKETS}{older.reference}/replies/", {"body": "Any news?"})
    assert client.get(TICKETS).json()["results"][0]["reference"] == older.reference
    assert client.get(TICKETS, {"q": "deposit"}).json()["count"] == 1
    assert client.get(TICKETS, {"q": newer.reference.lower()}).json()["count"] == 1
    services.ticket_solve_by_customer(ticket=newer, customer=customer)
    active = client.get(TICKETS, {"status": "active"}).json()["results"]
    assert [row["reference"] for row in active] == [older.reference]
    assert client.get(TICKETS, {"status": "solved"}).json()["count"] == 1
    assert client.get(TICKETS, {"status": "bogus"}).status_code == 400
    page = client.get(TICKETS, {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


def test_the_customer_sees_public_replies_but_never_internal_notes(
    as_user, customer, wallet_request, agent_in_wallet
):
    agent = as_user(agent_in_wallet)
    note = agent.post(
        f"{AGENT}{wallet_request.reference}/replies/",
        {"body": "Customer looks legit", "internal": "true", "attachments": [upload("n.png")]},
    )
    assert note.status_code == 201, note.content
    assert note.json()["internal"] is True
    reply = post_json(
        agent, f"{AGENT}{wallet_request.reference}/replies/", {"body": "We are checking."}
    )
    assert reply.status_code == 201 and reply.json()["internal"] is False

    body = as_user(customer).get(f"{TICKETS}{wallet_request.reference}/").json()
    assert [m["body"] for m in body["messages"]] == [
        "I sent it yesterday and it is still missing.",
        "We are checking.",
    ]
    assert [m["from_requester"] for m in body["messages"]] == [True, False]
    assert body["messages"][1]["author_name"] == "王芳"
    assert body["status"] == "open"  # the first agent reply opened it
    assert {e["kind"] for e in body["events"]} == {"created", "status"}
    assert "Customer looks legit" not in json.dumps(body)
    assert "agent.zh@example.com" not in json.dumps(body)

    full = as_user(agent_in_wallet).get(f"{AGENT}{wallet_request.reference}/").json()
    assert [m["internal"] for m in full["messages"]] == [False, True, False]
    assert full["messages"][1]["attachments"][0]["kind"] == "image"
    assert {"team", "assignee"} <= {e["kind"] for e in full["events"] if not e["public"]}


def test_customer_reply_with_a_file_reopens_a_waiting_request(
    as_user, customer, wallet_request, agent_in_wallet
):
    services.ticket_change_status(
        ticket=wallet_request, actor=agent_in_wallet, to_status=Status.WAITING, expected_version=1
    )
    response = as_user(customer).post(
        f"{TICKETS}{wallet_request.reference}/replies/",
        {"body": "Here is the screenshot.", "attachments": [upload()]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ticket"] == wallet_request.reference
    assert body["attachments"][0]["content_type"] == "image/png"
    wallet_request.refresh_from_db()
    assert wallet_request.status == Status.OPEN


def test_a_reply_with_neither_text_nor_file_is_refused(as_user, customer, wallet_request):
    response = post_json(as_user(customer), f"{TICKETS}{wallet_request.reference}/replies/", {})
    assert response.status_code == 400
    assert "body" in response.json()


def test_a_customer_reply_to_a_closed_request_opens_a_follow_up(as_user, customer, wallet_request):
    Ticket.objects.filter(pk=wallet_request.pk).update(status=Status.CLOSED)
    body = post_json(
        as_user(customer), f"{TICKETS}{wallet_request.reference}/replies/", {"body": "Again?"}
    ).json()
    assert body["ticket"] != wallet_request.reference
    assert Ticket.objects.get(reference=body["ticket"]).follow_up_of == wallet_request


def test_solve_rate_and_reopen(as_user, customer, wallet_request):
    client = as_user(customer)
    url = f"{TICKETS}{wallet_request.reference}/"
    assert client.get(url).json()["can_rate"] is False
    solved = post_json(client, f"{url}solve/", {}).json()
    assert (solved["status"], solved["can_reopen"], solved["can_rate"]) == ("solved", True, True)
    rated = post_json(client, f"{url}rating/", {"rating": "good", "comment": "Quick!"}).json()
    assert (rated["rating"], rated["rating_comment"]) == ("good", "Quick!")
    bad = post_json(client, f"{url}rating/", {"rating": "meh"})
    assert bad.status_code == 400 and "rating" in bad.json()
    reopened = post_json(client, f"{url}reopen/", {}).json()
    assert reopened["status"] == "open"
    assert [e["kind"] for e in reopened["events"]][-3:] == ["status", "rated", "reopened"]


def test_rating_an_unsolved_request_is_a_clear_400(as_user, customer, wallet_request):
    response = post_json(
        as_user(customer), f"{TICKETS}{wallet_request.reference}/rating/", {"rating": "bad"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "You can rate a request once it is solved.",
        "code": "not_solved",
    }


def test_a_customer_cannot_reopen_a_new_request(as_user, customer, wallet_request):
    response = post_json(as_user(customer), f"{TICKETS}{wallet_request.reference}/reopen/", {})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_transition"


# Agent workspace ---------------------------------------------------------------------------


def test_agent_detail_has_requester_version_and_explorer_links(
    as_user, customer, agent_in_wallet, wallet_request
):
    body = as_user(agent_in_wallet).get(f"{AGENT}{wallet_request.reference.lower()}/").json()
    assert body["requester"] == {
        "uid": customer.uid,
        "email": "li.wei@example.com",
        "display_name": "李伟",
    }
    assert body["assignee"]["uid"] == agent_in_wallet.uid
    assert body["team"]["slug"] == "test-wallet"
    assert body["version"] == 1
    assert body["priority"] == "normal"
    assert body["allowed_statuses"] == ["open", "waiting", "solved"]
    links = {row["key"]: row["explorer_url"] for row in body["fields"]}
    assert links["txid"] == f"https://tronscan.org/#/transaction/{TRON_TXID}"
    assert links["address"].startswith("https://tronscan.org/#/address/T")
    assert links["coin"] is None


def test_status_changes_need_the_current_version(as_user, agent_in_wallet, wallet_request):
    client = as_user(agent_in_wallet)
    url = f"{AGENT}{wallet_request.reference}/status/"
    first = post_json(client, url, {"status": "open", "version": 1})
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["version"]) == ("open", 2)
    events = TicketEvent.objects.filter(ticket=wallet_request).count()

    second = post_json(client, url, {"status": "waiting", "version": 1})
    assert second.status_code == 409
    assert second.json() == {
        "detail": "Someone else changed this request; reload to see their change.",
        "code": "stale",
    }
    wallet_request.refresh_from_db()
    assert (wallet_request.status, wallet_request.version) == (Status.OPEN, 2)
    assert TicketEvent.objects.filter(ticket=wallet_request).count() == events


def test_an_illegal_transition_is_a_400_and_changes_nothing(
    as_user, agent_in_wallet, wallet_request
):
    response = post_json(
        as_user(agent_in_wallet),
        f"{AGENT}{wallet_request.reference}/status/",
        {"status": "closed", "version": 1},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A request that is not solved can only be closed by merging it into another.",
        "code": "invalid_transition",
    }
    wallet_request.refresh_from_db()
    assert (wallet_request.status, wallet_request.version) == (Status.NEW, 1)


@pytest.mark.parametrize(
    "body",
    [{"status": "open"}, {"status": "archived", "version": 1}, {"status": "open", "version": 0}],
)
def test_status_change_input_errors_name_the_field(as_user, agent_in_wallet, wallet_request, body):
    response = post_json(
        as_user(agent_in_wallet), f"{AGENT}{wallet_request.reference}/status/", body
    )
    assert response.status_code == 400
    assert set(response.json()) <= {"status", "version"}


def test_status_is_read_only_outside_its_action(as_user, agent_in_wallet, customer, wallet_request):
    for user, url in [
        (agent_in_wallet, f"{AGENT}{wallet_request.reference}/"),
        (customer, f"{TICKETS}{wallet_request.reference}/"),
    ]:
        client = as_user(user)
        body = json.dumps({"status": "solved"})
        assert client.patch(url, body, content_type="application/json").status_code == 405
        assert client.put(url, body, content_type="application/json").status_code == 405
    wallet_request.refresh_from_db()
    assert wallet_request.status == Status.NEW


def test_priority_assignee_and_team_changes(
    as_user, agent_in_wallet, wallet_team, trading_team, wallet_request, customer
):
    colleague = team_agent(wallet_team, email="colleague@example.com")
    client = as_user(agent_in_wallet)
    url = f"{AGENT}{wallet_request.reference}/"

    body = post_json(client, f"{url}priority/", {"priority": "urgent", "version": 1}).json()
    assert (body["priority"], body["version"]) == ("urgent", 2)
    body = post_json(client, f"{url}assignee/", {"assignee": colleague.uid, "version": 2}).json()
    assert body["assignee"]["uid"] == colleague.uid

    not_agent = post_json(client, f"{url}assignee/", {"assignee": customer.uid, "version": 3})
    assert not_agent.status_code == 400
    assert not_agent.json() == {"assignee": ["Only an agent can be assigned a request."]}
    unknown = post_json(client, f"{url}assignee/", {"assignee": "000000000", "version": 3})
    assert unknown.status_code == 400 and "assignee" in unknown.json()

    bad_team = post_json(client, f"{url}team/", {"team": "nowhere", "version": 3})
    assert bad_team.status_code == 400
    assert bad_team.json() == {"team": ["There is no team with this slug."]}
    body = post_json(client, f"{url}team/", {"team": trading_team.slug, "version": 3}).json()
    assert body["team"]["slug"] == trading_team.slug
    assert body["assignee"] is None  # the colleague is not in the trading team
    assert body["allowed_statuses"] == []  # out of this agent's scope now
    assert client.get(url).status_code == 404

    wallet_request.refresh_from_db()
    assert wallet_request.priority == Priority.URGENT
    assert not TicketEvent.objects.filter(
        ticket=wallet_request, kind__in=["priority", "assignee", "team"], is_public=True
    ).exists()


def test_fields_are_validated_per_network_and_errors_nest_under_fields(
    as_user, agent_in_wallet, wallet_request, withdrawal_values
):
    client = as_user(agent_in_wallet)
    url = f"{AGENT}{wallet_request.reference}/fields/"
    bad = post_json(client, url, {"fields": {**withdrawal_values, "txid": "0x12"}, "version": 1})
    assert bad.status_code == 400
    assert list(bad.json()) == ["fields"] and "txid" in bad.json()["fields"]

    values = {**withdrawal_values, "amount": "250"}
    good = post_json(client, url, {"fields": values, "version": 1}).json()
    assert {row["key"]: row["value"] for row in good["fields"]}["amount"] == "250"
    assert good["version"] == 2


def test_merge_moves_the_conversation_and_closes_the_duplicate(
    as_user, agent_in_wallet, wallet_request, open_request, withdrawal, withdrawal_values, customer
):
    duplicate = open_request(
        category=withdrawal, fields=withdrawal_values, description="Still missing!"
    )
    client = as_user(agent_in_wallet)
    response = post_json(
        client, f"{AGENT}{duplicate.reference}/merge/", {"into": wallet_request.reference}
    )
    assert response.status_code == 200, response.content
    target = response.json()
    assert target["reference"] == wallet_request.reference
    assert "Still missing!" in [m["body"] for m in target["messages"]]

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into) == (Status.CLOSED, wallet_request)
    mine = as_user(customer).get(f"{TICKETS}{duplicate.reference}/").json()
    assert mine["merged_into"] == wallet_request.reference

    client = as_user(agent_in_wallet)
    again = post_json(client, f"{AGENT}{duplicate.reference}/merge/", {"into": duplicate.reference})
    assert again.status_code == 400


def test_merging_into_a_request_the_agent_cannot_see_names_the_field(
    as_user, agent_in_wallet, other_team_agent, wallet_request, trading_team, customer
):
    hidden = TicketFactory(requester=customer, team=trading_team)
    response = post_json(
        as_user(agent_in_wallet),
        f"{AGENT}{wallet_request.reference}/merge/",
        {"into": hidden.reference},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["into"]


# The inbox ---------------------------------------------------------------------------------


@pytest.fixture
def busy_inbox(customer, other_customer, withdrawal, wallet_team, agent_in_wallet):
    """110 wallet-team requests, some urgent, some unassigned, two requesters."""
    for n in range(110):
        TicketFactory(
            requester=customer if n % 2 else other_customer,
            category=withdrawal,
            team=wallet_team,
            assignee=agent_in_wallet if n % 3 else None,
            priority=Priority.URGENT if n % 10 == 0 else Priority.NORMAL,
            status=Status.OPEN,
        )


def test_inbox_filters_and_sorting(as_user, agent_in_wallet, busy_inbox, withdrawal):
    client = as_user(agent_in_wallet)
    mine = client.get(AGENT).json()
    assert mine["count"] == 73  # the default view: assigned to me
    everything = client.get(AGENT, {"view": "all", "page_size": 5}).json()
    assert everything["count"] == 110
    assert [row["priority"] for row in everything["results"]] == ["urgent"] * 5
    assert client.get(AGENT, {"view": "unassigned"}).json()["count"] == 37
    assert client.get(AGENT, {"view": "all", "priority": "urgent"}).json()["count"] == 11
    assert client.get(AGENT, {"view": "all", "team": "test-wallet"}).json()["count"] == 110
    assert client.get(AGENT, {"view": "all", "category": withdrawal.slug}).json()["count"] == 110
    assert client.get(AGENT, {"view": "all", "language": "ja"}).json()["count"] == 0
    by_email = client.get(AGENT, {"view": "all", "q": "li.wei@example.com"}).json()
    assert by_email["count"] == 55
    row = by_email["results"][0]
    assert set(row) >= {"reference", "status", "priority", "requester", "assignee", "version"}
    for params in [{"team": "nowhere"}, {"view": "bogus"}, {"sort": "bogus"}, {"priority": "p1"}]:
        assert client.get(AGENT, params).status_code == 400


def test_inbox_pages_are_capped_at_100(as_user, agent_in_wallet, busy_inbox):
    body = as_user(agent_in_wallet).get(AGENT, {"view": "all", "page_size": 500}).json()
    assert len(body["results"]) == 100


def test_the_inbox_costs_the_same_queries_whatever_the_page_size(
    as_user, agent_in_wallet, busy_inbox, django_assert_max_num_queries
):
    """Session, user, permissions (2), count, page: related rows are joined, never per row."""
    client = as_user(agent_in_wallet)
    counts = []
    for size in (10, 100):
        with (
            django_assert_max_num_queries(6),
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.get(AGENT, {"view": "all", "page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_my_list_costs_the_same_queries_whatever_the_page_size(
    as_user, customer, busy_inbox, django_assert_max_num_queries
):
    client = as_user(customer)
    for size in (10, 50):
        with django_assert_max_num_queries(4):
            assert len(client.get(TICKETS, {"page_size": size}).json()["results"]) == size


@pytest.mark.parametrize(
    "params",
    [
        {"view": "mine"},
        {"view": "unassigned", "sort": "age"},
        {"view": "open", "sort": "updated"},
        {"view": "all", "q": "li.wei@example.com"},
        {"view": "all", "status": "open", "priority": "normal"},
    ],
)
def test_every_inbox_view_costs_six_queries_whatever_the_page_size(
    as_user, agent_in_wallet, busy_inbox, params, django_assert_num_queries
):
    client = as_user(agent_in_wallet)
    for size in (10, 100):
        with django_assert_num_queries(6):
            body = client.get(AGENT, {**params, "page_size": size}).json()
        assert len(body["results"]) == min(size, body["count"])


@pytest.mark.parametrize("params", [{}, {"status": "active"}, {"q": "request subject"}])
def test_my_list_costs_four_queries_whatever_the_page_size(
    as_user, customer, busy_inbox, params, django_assert_num_queries
):
    """Session, user, count, page."""
    client = as_user(customer)
    for size in (10, 50):
        with django_assert_num_queries(4):
            body = client.get(TICKETS, {**params, "page_size": size}).json()
        assert len(body["results"]) == size


# Throttling ----------------------------------------------------------------------------------


@pytest.fixture
def strict_write_rate(monkeypatch):
    monkeypatch.setattr(
        TicketWriteThrottle,
        "THROTTLE_RATES",
        {**TicketWriteThrottle.THROTTLE_RATES, "ticket_write": "3/hour"},
    )


def test_floods_of_new_requests_and_replies_get_429(as_user, customer, general, strict_write_rate):
    client = as_user(customer)
    body = {"category": general.slug, "subject": "Help", "description": "Please."}
    first = post_json(client, TICKETS, body)
    assert first.status_code == 201
    reference = first.json()["reference"]
    assert post_json(client, f"{TICKETS}{reference}/replies/", {"body": "?"}).status_code == 201
    assert post_json(client, TICKETS, body).status_code == 201
    flooded = post_json(client, TICKETS, body)
    assert flooded.status_code == 429
    assert flooded.json()["detail"].startswith(
        "You have sent too many requests or replies in a short time."
    )
    assert 0 < int(flooded["Retry-After"]) <= 3601
    assert post_json(client, f"{TICKETS}{reference}/replies/", {"body": "?"}).status_code == 429
    assert Ticket.objects.count() == 2
    # Reading is not writing: the list and the detail still answer.
    assert client.get(TICKETS).status_code == 200
    assert client.get(f"{TICKETS}{reference}/").status_code == 200


def test_the_write_allowance_is_per_user(
    as_user, customer, other_customer, general, strict_write_rate
):
    body = {"category": general.slug, "subject": "Help", "description": "Please."}
    for _ in range(3):
        post_json(as_user(customer), TICKETS, body)
    assert post_json(as_user(customer), TICKETS, body).status_code == 429
    assert post_json(as_user(other_customer), TICKETS, body).status_code == 201


# Schema --------------------------------------------------------------------------------------


def test_the_schema_documents_every_ticket_endpoint(client):
    schema = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    paths = schema["paths"]
    customer = ["", "{reference}/", *(f"{{reference}}/{a}/" for a in ["replies", "solve"])]
    customer += ["{reference}/reopen/", "{reference}/rating/"]
    agent = ["agent/", "agent/{reference}/"]
    agent += [
        f"agent/{{reference}}/{a}/"
        for a in ["replies", "status", "priority", "assignee", "team", "fields", "merge"]
    ]
    for path in customer + agent:
        assert f"{TICKETS}{path}" in paths, path
    status_change = paths[f"{AGENT}{{reference}}/status/"]["post"]
    assert set(status_change["responses"]) == {"200", "400", "403", "404", "409", "429"}
    create = paths[TICKETS]["post"]["requestBody"]["content"]
    assert set(create) == {"application/json", "multipart/form-data"}
    assert "tokenAuth" in schema["components"]["securitySchemes"]
