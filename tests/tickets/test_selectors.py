import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.tickets.factories import (
    TRON_TXID,
    MacroFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketFieldFactory,
)
from tickets import selectors, services
from tickets.models import FieldType, Priority, Status, TeamMembership, Ticket

# Single requests ---------------------------------------------------------------------


class TestLookups:
    def test_customer_opens_their_own_request_in_any_case(self, open_request, customer):
        ticket = open_request()
        assert selectors.ticket_for_customer(customer, ticket.reference.lower()) == ticket

    def test_another_customers_request_is_not_found(self, open_request, other_customer):
        ticket = open_request()
        with pytest.raises(Http404):
            selectors.ticket_for_customer(other_customer, ticket.reference)

    @pytest.mark.parametrize("reference", ["", "HD-0000O0", "1", "HD-ABCDEFG", "' OR 1=1 --"])
    def test_malformed_references_are_not_found(self, customer, reference):
        with pytest.raises(Http404):
            selectors.ticket_for_customer(customer, reference)

    def test_agents_of_the_team_find_it_other_teams_do_not(
        self, open_request, withdrawal, withdrawal_values, agent_in_wallet, other_team_agent
    ):
        ticket = open_request(category=withdrawal, fields=withdrawal_values)
        assert selectors.ticket_for_agent(agent_in_wallet, ticket.reference) == ticket
        with pytest.raises(Http404):
            selectors.ticket_for_agent(other_team_agent, ticket.reference)

    def test_customers_cannot_use_the_agent_lookup(self, open_request, customer):
        ticket = open_request()
        with pytest.raises(Http404):
            selectors.ticket_for_agent(customer, ticket.reference)


# Customer list -----------------------------------------------------------------------


def test_customer_list_is_theirs_most_recent_activity_first_and_filterable(
    open_request, customer, other_customer
):
    """Solving the older request makes it the most recently active one."""
    old = open_request(subject="Deposit missing")
    new = open_request(subject="KYC rejected")
    open_request(requester=other_customer, subject="Deposit missing")
    assert list(selectors.customer_tickets(customer)) == [new, old]
    services.ticket_solve_by_customer(ticket=old, customer=customer)
    assert list(selectors.customer_tickets(customer)) == [old, new]
    assert list(selectors.customer_tickets(customer, status="active")) == [new]
    assert list(selectors.customer_tickets(customer, status="")) == [old, new]
    assert list(selectors.customer_tickets(customer, status=Status.SOLVED)) == [old]
    assert list(selectors.customer_tickets(customer, query="deposit")) == [old]
    assert list(selectors.customer_tickets(customer, query=new.reference.lower())) == [new]


def test_customers_find_their_requests_by_txid_and_only_their_own(
    open_request, customer, other_customer, withdrawal, withdrawal_values
):
    mine = open_request(category=withdrawal, fields=withdrawal_values, subject="USDT")
    open_request(requester=other_customer, category=withdrawal, fields=withdrawal_values)
    open_request(subject="Something else")
    assert list(selectors.customer_tickets(customer, query=TRON_TXID.upper())) == [mine]
    assert list(selectors.customer_tickets(customer, query="usdt")) == [mine]


# Inbox -------------------------------------------------------------------------------


@pytest.fixture
def inbox(customer, agent_in_wallet, wallet_team, trading_team, withdrawal, general):
    """One request per situation, all visible to `agent` (wallet team) unless noted."""
    colleague = UserFactory(role=Role.AGENT)
    TeamMembership.objects.create(team=wallet_team, user=colleague)
    now = timezone.now()

    def make(name, **fields):
        fields.setdefault("category", withdrawal)
        fields.setdefault("team", wallet_team)
        fields.setdefault("requester", customer)
        return TicketFactory(subject=name, **fields)

    return {
        "mine": make("mine", assignee=agent_in_wallet, status=Status.OPEN),
        "mine_solved": make("mine_solved", assignee=agent_in_wallet, status=Status.SOLVED),
        "colleague": make("colleague", assignee=colleague, status=Status.WAITING),
        "unassigned": make(
            "unassigned", created_at=now - datetime.timedelta(days=2), priority=Priority.LOW
        ),
        "urgent": make("urgent", priority=Priority.URGENT, created_at=now),
        "triage": make("triage", team=None, category=general, language="ja"),
        "other_team": make("other_team", team=trading_team),
    }


def names(tickets):
    return {ticket.subject for ticket in tickets}


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("mine", {"mine"}),
        ("unassigned", {"unassigned", "urgent", "triage"}),
        ("open", {"mine", "unassigned", "urgent", "triage"}),
        ("waiting", {"colleague"}),
        ("urgent", {"urgent"}),
        ("team", {"mine", "colleague", "unassigned", "urgent"}),
        ("all", {"mine", "mine_solved", "colleague", "unassigned", "urgent", "triage"}),
    ],
)
def test_inbox_views(inbox, agent_in_wallet, view, expected):
    assert names(selectors.agent_inbox(agent_in_wallet, view=view)) == expected


def test_supervisors_see_every_team(inbox, supervisor):
    assert "other_team" in names(selectors.agent_inbox(supervisor, view="all"))


def test_inbox_filters(inbox, agent_in_wallet, general):
    agent = agent_in_wallet
    assert names(selectors.agent_inbox(agent, view="all", status=Status.SOLVED)) == {"mine_solved"}
    assert names(selectors.agent_inbox(agent, view="all", priority=Priority.LOW)) == {"unassigned"}
    assert names(selectors.agent_inbox(agent, view="all", category=general)) == {"triage"}
    assert names(selectors.agent_inbox(agent, view="all", language="ja")) == {"triage"}
    assert names(selectors.agent_inbox(agent, view="all", assignee=agent)) == {
        "mine",
        "mine_solved",
    }


def test_inbox_sorts(inbox, agent_in_wallet):
    by_priority = list(selectors.agent_inbox(agent_in_wallet, view="unassigned"))
    assert [t.subject for t in by_priority][0] == "urgent"
    assert [t.subject for t in by_priority][-1] == "unassigned"
    by_age = list(selectors.agent_inbox(agent_in_wallet, view="unassigned", sort="age"))
    assert by_age[0].subject == "unassigned"
    Ticket.objects.filter(pk=inbox["triage"].pk).update(
        updated_at=timezone.now() + datetime.timedelta(minutes=1)
    )
    by_update = list(selectors.agent_inbox(agent_in_wallet, view="unassigned", sort="updated"))
    assert by_update[0].subject == "triage"


def test_the_inbox_is_for_agents(customer):
    with pytest.raises(PermissionDenied):
        selectors.agent_inbox(customer)


class TestSearch:
    @pytest.fixture
    def requests(self, open_request, customer, other_customer, withdrawal, withdrawal_values):
        trading = TicketCategoryFactory()
        TicketFieldFactory(category=trading, key="order_id", field_type=FieldType.ORDER_ID)
        TicketFieldFactory(category=trading, key="uid", field_type=FieldType.UID)
        return {
            "withdrawal": open_request(
                category=withdrawal, fields=withdrawal_values, subject="USDT withdrawal"
            ),
            "order": open_request(
                requester=other_customer,
                category=trading,
                fields={"order_id": "ORD-88812345", "uid": "987654321"},
                subject="Order stuck",
            ),
            "plain": open_request(subject="Cannot find the deposit button"),
        }

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            (TRON_TXID.upper(), "withdrawal"),
            (f"  {TRON_TXID}  ", "withdrawal"),
            ("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "withdrawal"),
            ("ord-88812345", "order"),
            ("987654321", "order"),
            ("sato.yuki@EXAMPLE.com", "order"),
            ("deposit button", "plain"),
        ],
    )
    def test_agents_find_requests_by_what_customers_quote(
        self, requests, supervisor, query, expected
    ):
        assert list(selectors.agent_inbox(supervisor, view="all", query=query)) == [
            requests[expected]
        ]

    @pytest.mark.parametrize("reference", ["HD-HPBNGP", "HD-7K3P9Q"])
    def test_by_reference_and_requester_uid(self, requests, supervisor, customer, reference):
        target = requests["plain"]
        # With and without digits: the bare six characters take different paths.
        Ticket.objects.filter(pk=target.pk).update(reference=reference)
        target.refresh_from_db()
        for query in (target.reference, target.reference.lower(), target.reference[3:]):
            assert target in selectors.agent_inbox(supervisor, view="all", query=query)
        found = selectors.agent_inbox(supervisor, view="all", query=customer.uid)
        assert set(found) == {requests["withdrawal"], requests["plain"]}

    def test_search_stays_within_what_the_agent_may_see(self, requests, other_team_agent):
        assert not selectors.agent_inbox(other_team_agent, view="all", query=TRON_TXID).exists()


@pytest.mark.parametrize("agent_kind", ["agent", "supervisor"])
def test_inbox_costs_the_same_queries_for_10_and_50_rows(
    request, agent_kind, agent_in_wallet, wallet_team, withdrawal, django_assert_max_num_queries
):
    user = request.getfixturevalue(agent_kind)
    requesters = [UserFactory() for _ in range(5)]
    for index in range(60):
        TicketFactory(
            requester=requesters[index % 5],
            category=withdrawal,
            team=wallet_team,
            assignee=agent_in_wallet if index % 2 else None,
        )

    def page(size):
        fresh = type(user).objects.get(pk=user.pk)  # a cold permission cache, as per request
        with CaptureQueriesContext(connection) as captured:
            rows = list(selectors.agent_inbox(fresh, view="all")[:size])
            shown = [
                (row.requester.email, row.category.name, row.team.name, row.assignee)
                for row in rows
            ]
        assert len(shown) == size
        return len(captured)

    assert page(10) == page(50) <= 3
    with django_assert_max_num_queries(3):
        list(selectors.agent_inbox(user, view="team", query=TRON_TXID)[:50])


class TestSidebarCounts:
    @pytest.mark.parametrize("persona", ["agent_in_wallet", "other_team_agent", "supervisor"])
    def test_each_count_is_the_length_of_its_list(self, request, inbox, persona):
        user = request.getfixturevalue(persona)
        counts = selectors.inbox_counts(user)
        for view in selectors.InboxView:
            if view != selectors.InboxView.ALL:
                assert counts.views[view] == selectors.agent_inbox(user, view=view).count(), view
        active = selectors.agent_inbox(user, view="all", status="active")
        for team, count in counts.teams:
            assert count == active.filter(team=team).count()
        assert {team for team, _n in counts.teams} == {t.team for t in active if t.team}
        assert sum(n for _category, n in counts.categories) == active.count()

    def test_five_queries_whatever_the_queue(
        self, inbox, agent_in_wallet, wallet_team, withdrawal, django_assert_num_queries
    ):
        """Memberships, one grouped pass over the active requests, "at risk or breached",
        teams, categories."""
        # Permissions cached on the user, as within a request.
        assert agent_in_wallet.has_perm("tickets.work_tickets")
        with django_assert_num_queries(5):
            before = selectors.inbox_counts(agent_in_wallet)
        TicketFactory.create_batch(20, category=withdrawal, team=wallet_team)
        with django_assert_num_queries(5):
            after = selectors.inbox_counts(agent_in_wallet)
        assert after.views["unassigned"] == before.views["unassigned"] + 20


class TestPaginator:
    """Pages of TicketPaginator hold exactly what slicing the sorted list would."""

    @pytest.fixture
    def many(self, customer, wallet_team, withdrawal, agent_in_wallet):
        now = timezone.now()
        for index in range(23):
            TicketFactory(
                requester=customer,
                category=withdrawal,
                team=wallet_team,
                assignee=agent_in_wallet if index % 3 else None,
                priority=[Priority.LOW, Priority.NORMAL, Priority.URGENT][index % 3],
                # Ties on purpose: the primary key decides between them.
                created_at=now - datetime.timedelta(hours=index // 2),
                updated_at=now - datetime.timedelta(minutes=index % 4),
            )

    @pytest.mark.parametrize("sort", ["priority", "age", "updated"])
    def test_pages_match_slices_of_the_sorted_list(self, many, supervisor, sort):
        tickets = selectors.agent_inbox(supervisor, view="all", sort=sort)
        expected = list(tickets)
        paginator = selectors.TicketPaginator(tickets, 5, orphans=3)
        pages = [list(paginator.page(number)) for number in paginator.page_range]
        assert [len(page) for page in pages] == [5, 5, 5, 8]
        assert [ticket for page in pages for ticket in page] == expected

    def test_one_query_per_page_with_related_rows_joined(
        self, many, agent_in_wallet, django_assert_num_queries
    ):
        tickets = selectors.agent_inbox(agent_in_wallet, view="all")
        paginator = selectors.TicketPaginator(tickets, 10)
        assert paginator.count == 23
        with django_assert_num_queries(1):
            rows = list(paginator.get_page(2))
            shown = [(t.requester.email, t.category.name, t.team.name, t.assignee) for t in rows]
        assert len(shown) == 10

    def test_an_empty_list_has_one_empty_page(self, supervisor, django_assert_num_queries):
        paginator = selectors.TicketPaginator(selectors.agent_inbox(supervisor), 10)
        with django_assert_num_queries(1):  # the count
            assert list(paginator.get_page(3)) == []


# Timeline ----------------------------------------------------------------------------


def test_timeline_in_time_order_and_customers_see_only_what_is_public(
    open_request, customer, agent, django_assert_num_queries
):
    ticket = open_request()
    services.ticket_reply(ticket=ticket, author=agent, body="Looking", internal=True)
    services.ticket_assign(ticket=ticket, actor=agent, assignee=agent, expected_version=1)
    services.ticket_reply(ticket=ticket, author=agent, body="Found it")
    services.ticket_change_status(
        ticket=ticket, actor=agent, to_status=Status.SOLVED, expected_version=3
    )

    def describe(entries):
        return [e.message.body if e.message else e.event.kind for e in entries]

    with django_assert_num_queries(3):
        agent_view = selectors.ticket_timeline(ticket, for_customer=False)
    assert describe(agent_view) == [
        "created",
        "I sent it yesterday and it is still missing.",
        "Looking",
        "assignee",
        "Found it",
        "status",
        "status",
    ]
    customer_view = selectors.ticket_timeline(ticket, for_customer=True)
    assert describe(customer_view) == [
        "created",
        "I sent it yesterday and it is still missing.",
        "Found it",
        "status",
        "status",
    ]


# Duplicates --------------------------------------------------------------------------


class TestDuplicates:
    def test_similar_subject_in_the_same_category(self, open_request, customer, general):
        earlier = open_request(subject="My USDT withdrawal has not arrived")
        found = selectors.duplicate_candidates(
            customer, category=general, subject="USDT withdrawal not arrived yet", fields={}
        )
        assert found == [earlier]
        assert not selectors.duplicate_candidates(
            customer, category=general, subject="How do I change my email?", fields={}
        )

    def test_chinese_subjects_compare_by_bigrams(self, open_request, customer, general):
        earlier = open_request(subject="提币一直没有到账")
        assert selectors.duplicate_candidates(
            customer, category=general, subject="提币没有到账", fields={}
        ) == [earlier]

    def test_same_txid_in_any_category(
        self, open_request, customer, withdrawal, withdrawal_values, general
    ):
        earlier = open_request(category=withdrawal, fields=withdrawal_values, subject="A")
        found = selectors.duplicate_candidates(
            customer,
            category=withdrawal,
            subject="Something entirely different",
            fields={"txid": TRON_TXID.upper()},
        )
        assert found == [earlier]

    def test_only_the_users_own_active_requests(
        self, open_request, customer, other_customer, general
    ):
        theirs = open_request(requester=other_customer, subject="Withdrawal not received")
        mine = open_request(subject="Withdrawal not received")
        services.ticket_solve_by_customer(ticket=mine, customer=customer)
        assert theirs not in selectors.duplicate_candidates(
            customer, category=general, subject="Withdrawal not received", fields={}
        )
        assert not selectors.duplicate_candidates(
            customer, category=general, subject="Withdrawal not received", fields={}
        )

    def test_similarity_scores(self):
        assert selectors.subject_similarity("Deposit missing", "deposit MISSING") == 1.0
        assert selectors.subject_similarity("", "x") == 0.0
        assert selectors.subject_tokens("入金が反映されない") >= {"入金", "反映"}


# Macros ------------------------------------------------------------------------------


def test_macros_for_everyone_and_the_agents_teams(
    agent_in_wallet, wallet_team, trading_team, open_request
):
    everyone = MacroFactory(language="en")
    wallet = MacroFactory(language="en", team=wallet_team)
    MacroFactory(language="en", team=trading_team)
    MacroFactory(language="ja")
    MacroFactory(language="en", is_active=False)
    assert set(selectors.macros_for(agent_in_wallet, language="en")) == {everyone, wallet}
    ticket = open_request()
    text = selectors.macro_render(everyone, ticket=ticket, agent=agent_in_wallet)
    assert text == f"Hello 李伟, about {ticket.reference}: …\n王芳"
