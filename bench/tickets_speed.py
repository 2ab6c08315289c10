"""Speed of the request pages and API with 100,000 tickets and 400,000 messages.

    .venv/bin/python bench/tickets_speed.py [--tickets 100000] [--repeat 60]
        [--database-url postgres://…]

Generates customers, agents, tickets (with structured fields and TXIDs),
messages and events with bulk inserts, then times, in-process through the
whole middleware stack on one pinned core: the agent inbox page, the agent
list API, a customer's "My requests" page, and creating a ticket through the
API. Each figure is printed with its SQL query count, next to a bare view.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import timedelta

from _setup import bare_view_ms, describe, setup_django, timed

MESSAGES_PER_TICKET = 4
CUSTOMERS = 5_000
AGENTS = 24
# One customer files many requests: the heaviest "My requests" page.
BUSY_CUSTOMER_TICKETS = 300
LANGUAGES = ["zh-hans", "en", "ja", "ko"]
SUBJECTS = {
    "zh-hans": ["USDT 提币一直没到账", "谷歌验证丢失无法登录", "KYC 审核被拒", "充值未到账"],
    "en": ["USDT withdrawal pending", "Lost my 2FA device", "KYC rejected", "Deposit missing"],
    "ja": ["USDTの出金が届かない", "二段階認証をリセット", "本人確認が否認された", "入金が未反映"],
    "ko": ["USDT 출금이 안 들어와요", "OTP 분실", "KYC 거절", "입금 미반영"],
}


def generate(total: int, seed: int = 11) -> dict:
    """Bulk-insert users, tickets, messages, events and identifiers; return the actors."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import AgentProfile, User
    from accounts.roles import Role
    from tickets.lifecycle import Status
    from tickets.models import (
        REFERENCE_ALPHABET,
        REFERENCE_PREFIX,
        EventKind,
        IdentifierKind,
        Message,
        Priority,
        Team,
        TeamMembership,
        Ticket,
        TicketCategory,
        TicketEvent,
        TicketIdentifier,
    )

    rng = random.Random(seed)
    password = make_password("bench-password")
    customers = User.objects.bulk_create(
        User(
            email=f"customer{n}@example.com",
            uid=f"{100000000 + n}",
            password=password,
            preferred_language=rng.choice(LANGUAGES),
        )
        for n in range(CUSTOMERS)
    )
    agents = User.objects.bulk_create(
        User(email=f"agent{n}@example.com", uid=f"{900000000 + n}", password=password)
        for n in range(AGENTS)
    )
    from django.contrib.auth.models import Group

    Group.objects.get(name=Role.AGENT.group_name).user_set.add(*agents)
    supervisor = User.objects.create(email="supervisor@example.com", password=password)
    Group.objects.get(name=Role.SUPERVISOR.group_name).user_set.add(supervisor)
    AgentProfile.objects.bulk_create(
        AgentProfile(user=agent, languages=rng.sample(LANGUAGES, 2)) for agent in agents
    )
    teams = list(Team.objects.all())
    TeamMembership.objects.bulk_create(
        TeamMembership(team=teams[n % len(teams)], user=agent) for n, agent in enumerate(agents)
    )
    categories = list(TicketCategory.objects.select_related("team"))
    team_agents = {team.pk: [] for team in teams}
    for n, agent in enumerate(agents):
        team_agents[teams[n % len(teams)].pk].append(agent)

    now = timezone.now()
    references: set[str] = set()
    while len(references) < total:
        references.add(REFERENCE_PREFIX + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(6)))
    statuses = [Status.NEW, Status.OPEN, Status.WAITING, Status.SOLVED, Status.CLOSED]
    status_weights = [8, 12, 10, 30, 40]
    busy = customers[0]
    tickets = []
    for number, reference in enumerate(sorted(references, key=lambda _: rng.random())):
        requester = busy if number < BUSY_CUSTOMER_TICKETS else rng.choice(customers)
        category = rng.choice(categories)
        language = rng.choice(LANGUAGES)
        status = rng.choices(statuses, status_weights)[0]
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
        team = category.team
        assignee = None
        if team is not None and status != Status.NEW and rng.random() < 0.85:
            assignee = rng.choice(team_agents[team.pk])
        fields = {}
        if category.slug in {"withdrawal", "deposit"}:
            fields = {"coin": "USDT", "network": "TRC20", "txid": f"{number:064x}"}
        tickets.append(
            Ticket(
                reference=reference,
                requester=requester,
                category=category,
                subject=rng.choice(SUBJECTS[language]),
                description="Generated request for the benchmark. " * 4,
                priority=rng.choices([p.value for p in Priority], [20, 60, 15, 5])[0],
                status=status,
                language=language,
                assignee=assignee,
                team=team,
                created_at=created,
                updated_at=created + timedelta(minutes=rng.randint(0, 600)),
                fields=fields,
                solved_at=created + timedelta(hours=5) if status in {"solved", "closed"} else None,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=2_000)
    tickets = list(Ticket.objects.only("pk", "requester_id", "assignee_id", "created_at", "fields"))

    messages, events, identifiers = [], [], []
    for ticket in tickets:
        for n in range(MESSAGES_PER_TICKET):
            agent_turn = n % 2 == 1 and ticket.assignee_id is not None
            messages.append(
                Message(
                    ticket=ticket,
                    author_id=ticket.assignee_id if agent_turn else ticket.requester_id,
                    is_internal=agent_turn and n == 3,
                    body="Thanks, we are checking the transaction on chain. " * 3,
                    created_at=ticket.created_at + timedelta(minutes=30 * n),
                )
            )
        events.append(
            TicketEvent(
                ticket=ticket, kind=EventKind.CREATED, is_public=True, created_at=ticket.created_at
            )
        )
        if ticket.fields.get("txid"):
            identifiers.append(
                TicketIdentifier(
                    ticket=ticket, kind=IdentifierKind.TXID, value=ticket.fields["txid"]
                )
            )
        if len(messages) >= 40_000:
            Message.objects.bulk_create(messages, batch_size=5_000)
            messages = []
    Message.objects.bulk_create(messages, batch_size=5_000)
    TicketEvent.objects.bulk_create(events, batch_size=5_000)
    TicketIdentifier.objects.bulk_create(identifiers, batch_size=5_000)
    return {"busy_customer": busy, "agent": agents[0], "supervisor": supervisor}


def measure(client, url: str, repeat: int, **params) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    # Counted now: the log is emptied by every later request.
    count = len(queries)
    return timed(lambda: client.get(url, params), repeat), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    os.environ.setdefault("API_TICKET_WRITE_RATE", "100000000/minute")
    # As in production, a request only hands its emails to the broker (the
    # filesystem broker here); workers send them, outside the timed request.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    setup_django(database_url=args.database_url)
    from django.db import connection
    from django.test import Client

    from tickets.models import Message, Ticket, TicketCategory

    start = time.perf_counter()
    actors = generate(args.tickets)
    print(
        f"generated {Ticket.objects.count()} tickets and {Message.objects.count()} messages "
        f"on {connection.vendor} in {time.perf_counter() - start:.1f} s"
    )
    # Statistics for the planner, as a live database has them; on PostgreSQL also
    # so that autovacuum does not start on the new rows while pages are timed.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    rows = []
    agent = Client()
    agent.force_login(actors["agent"])
    supervisor = Client()
    supervisor.force_login(actors["supervisor"])
    txid = Ticket.objects.exclude(fields={}).values_list("fields__txid", flat=True).first()
    inbox, api = "/en/console/tickets/", "/api/v1/tickets/agent/"
    for label, client, url, params in [
        ("inbox page: mine", agent, inbox, {"view": "mine"}),
        ("inbox page: unassigned", agent, inbox, {"view": "unassigned"}),
        ("inbox page: all open", supervisor, inbox, {"view": "open"}),
        ("inbox page: urgent", supervisor, inbox, {"view": "urgent"}),
        ("inbox page: all open, 100 rows", supervisor, inbox, {"view": "open", "per_page": 100}),
        # In "all": the default view ("mine") of a supervisor is empty.
        ("inbox page: TXID search", supervisor, inbox, {"view": "all", "q": txid}),
        ("agent API: all open", supervisor, api, {"view": "open"}),
        ("agent API: page_size 100", supervisor, api, {"view": "open", "page_size": 100}),
        ("agent API: mine", agent, api, {"view": "mine"}),
    ]:
        samples, queries = measure(client, url, args.repeat, **params)
        rows.append((label, samples, queries))

    customer = Client()
    customer.force_login(actors["busy_customer"])
    for label, url, params in [
        ("My requests (300 tickets)", "/en/requests/", {}),
        ("My requests, page 5", "/en/requests/", {"page": 5}),
        ("My requests API", "/api/v1/tickets/", {}),
    ]:
        samples, queries = measure(customer, url, args.repeat, **params)
        rows.append((label, samples, queries))

    category = TicketCategory.objects.get(slug="other")
    payload = {
        "category": category.slug,
        "subject": "Cannot change my phone number",
        "description": "I no longer have the old number and need to change it.",
        "fields": {},
    }
    creator = Client()
    creator.force_login(actors["busy_customer"])
    response = creator.post("/api/v1/tickets/", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    create_samples = timed(
        lambda: creator.post("/api/v1/tickets/", payload, content_type="application/json"),
        args.repeat,
    )
    rows.append(("create ticket (API, no file)", create_samples, None))

    bare = bare_view_ms(agent)
    for label, samples, queries in rows:
        ratio = statistics.median(samples) / bare
        counted = f"   {queries} queries" if queries is not None else ""
        print(f"{label:32} {describe(samples)}   {ratio:5.1f}× bare{counted}")
    print(f"bare view p50 {bare:.3f} ms")


if __name__ == "__main__":
    main()
