"""SLA deadlines in the console: the "at risk or breached" view and its count, the
"time to breach" sort, the rows' "Time left" countdown, the workspace's SLA panel,
and the first-response promise on the customer's request page.

Deadlines are set relative to `timezone.now()` (or filed through the services at a
given `now`), so each page is read at a known distance from them.
"""

from __future__ import annotations

import datetime
import json
import re
import zoneinfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from tests.accounts.factories import UserFactory
from tests.tickets.factories import TicketFactory
from tickets import services, sla
from tickets.models import Priority, Status, Ticket

pytestmark = pytest.mark.django_db

BASE = "/en/console/tickets/"
MINUTE = datetime.timedelta(minutes=1)
# Pages show whole minutes rounded up. Deadlines sit half a minute nearer than the
# whole minute, so the few milliseconds a page takes to render never change the text.
HALF_MINUTE = datetime.timedelta(seconds=30)


def minutes_from_now(minutes: int) -> datetime.datetime:
    """`minutes` from now (negative: ago), half a minute nearer to now."""
    return timezone.now() + minutes * MINUTE - (HALF_MINUTE if minutes > 0 else -HALF_MINUTE)


def text(response) -> str:
    return response.content.decode()


def shown(response) -> list[str]:
    """The subjects of the inbox's rows, in order."""
    return [row.subject for row in response.context["page"].object_list]


def row_html(page: str, ticket: Ticket) -> str:
    start = page.index(f'id="select-{ticket.reference}"')
    return page[start : page.index("</tr>", start)]


def sla_cell(page: str, ticket: Ticket) -> dict[str, str]:
    """The "Time left" countdown of a request's row: its state class, what it reads
    (screen-reader label included) and its data attributes."""
    row = row_html(page, ticket)
    match = re.search(r'<span class="tc-sla tc-sla-(\w+)"([^>]*)>(.*?)</td>', row)
    assert match, row
    attrs = dict(re.findall(r'(data-sla-\w+)="([^"]*)"', match.group(2)))
    words = " ".join(re.sub(r"<[^>]+>", " ", match.group(3)).split())
    return {"state": match.group(1), "text": words, **attrs}


def view_counts(response) -> dict[str, int | None]:
    return {value: count for value, _label, count, _query in response.context["views"]}


@pytest.fixture
def desk_policy(policy):
    """Round-the-clock targets, the only policy (the shipped ones are left out)."""
    return policy(
        name="Desk 7x24", first_response_minutes=60, resolution_minutes=480, warn_at_percent=50
    )


@pytest.fixture
def deadlines(desk_policy, customer, agent_in_wallet, wallet_team, trading_team, withdrawal):
    """Requests in each SLA situation; `agent` (wallet team) sees all but "other team"."""

    def make(subject, due=None, warn=None, **fields):
        fields.setdefault("category", withdrawal)
        fields.setdefault("team", wallet_team)
        fields.setdefault("status", Status.OPEN)
        fields.setdefault("sla_policy", desk_policy)
        return TicketFactory(
            subject=subject,
            requester=customer,
            sla_due_at=due if due is None else minutes_from_now(due),
            sla_warn_at=warn if warn is None else minutes_from_now(warn),
            **fields,
        )

    return {
        "ok": make("On track", due=133, warn=73),
        "at_risk": make("At risk", due=45, warn=-15, assignee=agent_in_wallet),
        "breached": make("Breached", due=-12, warn=-40),
        "long_breached": make("Long breached", due=-90, warn=-120),
        "paused": make("Paused", status=Status.WAITING),
        "breached_then_paused": make(
            "Missed, then paused", due=-5, warn=-35, status=Status.WAITING
        ),
        "none": make("No target", sla_policy=None),
        "solved": make("Solved late", due=-30, warn=-60, status=Status.SOLVED),
        "other_team": make("Other team at risk", due=10, warn=-20, team=trading_team),
        "a_day": make("A day away", due=26 * 60 + 5, warn=13 * 60),
    }


@pytest.fixture
def wallet_client(client, agent_in_wallet):
    client.force_login(agent_in_wallet)
    return client


# The "at risk or breached" view ---------------------------------------------------------


class TestAttentionView:
    def test_lists_only_active_requests_at_risk_or_breached_in_the_agents_scope(
        self, wallet_client, deadlines
    ):
        response = wallet_client.get(BASE, {"view": "attention"})
        assert response.status_code == 200
        assert set(shown(response)) == {
            "At risk",
            "Breached",
            "Long breached",
            "Missed, then paused",
        }
        assert "<h1>At risk or breached</h1>" in text(response)

    def test_a_supervisor_sees_every_team(self, client, supervisor, deadlines):
        client.force_login(supervisor)
        response = client.get(BASE, {"view": "attention"})
        assert "Other team at risk" in shown(response)

    def test_is_sorted_by_time_to_breach_unless_another_sort_is_chosen(
        self, wallet_client, deadlines
    ):
        response = wallet_client.get(BASE, {"view": "attention"})
        assert shown(response) == ["Long breached", "Breached", "Missed, then paused", "At risk"]
        page = text(response)
        # The sort list and the column header say so: "Apply" keeps this order.
        assert '<option value="sla" selected>Time to breach</option>' in page
        assert re.search(r'<a href="\?[^"]*sort=sla[^"]*" aria-current="true">Time left</a>', page)
        by_priority = wallet_client.get(BASE, {"view": "attention", "sort": "priority"})
        assert '<option value="priority" selected>Priority</option>' in text(by_priority)

    def test_other_views_still_default_to_priority(self, wallet_client, deadlines):
        page = text(wallet_client.get(BASE, {"view": "team"}))
        assert '<option value="priority" selected>Priority</option>' in page

    def test_the_sidebar_counts_them(self, wallet_client, client, supervisor, deadlines):
        assert view_counts(wallet_client.get(BASE))["attention"] == 4
        client.force_login(supervisor)
        assert view_counts(client.get(BASE))["attention"] == 5

    def test_a_request_shows_up_once_its_warning_point_passes(self, wallet_client, deadlines):
        Ticket.objects.filter(pk=deadlines["ok"].pk).update(sla_warn_at=minutes_from_now(-1))
        response = wallet_client.get(BASE, {"view": "attention"})
        assert "On track" in shown(response)
        assert view_counts(response)["attention"] == 5


class TestTimeToBreachSort:
    def test_orders_by_the_nearest_deadline_with_requests_without_one_last(
        self, wallet_client, deadlines
    ):
        response = wallet_client.get(BASE, {"view": "all", "sort": "sla", "per_page": 100})
        subjects = shown(response)
        assert subjects[:7] == [
            "Long breached",
            "Solved late",
            "Breached",
            "Missed, then paused",
            "At risk",
            "On track",
            "A day away",
        ]
        # No running deadline: last, in the order they were created.
        assert subjects[7:] == ["Paused", "No target"]


# The "Time left" column -----------------------------------------------------------------


class TestTimeLeft:
    @pytest.mark.parametrize(
        ("name", "state", "words"),
        [
            ("ok", "ok", "On track 2 h 13 min"),
            ("a_day", "ok", "On track 1 d 2 h"),
            ("at_risk", "at_risk", "At risk 45 min"),
            ("breached", "breached", "Breached overdue 12 min"),
            ("long_breached", "breached", "Breached overdue 1 h 30 min"),
            # Missed before the pause: a pause does not hide a breach.
            ("breached_then_paused", "breached", "Breached overdue 5 min"),
            ("paused", "paused", "Paused — waiting on customer"),
            ("none", "none", "—"),
            ("solved", "none", "—"),
        ],
    )
    def test_shows_the_state_and_time_left(self, client, supervisor, deadlines, name, state, words):
        client.force_login(supervisor)
        page = text(client.get(BASE, {"view": "all", "per_page": 100}))
        cell = sla_cell(page, deadlines[name])
        assert (cell["state"], cell["text"]) == (state, words)

    def test_a_running_deadline_carries_its_instants_for_the_live_countdown(
        self, wallet_client, deadlines
    ):
        ticket = Ticket.objects.get(pk=deadlines["at_risk"].pk)
        page = text(wallet_client.get(BASE, {"view": "attention"}))
        cell = sla_cell(page, ticket)
        assert datetime.datetime.fromisoformat(cell["data-sla-due"]) == ticket.sla_due_at.replace(
            microsecond=ticket.sla_due_at.microsecond // 1000 * 1000
        )
        assert datetime.datetime.fromisoformat(cell["data-sla-warn"]) == ticket.sla_warn_at.replace(
            microsecond=ticket.sla_warn_at.microsecond // 1000 * 1000
        )
        paused = sla_cell(text(wallet_client.get(BASE, {"view": "waiting"})), deadlines["paused"])
        assert "data-sla-due" not in paused  # nothing to count down

    def test_the_script_gets_the_words_the_server_used(self, wallet_client, deadlines):
        page = text(wallet_client.get(BASE, {"view": "attention"}))
        script = re.search(r'<script id="tc-sla-texts"[^>]*>(.*?)</script>', page)
        assert script
        assert json.loads(script.group(1)) == {
            "labels": {"ok": "On track", "at_risk": "At risk", "breached": "Breached"},
            "days": "%(days)d d %(hours)d h",
            "hours": "%(hours)d h %(minutes)d min",
            "minutes": "%(minutes)d min",
            "overdue": "overdue %(time)s",
        }

    def test_the_page_costs_the_same_queries_for_25_and_100_rows(
        self,
        client,
        supervisor,
        desk_policy,
        wallet_team,
        withdrawal,
        django_assert_max_num_queries,
    ):
        """The sidebar counts recomputed on both pages (one query for the SLA view's
        count), and no query per row for the countdowns."""
        requesters = [UserFactory() for _ in range(5)]

        def add(count: int) -> None:
            for index in range(count):
                TicketFactory(
                    requester=requesters[index % 5],
                    category=withdrawal,
                    team=wallet_team,
                    sla_policy=desk_policy,
                    sla_warn_at=minutes_from_now(-1),
                    sla_due_at=minutes_from_now(index - count // 2),
                )

        client.force_login(supervisor)
        params = {"view": "attention", "per_page": 100}
        add(25)
        cache.clear()
        with CaptureQueriesContext(connection) as first:
            response = client.get(BASE, params)
        assert len(response.context["page"].object_list) == 25
        add(75)
        cache.clear()
        with django_assert_max_num_queries(len(first)):
            response = client.get(BASE, params)
        assert len(response.context["page"].object_list) == 100


# The workspace's SLA panel --------------------------------------------------------------


@pytest.fixture
def filed(desk_policy, open_request):
    """A request filed 40 minutes ago: first response due in 20 minutes (at risk since
    10 minutes), resolution in 7 h 20 min."""
    return open_request(
        subject="Deposit not credited", now=timezone.now() - 40 * MINUTE - HALF_MINUTE
    )


def sla_panel(response) -> str:
    page = text(response)
    start = page.index('data-testid="sla-panel"')
    return page[start : page.index("</section>", start)]


def panel_words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", sla_panel(response)).split())


class TestWorkspacePanel:
    def test_lists_the_policy_and_each_running_target_with_its_local_deadline(
        self, client, supervisor, filed
    ):
        supervisor.time_zone = "Asia/Shanghai"
        supervisor.save(update_fields=["time_zone"])
        client.force_login(supervisor)
        response = client.get(f"{BASE}{filed.reference}/")
        words = panel_words(response)
        filed.refresh_from_db()
        with timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
            first_due = date_format(
                timezone.localtime(filed.first_response_due_at), "SHORT_DATETIME_FORMAT"
            )
            resolution_due = date_format(
                timezone.localtime(filed.resolution_due_at), "SHORT_DATETIME_FORMAT"
            )
        assert "Policy: Desk 7x24" in words
        assert f"First response At risk 20 min due {first_due}" in words
        # Only the nearest deadline has a warning point: the later one counts down to
        # its breach.
        assert f"Resolution On track 7 h 20 min due {resolution_due}" in words
        assert "Next response" not in words
        panel = sla_panel(response)
        assert panel.count("data-sla-due=") == 2 and panel.count("data-sla-warn=") == 1

    def test_shows_paused_while_waiting_on_the_customer(self, client, supervisor, filed):
        services.ticket_reply(ticket=filed, author=supervisor, body="Which network did you use?")
        filed.refresh_from_db()
        services.ticket_change_status(
            ticket=filed,
            actor=supervisor,
            to_status=Status.WAITING,
            expected_version=filed.version,
        )
        client.force_login(supervisor)
        words = panel_words(client.get(f"{BASE}{filed.reference}/"))
        assert "Paused — waiting on customer" in words
        assert "due" not in words
        # Answered within the target: met.
        assert "History First response: Met" in words

    def test_history_lists_what_the_sweep_recorded(
        self, client, supervisor, open_request, desk_policy
    ):
        missed = open_request(subject="Unanswered", now=timezone.now() - 70 * MINUTE)
        sla.sla_sweep(now=timezone.now())
        client.force_login(supervisor)
        words = panel_words(client.get(f"{BASE}{missed.reference}/"))
        # The sweep found it past its deadline: a breach, not a stale warning.
        assert re.search(r"First response Breached overdue 1[01] min due", words)
        assert "History First response: Breached" in words
        assert "At risk" not in words

    def test_a_request_without_a_policy_says_so(self, client, supervisor, customer, general):
        ticket = TicketFactory(requester=customer, category=general, priority=Priority.NORMAL)
        client.force_login(supervisor)
        words = panel_words(client.get(f"{BASE}{ticket.reference}/"))
        assert "No SLA policy applies to this request." in words

    def test_costs_the_same_queries_with_a_history(
        self, client, supervisor, filed, django_assert_max_num_queries
    ):
        client.force_login(supervisor)
        with CaptureQueriesContext(connection) as before:
            client.get(f"{BASE}{filed.reference}/")
        filed.refresh_from_db()
        sla.sla_sweep(now=filed.first_response_due_at - MINUTE)  # the warning
        sla.sla_sweep(now=filed.first_response_due_at + MINUTE)  # the breach
        with django_assert_max_num_queries(len(before)):
            client.get(f"{BASE}{filed.reference}/")


# The customer's request page ------------------------------------------------------------


class TestRequestPage:
    def test_shows_the_expected_first_response_until_support_answers(
        self, client, customer, supervisor, filed
    ):
        client.force_login(customer)
        url = f"/en/requests/{filed.reference}/"
        page = text(client.get(url))
        assert re.search(r'data-testid="expected-response">within 1 hour', page)
        services.ticket_reply(ticket=filed, author=supervisor, body="We are on it.")
        assert 'data-testid="expected-response"' not in text(client.get(url))
