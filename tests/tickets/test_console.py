"""The request console: inbox, bulk actions, the workspace and every change made from it,
who may open what, stale pages, merges, broadcasts to other open pages, and escaping."""

from __future__ import annotations

import datetime
import io
import re
import zoneinfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from PIL import Image

from accounts import services as account_services
from accounts.roles import Role
from tests.accounts.factories import UserFactory
from tests.tickets.factories import (
    TRC20_ADDRESS,
    TRON_TXID,
    MacroFactory,
    TicketCategoryFactory,
    TicketFactory,
    TicketFieldFactory,
    team_agent,
)
from tickets import console_forms, console_views, presence, services
from tickets.models import (
    Attachment,
    FieldType,
    Message,
    Priority,
    SlaPolicy,
    Status,
    Team,
    Ticket,
    TicketCategory,
)
from tickets.templatetags import tickets_console

pytestmark = pytest.mark.django_db

BASE = "/en/console/tickets/"
ACTIONS = ("reply", "status", "priority", "assignee", "team", "category", "details", "merge")


def workspace_url(ticket: Ticket, action: str = "") -> str:
    return f"{BASE}{ticket.reference}/" + (f"{action}/" if action else "")


def text(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def withdrawal_ticket(open_request, agent_in_wallet, withdrawal, withdrawal_values):
    """Li Wei's USDT withdrawal in the wallet team, routed to Wang Fang (`agent`)."""
    return open_request(
        category=withdrawal, fields=withdrawal_values, subject="USDT withdrawal pending"
    )


@pytest.fixture
def wallet_client(client, agent_in_wallet):
    client.force_login(agent_in_wallet)
    return client


@pytest.fixture
def trading_ticket(open_request, trading_team):
    category = TicketCategoryFactory(
        slug="test-trading-orders", name_en="Orders", team=trading_team
    )
    return open_request(category=category, subject="Order stuck", language="ko")


def refreshed(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


# Who may open what ---------------------------------------------------------------------


class TestPermissions:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client, withdrawal_ticket):
        for url in (BASE, workspace_url(withdrawal_ticket)):
            response = client.get(url)
            assert response.status_code == 302
            assert "/accounts/login/" in response["Location"]

    @pytest.mark.parametrize("persona", ["customer", "other_customer"])
    def test_customers_are_not_allowed_in(self, client, request, persona, withdrawal_ticket):
        """Even the requester: their page is "My requests", not the console."""
        client.force_login(request.getfixturevalue(persona))
        assert client.get(BASE).status_code == 403
        assert client.get(workspace_url(withdrawal_ticket)).status_code == 403
        for action in ACTIONS:
            response = client.post(workspace_url(withdrawal_ticket, action), {"version": 1})
            assert response.status_code == 403, action
        assert (
            client.post(f"{BASE}bulk/", {"tickets": [withdrawal_ticket.reference]}).status_code
            == 403
        )

    def test_an_agent_of_another_team_gets_404_on_the_request_and_its_actions(
        self, client, other_team_agent, withdrawal_ticket
    ):
        client.force_login(other_team_agent)
        assert client.get(BASE).status_code == 200
        assert client.get(workspace_url(withdrawal_ticket)).status_code == 404
        version = withdrawal_ticket.version
        for action in ACTIONS:
            response = client.post(
                workspace_url(withdrawal_ticket, action),
                {"version": version, "body": "hi", "status": "open", "priority": 40},
            )
            assert response.status_code == 404, action
        assert refreshed(withdrawal_ticket).version == version
        assert not Message.objects.filter(ticket=withdrawal_ticket, body="hi").exists()

    def test_unknown_and_malformed_references_look_the_same(self, wallet_client):
        assert wallet_client.get(f"{BASE}HD-ZZZZZZ/").status_code == 404
        assert wallet_client.get(f"{BASE}not-a-reference/").status_code == 404

    def test_an_agent_of_the_team_and_a_supervisor_may_open_it(
        self, client, agent_in_wallet, supervisor, withdrawal_ticket
    ):
        for user in (agent_in_wallet, supervisor):
            client.force_login(user)
            response = client.get(workspace_url(withdrawal_ticket))
            assert response.status_code == 200
            assert "USDT withdrawal pending" in text(response)

    def test_the_console_links_the_inbox_for_agents(self, client, agent):
        client.force_login(agent)
        assert f'href="{BASE}"' in text(client.get("/en/console/"))


# Inbox ----------------------------------------------------------------------------------


@pytest.fixture
def queue(customer, agent_in_wallet, wallet_team, trading_team, withdrawal, general):
    """Requests in every situation; `agent` (wallet team) sees all but "other team"."""
    compromise = TicketCategoryFactory(
        slug="test-compromise", name_en="Account compromised", team=wallet_team, is_compromise=True
    )

    def make(subject, **fields):
        fields.setdefault("category", withdrawal)
        fields.setdefault("team", wallet_team)
        fields.setdefault("requester", customer)
        return TicketFactory(subject=subject, **fields)

    return {
        "mine": make("Mine", assignee=agent_in_wallet, status=Status.OPEN),
        "unassigned": make("Nobody's", priority=Priority.LOW),
        "waiting": make("Waiting on Li", status=Status.WAITING, assignee=agent_in_wallet),
        "urgent": make("Hacked", category=compromise, priority=Priority.URGENT),
        "solved": make("Done", status=Status.SOLVED, assignee=agent_in_wallet),
        "triage": make("No team yet", team=None, category=general, language="ja"),
        "other_team": make("Other team", team=trading_team),
    }


def subjects(response) -> set[str]:
    return {ticket.subject for ticket in response.context["page"].object_list}


class TestInbox:
    @pytest.mark.parametrize(
        ("view", "expected"),
        [
            ("", {"Mine", "Waiting on Li"}),
            ("mine", {"Mine", "Waiting on Li"}),
            ("unassigned", {"Nobody's", "Hacked", "No team yet"}),
            ("open", {"Mine", "Nobody's", "Hacked", "No team yet"}),
            ("waiting", {"Waiting on Li"}),
            ("urgent", {"Hacked"}),
            ("team", {"Mine", "Nobody's", "Waiting on Li", "Hacked"}),
        ],
    )
    def test_views(self, wallet_client, queue, view, expected):
        response = wallet_client.get(BASE, {"view": view} if view else {})
        assert response.status_code == 200
        assert subjects(response) == expected

    def test_sidebar_counts_active_requests_per_view_team_and_category(
        self, wallet_client, queue, wallet_team, withdrawal
    ):
        context = wallet_client.get(BASE).context
        assert {value: count for value, _label, count, _query in context["views"]} == {
            "mine": 2,
            "unassigned": 3,
            "open": 4,
            "waiting": 1,
            "urgent": 1,
            "attention": 0,  # no deadlines here (tests/tickets/test_console_sla.py)
            "team": 4,
            "all": None,  # solved and closed too: not worth a count
        }
        assert {team: count for team, count, _query in context["teams"]} == {wallet_team: 4}
        categories = {category: count for category, count, _query in context["categories"]}
        assert categories[withdrawal] == 3

    def test_counts_are_reused_briefly_and_refreshed_after_the_agents_own_change(
        self, wallet_client, queue
    ):
        def mine():
            views = wallet_client.get(BASE).context["views"]
            return next(count for value, _label, count, _query in views if value == "mine")

        assert mine() == 2
        TicketFactory(
            subject="Assigned elsewhere meanwhile",
            category=queue["mine"].category,
            team=queue["mine"].team,
            assignee=queue["mine"].assignee,
            requester=queue["mine"].requester,
        )
        assert mine() == 2  # someone else's change shows within COUNTS_SECONDS
        wallet_client.post(
            f"{BASE}bulk/", {"tickets": [queue["unassigned"].reference], "action": "assign_to_me"}
        )
        assert mine() == 4

    def test_by_team_shows_that_teams_active_requests(self, wallet_client, queue, wallet_team):
        response = wallet_client.get(
            BASE, {"view": "all", "status": "active", "team": wallet_team.pk}
        )
        assert subjects(response) == {"Mine", "Nobody's", "Waiting on Li", "Hacked"}

    def test_filters_narrow_the_view(self, wallet_client, queue, agent_in_wallet, general):
        def shown(**params):
            return subjects(wallet_client.get(BASE, {"view": "all", **params}))

        assert shown(status="solved") == {"Done"}
        assert shown(priority=Priority.LOW) == {"Nobody's"}
        assert shown(category=general.pk) == {"No team yet"}
        assert shown(language="ja") == {"No team yet"}
        assert shown(assignee=agent_in_wallet.pk) == {"Mine", "Waiting on Li", "Done"}

    def test_invalid_filters_are_reported_and_ignored(self, wallet_client, queue):
        response = wallet_client.get(BASE, {"view": "all", "priority": "abc", "team": "999999"})
        assert response.status_code == 200
        assert response.context["filter_form"].errors.keys() == {"priority", "team"}
        assert "Done" in subjects(response)

    def test_search_by_txid_email_uid_and_reference(
        self, wallet_client, withdrawal_ticket, customer
    ):
        for query in (TRON_TXID.upper(), TRC20_ADDRESS, customer.email, customer.uid):
            response = wallet_client.get(BASE, {"view": "all", "q": query})
            assert subjects(response) == {"USDT withdrawal pending"}, query
        found = wallet_client.get(BASE, {"view": "all", "q": withdrawal_ticket.reference.lower()})
        assert subjects(found) == {"USDT withdrawal pending"}

    def test_sorts_by_priority_age_and_last_update(self, wallet_client, queue):
        def order(sort):
            page = wallet_client.get(BASE, {"view": "unassigned", "sort": sort}).context["page"]
            return [ticket.subject for ticket in page.object_list]

        assert order("priority")[0] == "Hacked"
        assert order("priority")[-1] == "Nobody's"
        assert order("age")[0] == "Nobody's"
        Ticket.objects.filter(pk=queue["triage"].pk).update(
            updated_at=timezone.now() + datetime.timedelta(minutes=5)
        )
        assert order("updated")[0] == "No team yet"

    def test_urgent_and_compromise_requests_are_marked(self, wallet_client, queue):
        page = text(wallet_client.get(BASE, {"view": "urgent"}))
        assert re.search(r'class="tc-row is-urgent is-compromise"', page)
        assert "Account compromise" in page

    def test_pages_keep_the_filters(self, wallet_client, wallet_team, withdrawal, customer):
        for _ in range(30):
            TicketFactory(requester=customer, category=withdrawal, team=wallet_team)
        response = wallet_client.get(BASE, {"view": "unassigned", "per_page": 25, "q": "Request"})
        page = response.context["page"]
        assert len(page.object_list) == 25
        assert page.next_query == "view=unassigned&per_page=25&q=Request&page=2"

    def test_costs_the_same_queries_for_10_and_50_rows(
        self, client, supervisor, wallet_team, withdrawal, django_assert_max_num_queries
    ):
        requesters = [UserFactory() for _ in range(5)]
        colleague = team_agent(wallet_team)

        def add(count):
            for index in range(count):
                TicketFactory(
                    requester=requesters[index % 5],
                    category=withdrawal,
                    team=wallet_team,
                    assignee=colleague if index % 2 else None,
                )

        client.force_login(supervisor)
        add(10)
        cache.clear()  # both pages compute the sidebar counts
        with CaptureQueriesContext(connection) as ten:
            response = client.get(BASE, {"view": "all", "per_page": 50})
        assert len(response.context["page"].object_list) == 10
        add(40)
        cache.clear()
        with django_assert_max_num_queries(len(ten)):
            response = client.get(BASE, {"view": "all", "per_page": 50})
        assert len(response.context["page"].object_list) == 50

    def test_every_view_costs_the_same_queries_for_25_and_100_rows(
        self, wallet_client, agent_in_wallet, wallet_team, withdrawal, customer
    ):
        """Session, user, count, page, and the teams and categories of the filters
        and rows: six, with the sidebar counts, the agents and the permissions cached."""
        now = timezone.now()
        for index in range(200):
            TicketFactory(
                requester=customer,
                category=withdrawal,
                team=wallet_team,
                assignee=agent_in_wallet if index % 2 else None,
                status=Status.OPEN,
                # Every row at risk or breached, each with its countdown.
                sla_warn_at=now - datetime.timedelta(minutes=1),
                sla_due_at=now + datetime.timedelta(minutes=index - 100),
            )
        cache.clear()
        for view in ("mine", "unassigned", "open", "attention", "team", "all"):
            for sort in ("priority", "updated", "sla"):
                params = {"view": view, "sort": sort}
                wallet_client.get(BASE, params)  # the sidebar counts, then cached
                counts = []
                for size in (25, 100):
                    with CaptureQueriesContext(connection) as queries:
                        response = wallet_client.get(BASE, {**params, "per_page": size})
                    assert len(response.context["page"].object_list) == size
                    counts.append(len(queries))
                assert counts == [6, 6], (view, sort)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"view": "open", "status": "active", "priority": "40", "sort": "age", "per_page": "50"},
        {"status": "bogus", "priority": "99", "team": "999", "assignee": "0", "language": "xx"},
    ],
)
def test_the_inbox_selects_render_as_django_renders_them(
    agent_in_wallet, wallet_team, withdrawal, data
):
    """The `select` filter only makes them faster: the HTML is Django's, errors and all."""
    agent_list = console_forms.agent_choices()
    data = {**data, "team": data.get("team", str(wallet_team.pk))}
    forms = [
        console_forms.InboxFilterForm(data, agent_list=agent_list),
        # As the inbox builds it: the teams and categories it has fetched for its rows.
        console_forms.InboxFilterForm(
            data,
            agent_list=agent_list,
            teams=list(Team.objects.all()),
            categories=list(TicketCategory.objects.all()),
        ),
        console_forms.InboxFilterForm(data),
        console_forms.BulkForm({"action": "assign"}, agent_list=agent_list),
        console_forms.BulkForm({"action": "assign"}),
    ]
    for form in forms:
        form.is_valid()
        for field in form:
            assert tickets_console.select(field) == str(field), field.name
    # Fetched lists are offered as the fields' querysets would offer them.
    assert str(forms[0]) == str(forms[1]) == str(forms[2])


# The rows of the inbox are written by `tickets_console.inbox_rows`; this is the template
# markup it replaced, which it must print exactly.
ROWS_AS_TEMPLATE = """{% load i18n %}{% for ticket in page.object_list %}
          <tr class="tc-row{% if ticket.priority == urgent %} is-urgent{% endif %}{% if ticket.category.is_compromise %} is-compromise{% endif %}" data-testid="ticket-row">
            <td class="tc-check"><input type="checkbox" name="tickets" value="{{ ticket.reference }}" id="select-{{ ticket.reference }}" aria-label="{% blocktranslate with reference=ticket.reference %}Select {{ reference }}{% endblocktranslate %}"></td>
            <th scope="row">
              <a class="tc-subject" href="{{ ticket.workspace_url }}">{{ ticket.subject }}</a>
              <span class="tc-row-meta"><span class="tc-reference">{{ ticket.reference }}</span> · {{ ticket.requester.get_full_name }} · <abbr title="{{ ticket.get_language_display }}" class="tc-language">{{ ticket.language }}</abbr></span>
            </th>
            <td><span class="tc-badge tc-status tc-status-{{ ticket.status }}">{{ ticket.get_status_display }}</span></td>
            <td>
              <span class="tc-badge tc-priority tc-priority-{{ ticket.priority }}">{{ ticket.get_priority_display }}</span>
              {% if ticket.category.is_compromise %}<span class="tc-badge tc-compromise">{% translate "Account compromise" %}</span>{% endif %}
            </td>
            <td>{{ ticket.category.name }}<span class="tc-row-meta">{% if ticket.team %}{{ ticket.team.name }}{% else %}{% translate "No team" %}{% endif %}</span></td>
            <td>{% if ticket.assignee %}{{ ticket.assignee.get_short_name }}{% else %}<span class="tc-muted">{% translate "Unassigned" %}</span>{% endif %}</td>
            <td><time datetime="{{ ticket.created.iso }}" title="{{ ticket.created.text }}">{{ ticket.created.since }}</time></td>
            <td><time datetime="{{ ticket.updated.iso }}" title="{{ ticket.updated.text }}">{% blocktranslate with since=ticket.updated.since %}{{ since }} ago{% endblocktranslate %}</time></td>
            <td>{% include "tickets/console/_sla_clock.html" with clock=ticket.sla %}</td>
          </tr>
          {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "zh-hans", "ja", "ko"])
def test_the_inbox_rows_render_as_the_template_did(
    client, supervisor, queue, agent_in_wallet, language
):
    """Every kind of row (urgent, compromise, no team, unassigned, markup in the text,
    names left empty, each language and status, each SLA state), in each language of
    the console."""
    TicketFactory(
        subject="<script>alert(\"x\")</script> & 'quotes'",
        requester=UserFactory(display_name='<b>"Tom" & Jerry</b>'),
        category=queue["mine"].category,
        assignee=UserFactory(display_name="", email="o'brien@example.com", role=Role.AGENT),
        language="ko",
        status=Status.WAITING,
    )
    nameless = UserFactory(display_name="", email="o&neil@example.com")
    for status in (Status.SOLVED, Status.CLOSED):
        TicketFactory(
            subject=status, requester=nameless, category=queue["mine"].category, status=status
        )
    policy, now, minute = SlaPolicy.objects.first(), timezone.now(), datetime.timedelta(minutes=1)
    for name, due, warn in [
        ("mine", now + 180 * minute, now + 60 * minute),  # on track
        ("unassigned", now + 45 * minute, now - 5 * minute),  # at risk
        ("urgent", now - 12 * minute, now - 40 * minute),  # breached
        ("waiting", None, None),  # paused
    ]:
        Ticket.objects.filter(pk=queue[name].pk).update(
            sla_policy=policy, sla_due_at=due, sla_warn_at=warn
        )
    client.force_login(supervisor)
    response = client.get(f"/{language}/console/tickets/", {"view": "all", "per_page": 100})
    rows = response.context["page"].object_list
    assert len(rows) == 10
    # The template read request instances: the same requests, with the row's link and times.
    tickets = Ticket.objects.select_related("requester", "assignee", "category", "team")
    by_reference = {ticket.reference: ticket for ticket in tickets}
    with translation.override(language):
        for row in rows:
            ticket = by_reference[row.reference]
            assert row.workspace_url == reverse("tickets_console:workspace", args=[row.reference])
            ticket.workspace_url, ticket.created, ticket.updated, ticket.sla = (
                row.workspace_url,
                row.created,
                row.updated,
                row.sla,
            )
        page = {"object_list": [by_reference[row.reference] for row in rows]}
        expected = Template(ROWS_AS_TEMPLATE).render(
            Context({"page": page, "urgent": Priority.URGENT})
        )
        assert tickets_console.inbox_rows(rows) == expected
    assert expected in text(response)
    assert {row.sla.state for row in rows} == {"ok", "at_risk", "breached", "paused", "none"}


def test_rows_name_a_category_or_team_created_after_the_lists_were_read(queue, wallet_team):
    rows = console_views._inbox_rows(
        Ticket.objects.order_by("pk"),
        teams=[],
        categories=[],
        now=timezone.now(),
        sla_texts=console_views.SlaTexts(),
    )
    assert [(row.subject, row.category, row.team) for row in rows] == [
        (ticket.subject, ticket.category, ticket.team)
        for ticket in Ticket.objects.select_related("category", "team").order_by("pk")
    ]
    assert wallet_team in {row.team for row in rows}
    assert None in {row.team for row in rows}


@pytest.mark.parametrize("language", ["en", "zh-hans", "ja", "ko"])
def test_row_times_read_as_the_date_filter_prints_them(language):
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    moments = [
        datetime.datetime(2026, 1, 2, 0, 0, tzinfo=tokyo),  # midnight
        datetime.datetime(2026, 1, 2, 12, 0, tzinfo=tokyo),  # noon
        datetime.datetime(2026, 3, 9, 0, 5, tzinfo=tokyo),
        datetime.datetime(2026, 11, 30, 9, 7, 59, tzinfo=tokyo),
        datetime.datetime(2026, 12, 31, 23, 59, tzinfo=tokyo),
    ]
    with translation.override(language):
        date_text = console_views._DateText()
        for moment in moments:
            assert date_text(moment) == date_format(moment, "SHORT_DATETIME_FORMAT"), moment


class TestAgentList:
    """The agents offered by the inbox's assignee lists, kept in the cache."""

    def test_is_read_once_then_from_the_cache(
        self, agent, supervisor, customer, django_assert_num_queries
    ):
        choices = console_forms.agent_choices()
        assert choices == [(user.pk, user.get_full_name()) for user in console_forms.agents()]
        assert {pk for pk, _name in choices} == {agent.pk, supervisor.pk}
        with django_assert_num_queries(0):
            assert console_forms.agent_choices() == choices

    def test_follows_roles_names_activity_and_permissions(self, agent, supervisor, customer):
        def offered() -> dict[int, str]:
            return dict(console_forms.agent_choices())

        assert customer.pk not in offered()
        account_services.user_set_role(user=customer, role=Role.AGENT)
        assert offered()[customer.pk] == customer.get_full_name()
        account_services.user_update_profile(
            user=customer, display_name="Li Wei (agent)", preferred_language="en", time_zone="UTC"
        )
        assert offered()[customer.pk] == "Li Wei (agent)"
        customer.is_active = False
        customer.save(update_fields=["is_active"])
        assert customer.pk not in offered()
        agents_group = Group.objects.get(name=Role.AGENT.group_name)
        work = Permission.objects.get(codename="work_tickets")
        agents_group.permissions.remove(work)
        assert set(offered()) == {supervisor.pk}
        agent.user_permissions.add(work)
        assert set(offered()) == {agent.pk, supervisor.pk}

    def test_a_new_agent_is_offered_by_the_next_page(self, wallet_client, wallet_team, queue):
        assert "Zhao Lei" not in text(wallet_client.get(BASE, {"view": "unassigned"}))
        team_agent(wallet_team, display_name="Zhao Lei")
        page = text(wallet_client.get(BASE, {"view": "unassigned"}))
        assert page.count(">Zhao Lei</option>") == 2  # the assignee filter and bulk tools


# Bulk actions -----------------------------------------------------------------------


class TestBulk:
    def post(self, client, references, **data):
        return client.post(
            f"{BASE}bulk/",
            {"tickets": references, "next": f"{BASE}?view=all", **data},
            follow=True,
        )

    def test_assign_to_me_then_unassign(self, client, supervisor, queue):
        client.force_login(supervisor)
        targets = [queue["unassigned"], queue["triage"]]
        response = self.post(client, [t.reference for t in targets], action="assign_to_me")
        assert response.redirect_chain[-1][0] == f"{BASE}?view=all"
        assert {refreshed(t).assignee for t in targets} == {supervisor}
        assert any("2 requests changed" in m for m in messages_of(response))
        self.post(client, [t.reference for t in targets], action="unassign")
        assert {refreshed(t).assignee for t in targets} == {None}

    def test_assign_to_another_agent(self, wallet_client, queue, wallet_team):
        colleague = team_agent(wallet_team, display_name="Zhao Lei")
        self.post(
            wallet_client,
            [queue["unassigned"].reference],
            action="assign",
            assignee=colleague.pk,
        )
        assert refreshed(queue["unassigned"]).assignee == colleague

    def test_a_mix_of_allowed_and_refused_status_changes_is_reported_per_request(
        self, wallet_client, queue
    ):
        """One illegal move, one request out of scope: the others still change."""
        fresh, solved, hidden = queue["unassigned"], queue["solved"], queue["other_team"]
        response = self.post(
            wallet_client,
            [fresh.reference, solved.reference, hidden.reference],
            action="status",
            status=Status.WAITING,
        )
        assert response.status_code == 200
        assert refreshed(fresh).status == Status.WAITING
        assert refreshed(solved).status == Status.SOLVED
        assert refreshed(hidden).status == Status.NEW
        shown = messages_of(response)
        assert any(f"1 request changed: {fresh.reference}" in m for m in shown)
        refusal = next(m for m in shown if m.startswith("Not changed"))
        assert (
            f"{solved.reference}: A request cannot go from “Solved” to “Waiting on customer”."
            in refusal
        )
        assert f"{hidden.reference}: not found" in refusal

    def test_each_request_is_changed_at_its_current_version(self, wallet_client, queue, supervisor):
        """A change made by someone else after the inbox was shown does not block the bulk one."""
        target = queue["unassigned"]
        services.ticket_set_priority(
            ticket=target, actor=supervisor, priority=Priority.HIGH, expected_version=target.version
        )
        self.post(wallet_client, [target.reference], action="assign_to_me")
        assert refreshed(target).assignee is not None

    def test_already_so_is_not_a_refusal(self, wallet_client, queue):
        response = self.post(wallet_client, [queue["mine"].reference], action="assign_to_me")
        assert any("Already so" in m for m in messages_of(response))

    @pytest.mark.parametrize(
        "data",
        [
            {"action": "assign_to_me"},
            {"action": "status", "tickets": ["HD-222222"]},
            {"action": "assign", "tickets": ["HD-222222"]},
            {"action": "explode", "tickets": ["HD-222222"]},
            {"action": "assign_to_me", "tickets": ["<script>"]},
        ],
    )
    def test_incomplete_posts_are_reported_not_500(self, wallet_client, queue, data):
        response = wallet_client.post(f"{BASE}bulk/", {"next": BASE, **data}, follow=True)
        assert response.status_code == 200
        assert any(messages_of(response))

    def test_next_must_stay_on_this_site(self, wallet_client, queue):
        response = wallet_client.post(
            f"{BASE}bulk/",
            {
                "tickets": [queue["mine"].reference],
                "action": "unassign",
                "next": "https://evil.example/",
            },
        )
        assert response["Location"] == BASE


# Workspace ------------------------------------------------------------------------------


class TestWorkspace:
    def test_shows_header_thread_timeline_details_and_customer(
        self, wallet_client, withdrawal_ticket, customer, agent_in_wallet, open_request
    ):
        services.ticket_reply(
            ticket=withdrawal_ticket,
            author=agent_in_wallet,
            body="Checking with the wallet team.",
            internal=True,
        )
        older = open_request(subject="Earlier deposit question")
        response = wallet_client.get(workspace_url(withdrawal_ticket))
        page = text(response)
        assert withdrawal_ticket.reference in page
        assert "<h1>USDT withdrawal pending</h1>" in page
        assert "Checking with the wallet team." in page
        assert 'data-testid="internal-note"' in page
        assert "Internal note · not visible to the customer" in page
        assert "Request created" in page  # events are listed
        assert customer.uid in page and customer.email in page
        assert f'href="{workspace_url(older)}"' in page

    def test_txids_and_addresses_link_to_the_block_explorer(self, wallet_client, withdrawal_ticket):
        page = text(wallet_client.get(workspace_url(withdrawal_ticket)))
        tx_link = re.search(
            rf'<a href="([^"]*{TRON_TXID}[^"]*)" target="_blank" rel="noopener noreferrer"', page
        )
        assert tx_link and tx_link.group(1).startswith("https://")
        assert re.search(rf'<a href="[^"]*{TRC20_ADDRESS}[^"]*" target="_blank"', page)

    def test_status_buttons_offer_only_legal_moves(self, wallet_client, withdrawal_ticket):
        transitions = dict(
            wallet_client.get(workspace_url(withdrawal_ticket)).context["transitions"]
        )
        assert set(transitions) == {Status.OPEN, Status.WAITING, Status.SOLVED}

    def test_costs_the_same_queries_with_a_longer_thread(
        self, wallet_client, withdrawal_ticket, agent_in_wallet, customer
    ):
        def count():
            with CaptureQueriesContext(connection) as captured:
                assert wallet_client.get(workspace_url(withdrawal_ticket)).status_code == 200
            return len(captured)

        before = count()
        for index in range(5):
            services.ticket_reply(ticket=withdrawal_ticket, author=customer, body=f"More {index}")
            services.ticket_reply(
                ticket=withdrawal_ticket,
                author=agent_in_wallet,
                body=f"Note {index}",
                internal=True,
            )
        assert count() <= before


class TestReply:
    def test_a_public_reply_reaches_the_thread_and_opens_the_request(
        self, wallet_client, withdrawal_ticket
    ):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "reply"),
            {"mode": "public", "body": "We are checking the TXID."},
            follow=True,
        )
        assert "Reply sent." in messages_of(response)
        message = withdrawal_ticket.messages.get(body="We are checking the TXID.")
        assert not message.is_internal
        assert refreshed(withdrawal_ticket).status == Status.OPEN

    def test_an_internal_note_stays_internal(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "reply"),
            {"mode": "internal", "body": "Customer sent to a contract address."},
            follow=True,
        )
        assert "Internal note added." in messages_of(response)
        assert withdrawal_ticket.messages.get(body__startswith="Customer sent").is_internal
        assert refreshed(withdrawal_ticket).status == Status.NEW

    def test_attachments_are_stored_and_shown(self, wallet_client, withdrawal_ticket):
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), "blue").save(buffer, format="PNG")
        files = [
            SimpleUploadedFile("steps.png", buffer.getvalue(), content_type="image/png"),
            SimpleUploadedFile("node.log", b"block 123 confirmed\n", content_type="text/plain"),
        ]
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "reply"),
            {"mode": "public", "body": "See the attached.", "attachments": files},
            follow=True,
        )
        message = withdrawal_ticket.messages.get(body="See the attached.")
        image, log = message.attachments.order_by("original_name").reverse()
        assert (image.original_name, log.original_name) == ("steps.png", "node.log")
        page = text(response)
        assert f'<a href="/en/requests/attachments/{image.uuid}/" target="_blank"' in page
        assert f'<img src="/en/requests/attachments/{image.uuid}/thumb/"' in page
        assert f'<a href="/en/requests/attachments/{log.uuid}/"' in page
        assert f"/en/requests/attachments/{log.uuid}/thumb/" not in page
        # The agent can open them (the customer pages check the request's rules).
        assert wallet_client.get(f"/en/requests/attachments/{image.uuid}/thumb/").status_code == 200

    def test_without_the_download_pages_file_names_are_still_listed(
        self, wallet_client, withdrawal_ticket, agent_in_wallet, monkeypatch
    ):
        upload = services.attachment_store(
            data=b"tx log\n", filename="tx.log", uploaded_by=agent_in_wallet
        )
        services.ticket_reply(
            ticket=withdrawal_ticket, author=agent_in_wallet, body="log", attachments=[upload]
        )
        monkeypatch.setattr(console_views, "ATTACHMENT_URL", "tickets:no_such_page")
        page = text(wallet_client.get(workspace_url(withdrawal_ticket)))
        assert "tx.log" in page
        assert f"{upload.uuid}" not in page

    def test_a_refused_file_keeps_the_text_and_stores_nothing(
        self, wallet_client, withdrawal_ticket
    ):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "reply"),
            {
                "mode": "public",
                "body": "Here is the fix.",
                "attachments": [SimpleUploadedFile("fix.exe", b"MZ\x90\x00" + b"\x00" * 64)],
            },
        )
        assert response.status_code == 400
        assert "Here is the fix.</textarea>" in text(response)
        assert not withdrawal_ticket.messages.filter(body="Here is the fix.").exists()
        assert not Attachment.objects.filter(original_name="fix.exe").exists()

    def test_an_empty_reply_is_refused(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(workspace_url(withdrawal_ticket, "reply"), {"mode": "public"})
        assert response.status_code == 400
        assert "Write a message or attach a file." in text(response)

    def test_a_closed_request_takes_no_reply(
        self, wallet_client, withdrawal_ticket, open_request, supervisor
    ):
        target = open_request(subject="Keep this one")
        services.ticket_merge(source=withdrawal_ticket, target=target, actor=supervisor)
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "reply"), {"mode": "public", "body": "Late answer"}
        )
        assert response.status_code == 400
        assert "A closed request cannot be changed." in text(response)


class TestMacros:
    def test_macros_in_the_request_language_are_offered_rendered(
        self, wallet_client, withdrawal_ticket
    ):
        MacroFactory(
            title="Pending check",
            language="zh-hans",
            body="{customer_name}，您好：{reference} 正在处理。",
        )
        MacroFactory(title="English only", language="en")
        response = wallet_client.get(workspace_url(withdrawal_ticket))
        assert [macro.title for macro, _text in response.context["macros"]] == ["Pending check"]
        assert f'data-text="李伟，您好：{withdrawal_ticket.reference} 正在处理。"' in text(response)

    def test_without_javascript_insert_puts_the_macro_in_the_reply_box(
        self, wallet_client, withdrawal_ticket
    ):
        macro = MacroFactory(language="zh-hans", body="Hello {customer_name} <b>{reference}</b>")
        response = wallet_client.get(workspace_url(withdrawal_ticket), {"macro": macro.pk})
        assert f"Hello 李伟 &lt;b&gt;{withdrawal_ticket.reference}&lt;/b&gt;</textarea>" in text(
            response
        )

    def test_another_teams_macro_is_not_offered(
        self, wallet_client, withdrawal_ticket, trading_team
    ):
        macro = MacroFactory(language="zh-hans", team=trading_team, body="Trading only")
        response = wallet_client.get(workspace_url(withdrawal_ticket), {"macro": macro.pk})
        assert "Trading only" not in text(response)


class TestChanges:
    def test_status_change(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "status"),
            {"version": withdrawal_ticket.version, "status": Status.WAITING},
            follow=True,
        )
        assert "Status changed." in messages_of(response)
        assert refreshed(withdrawal_ticket).status == Status.WAITING

    def test_an_illegal_transition_is_explained_and_changes_nothing(
        self, wallet_client, withdrawal_ticket
    ):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "status"),
            {"version": withdrawal_ticket.version, "status": Status.CLOSED},
        )
        assert response.status_code == 400
        assert "can only be closed by merging it into another" in text(response)
        assert refreshed(withdrawal_ticket).status == Status.NEW

    def test_priority_change(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "priority"),
            {"version": withdrawal_ticket.version, "priority": Priority.URGENT},
            follow=True,
        )
        assert "Priority changed." in messages_of(response)
        assert refreshed(withdrawal_ticket).priority == Priority.URGENT

    def test_choosing_the_current_value_changes_nothing(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "priority"),
            {"version": withdrawal_ticket.version, "priority": withdrawal_ticket.priority},
            follow=True,
        )
        assert "That was already so; nothing changed." in messages_of(response)
        assert refreshed(withdrawal_ticket).version == withdrawal_ticket.version

    def test_assign_to_a_team_agent_to_me_and_unassign(
        self, wallet_client, withdrawal_ticket, agent_in_wallet, wallet_team
    ):
        colleague = team_agent(wallet_team, display_name="Zhao Lei")
        url = workspace_url(withdrawal_ticket, "assignee")
        wallet_client.post(
            url, {"version": refreshed(withdrawal_ticket).version, "assignee": colleague.pk}
        )
        assert refreshed(withdrawal_ticket).assignee == colleague
        wallet_client.post(
            url, {"version": refreshed(withdrawal_ticket).version, "assignee": "", "to_me": "1"}
        )
        assert refreshed(withdrawal_ticket).assignee == agent_in_wallet
        wallet_client.post(url, {"version": refreshed(withdrawal_ticket).version, "assignee": ""})
        assert refreshed(withdrawal_ticket).assignee is None

    def test_only_agents_of_the_requests_team_are_offered(
        self, wallet_client, withdrawal_ticket, other_team_agent, wallet_team
    ):
        colleague = team_agent(wallet_team, display_name="Zhao Lei")
        offered = wallet_client.get(workspace_url(withdrawal_ticket)).context["forms"]["assign"]
        choices = set(offered.fields["assignee"].queryset)
        assert colleague in choices and other_team_agent not in choices
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "assignee"),
            {"version": withdrawal_ticket.version, "assignee": other_team_agent.pk},
        )
        assert response.status_code == 400
        assert refreshed(withdrawal_ticket).assignee != other_team_agent

    def test_team_and_category_changes(
        self, client, supervisor, withdrawal_ticket, trading_team, general
    ):
        client.force_login(supervisor)
        client.post(
            workspace_url(withdrawal_ticket, "team"),
            {"version": withdrawal_ticket.version, "team": trading_team.pk},
        )
        assert refreshed(withdrawal_ticket).team == trading_team
        client.post(
            workspace_url(withdrawal_ticket, "category"),
            {"version": refreshed(withdrawal_ticket).version, "category": general.pk},
        )
        assert refreshed(withdrawal_ticket).category == general

    def test_details_are_validated_by_the_service_and_saved(
        self, wallet_client, withdrawal_ticket, withdrawal_values
    ):
        url = workspace_url(withdrawal_ticket, "details")
        values = {f"field_{key}": value for key, value in withdrawal_values.items()}
        response = wallet_client.post(
            url,
            {
                **values,
                "version": withdrawal_ticket.version,
                "field_memo": "",
                "field_amount": "99",
            },
        )
        assert response.status_code == 302
        assert refreshed(withdrawal_ticket).fields["amount"] == "99"
        response = wallet_client.post(
            url,
            {**values, "version": refreshed(withdrawal_ticket).version, "field_txid": "not-a-txid"},
        )
        assert response.status_code == 400
        form = response.context["forms"]["fields"]
        assert form.errors["field_txid"]
        assert 'value="not-a-txid"' in text(response)
        assert refreshed(withdrawal_ticket).fields["txid"] == TRON_TXID

    @pytest.mark.parametrize(
        ("action", "data"),
        [
            ("status", {"status": Status.WAITING}),
            ("priority", {"priority": Priority.HIGH}),
            ("assignee", {"assignee": ""}),
            ("team", {"team": ""}),
            ("details", {"field_amount": "12345"}),
        ],
    )
    def test_a_stale_page_is_refused_and_keeps_what_was_entered(
        self, wallet_client, withdrawal_ticket, supervisor, withdrawal_values, action, data
    ):
        stale = withdrawal_ticket.version
        services.ticket_set_priority(
            ticket=withdrawal_ticket,
            actor=supervisor,
            priority=Priority.URGENT,
            expected_version=stale,
        )
        values = {f"field_{key}": value for key, value in withdrawal_values.items()}
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, action), {**values, **data, "version": stale}
        )
        assert response.status_code == 409
        page = text(response)
        assert "Someone else changed this request; reload to see their change." in page
        current = refreshed(withdrawal_ticket)
        assert current.priority == Priority.URGENT and current.status == Status.NEW
        # The page now carries the current version, so the agent can submit again.
        assert f'name="version" value="{current.version}"' in page
        if action == "details":
            assert 'value="12345"' in page

    def test_changes_to_a_closed_request_are_refused(
        self, wallet_client, withdrawal_ticket, open_request, supervisor
    ):
        services.ticket_merge(source=withdrawal_ticket, target=open_request(), actor=supervisor)
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "priority"),
            {"version": refreshed(withdrawal_ticket).version, "priority": Priority.HIGH},
        )
        assert response.status_code == 400
        assert "A closed request cannot be changed." in text(response)


class TestMerge:
    def test_merge_asks_for_confirmation_then_merges(
        self, wallet_client, withdrawal_ticket, open_request
    ):
        target = open_request(subject="Same withdrawal, first report")
        url = workspace_url(withdrawal_ticket, "merge")
        data = {"version": withdrawal_ticket.version, "target": target.reference.lower()}
        confirm = wallet_client.post(url, data)
        assert confirm.status_code == 200
        assert "tickets/console/merge_confirm.html" in [t.name for t in confirm.templates]
        assert refreshed(withdrawal_ticket).status == Status.NEW
        response = wallet_client.post(url, {**data, "confirm": "1"}, follow=True)
        assert response.redirect_chain[-1][0] == workspace_url(target)
        source = refreshed(withdrawal_ticket)
        assert source.status == Status.CLOSED and source.merged_into == target
        assert target.messages.filter(body__startswith="Merged from").exists()

    def test_different_customers_are_warned_about(
        self, wallet_client, withdrawal_ticket, open_request, other_customer
    ):
        target = open_request(requester=other_customer)
        confirm = wallet_client.post(
            workspace_url(withdrawal_ticket, "merge"),
            {"version": withdrawal_ticket.version, "target": target.reference},
        )
        assert "The two requests come from different customers." in text(confirm)

    def test_a_request_out_of_reach_is_not_a_target(
        self, wallet_client, withdrawal_ticket, trading_ticket
    ):
        for target in (trading_ticket.reference, "HD-ZZZZZZ"):
            response = wallet_client.post(
                workspace_url(withdrawal_ticket, "merge"),
                {"version": withdrawal_ticket.version, "target": target, "confirm": "1"},
            )
            assert response.status_code == 400
            assert "No request with this reference that you can work on." in text(response)
        assert refreshed(trading_ticket).status == Status.NEW

    def test_merging_into_itself_is_refused(self, wallet_client, withdrawal_ticket):
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "merge"),
            {
                "version": withdrawal_ticket.version,
                "target": withdrawal_ticket.reference,
                "confirm": "1",
            },
        )
        assert response.status_code == 400
        assert "cannot be merged into itself" in text(response)

    def test_a_stale_merge_is_refused(
        self, wallet_client, withdrawal_ticket, open_request, supervisor
    ):
        target = open_request()
        stale = withdrawal_ticket.version
        services.ticket_set_priority(
            ticket=withdrawal_ticket,
            actor=supervisor,
            priority=Priority.HIGH,
            expected_version=stale,
        )
        response = wallet_client.post(
            workspace_url(withdrawal_ticket, "merge"),
            {"version": stale, "target": target.reference, "confirm": "1"},
        )
        assert response.status_code == 409
        assert refreshed(withdrawal_ticket).status == Status.NEW


# Live notices to other open pages -------------------------------------------------------


class TestBroadcasts:
    def test_a_saved_change_is_announced_after_commit(
        self,
        wallet_client,
        withdrawal_ticket,
        agent_in_wallet,
        django_capture_on_commit_callbacks,
        monkeypatch,
    ):
        sent = []
        monkeypatch.setattr(
            presence, "_send_quietly", lambda group, event: sent.append((group, event))
        )
        with django_capture_on_commit_callbacks(execute=True):
            wallet_client.post(
                workspace_url(withdrawal_ticket, "priority"),
                {"version": withdrawal_ticket.version, "priority": Priority.HIGH},
            )
            wallet_client.post(
                workspace_url(withdrawal_ticket, "reply"), {"mode": "internal", "body": "note"}
            )
        group = presence.ticket_group(withdrawal_ticket.pk)
        assert sent == [
            (
                group,
                {
                    "type": "ticket.changed",
                    "version": refreshed(withdrawal_ticket).version,
                    "actor_id": agent_in_wallet.pk,
                    "name": agent_in_wallet.get_short_name(),
                    "kind": "update",
                },
            ),
            (
                group,
                {
                    "type": "ticket.changed",
                    "version": refreshed(withdrawal_ticket).version,
                    "actor_id": agent_in_wallet.pk,
                    "name": agent_in_wallet.get_short_name(),
                    "kind": "message",
                },
            ),
        ]

    def test_a_refused_change_is_not_announced(
        self, wallet_client, withdrawal_ticket, django_capture_on_commit_callbacks, monkeypatch
    ):
        sent = []
        monkeypatch.setattr(presence, "_send_quietly", lambda group, event: sent.append(event))
        with django_capture_on_commit_callbacks(execute=True):
            wallet_client.post(
                workspace_url(withdrawal_ticket, "status"),
                {"version": withdrawal_ticket.version, "status": Status.CLOSED},
            )
        assert sent == []

    def test_a_channel_layer_outage_does_not_break_the_save(
        self, wallet_client, withdrawal_ticket, django_capture_on_commit_callbacks, monkeypatch
    ):
        class BrokenLayer:
            async def group_send(self, group, message):
                raise ConnectionError("redis is down")

        monkeypatch.setattr(presence, "get_channel_layer", lambda: BrokenLayer())
        with django_capture_on_commit_callbacks(execute=True):
            response = wallet_client.post(
                workspace_url(withdrawal_ticket, "priority"),
                {"version": withdrawal_ticket.version, "priority": Priority.HIGH},
            )
        assert response.status_code == 302
        assert refreshed(withdrawal_ticket).priority == Priority.HIGH


# Escaping ---------------------------------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_every_text_field_is_shown_as_text(
    client, supervisor, general, open_request, wallet_team
):
    TicketFieldFactory(category=general, key="note", field_type=FieldType.TEXT, label_en=XSS)
    requester = UserFactory(display_name=XSS, email="xss@example.com")
    ticket = open_request(
        requester=requester, subject=XSS, description=XSS, fields={"note": XSS}, language="en"
    )
    author = team_agent(wallet_team, display_name=XSS, role=Role.SUPERVISOR)
    services.ticket_reply(ticket=ticket, author=author, body=XSS, internal=True)
    MacroFactory(title=XSS, language="en", body=XSS + " {customer_name} {subject}")
    services.ticket_set_team(
        ticket=ticket, actor=supervisor, team=wallet_team, expected_version=ticket.version
    )
    wallet_team.name_en = XSS
    wallet_team.save()
    client.force_login(supervisor)
    for url in (workspace_url(ticket), f"{BASE}?view=all", f"{BASE}?view=all&q=xss@example.com"):
        page = text(client.get(url))
        assert "<script>" not in page, url
        assert "<img src=x" not in page, url
        assert "&lt;script&gt;" in page, url
