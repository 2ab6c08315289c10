"""SLA policies and deadlines (tickets.sla), the customer's promise, the selectors and the admin.

Time is passed explicitly (`now=`) to the services, so every deadline below is
exact; tests that use a service without `now` measure from the request's own
timestamps instead.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from tests.tickets.factories import TicketFactory
from tickets import selectors, services, sla, sla_targets
from tickets.models import (
    Priority,
    SlaCalendar,
    SlaHoliday,
    SlaMilestone,
    SlaPolicy,
    Status,
    Ticket,
)

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)
# A Monday morning.
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def shanghai_hours(db):
    """Support's office hours in Shanghai: weekdays 09:00-18:00; Monday 9 March 2026 off."""
    calendar = SlaCalendar.objects.create(
        name="Shanghai office",
        time_zone="Asia/Shanghai",
        weekly={day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    SlaHoliday.objects.create(calendar=calendar, date=datetime.date(2026, 3, 9), name="Day off")
    return calendar


def opened(open_request, at, **kwargs):
    """A request opened through the service at `at`."""
    return open_request(now=at, **kwargs)


def reply(ticket, author, at, body="Thanks, checking."):
    return services.ticket_reply(ticket=ticket, author=author, body=body, now=at)


def move(ticket, actor, status, at):
    return services.ticket_change_status(
        ticket=ticket, actor=actor, to_status=status, expected_version=ticket.version, now=at
    )


def deadlines(ticket):
    ticket.refresh_from_db()
    return {
        "first": ticket.first_response_due_at,
        "next": ticket.next_response_due_at,
        "resolution": ticket.resolution_due_at,
        "due": ticket.sla_due_at,
        "warn": ticket.sla_warn_at,
    }


# Which policy ------------------------------------------------------------------------


def test_the_first_active_policy_whose_conditions_all_match_applies(
    policy, open_request, customer, withdrawal, withdrawal_values, wallet_team, general
):
    """Order decides; an inactive policy and one with a failing condition are skipped."""
    policy("Inactive", is_active=False, first_response_minutes=1)
    policy("Urgent only", priority=Priority.URGENT, first_response_minutes=30)
    policy("Wallet withdrawals", category=withdrawal, team=wallet_team, first_response_minutes=45)
    policy("Wallet", team=wallet_team, first_response_minutes=90)
    catch_all = policy("Everything else", first_response_minutes=600)

    withdrawal_request = opened(open_request, T0, category=withdrawal, fields=withdrawal_values)
    other = opened(open_request, T0, category=general)

    assert withdrawal_request.sla_policy.name == "Wallet withdrawals"
    assert withdrawal_request.first_response_due_at == T0 + 45 * MINUTE
    assert other.sla_policy == catch_all
    assert other.first_response_due_at == T0 + 600 * MINUTE


def test_a_policy_listed_later_applies_once_an_earlier_one_is_moved_below_it(policy, open_request):
    first = policy("A", first_response_minutes=10)
    second = policy("B", first_response_minutes=20)
    assert opened(open_request, T0).sla_policy == first
    first.position = second.position + 1
    first.save()
    assert opened(open_request, T0).sla_policy == second


def test_without_a_matching_policy_nothing_is_due_but_the_figures_are_kept(
    policy, open_request, agent
):
    """Working time is still measured (round the clock) for reporting."""
    policy("Urgent only", priority=Priority.URGENT, first_response_minutes=30)
    ticket = opened(open_request, T0)
    assert ticket.sla_policy is None
    assert set(deadlines(ticket).values()) == {None}
    assert selectors.sla_state(ticket, T0 + HOUR) is None

    reply(ticket, agent, T0 + 25 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 25 * 60


@pytest.mark.parametrize(
    ("priority", "first", "following", "resolution"),
    [
        (Priority.URGENT, 30 * MINUTE, 1 * HOUR, 8 * HOUR),
        (Priority.HIGH, 2 * HOUR, 4 * HOUR, 24 * HOUR),
        (Priority.NORMAL, 24 * HOUR, 24 * HOUR, 72 * HOUR),
        (Priority.LOW, 72 * HOUR, 72 * HOUR, 7 * 24 * HOUR),
    ],
)
def test_the_shipped_policies_are_a_round_the_clock_desk(
    open_request, customer, agent, priority, first, following, resolution
):
    """Migration 0005's defaults: first / next / resolution per priority, 7×24."""
    ticket = opened(open_request, T0, priority=priority)
    assert ticket.sla_policy.calendar is None
    assert ticket.first_response_due_at == T0 + first
    assert ticket.resolution_due_at == T0 + resolution
    # 75 % of the nearest target.
    assert ticket.sla_warn_at == T0 + first * 3 / 4
    reply(ticket, agent, T0 + MINUTE)
    reply(ticket, customer, T0 + 2 * MINUTE)
    assert deadlines(ticket)["next"] == T0 + 2 * MINUTE + following


# Business hours, holidays, time zones ---------------------------------------------------


def test_business_hours_skip_the_night_the_weekend_and_holidays(
    policy, open_request, shanghai_hours
):
    """Friday 17:00 in Shanghai + 2 working hours: Tuesday 10:00 (Monday is a holiday)."""
    policy("Office", calendar=shanghai_hours, first_response_minutes=120, resolution_minutes=480)
    friday_5pm = datetime.datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    ticket = opened(open_request, friday_5pm)

    assert deadlines(ticket) == {
        "first": datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC),  # Tue 10:00
        "next": None,
        "resolution": datetime.datetime(2026, 3, 10, 8, 0, tzinfo=UTC),  # Tue 16:00
        "due": datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
        "warn": datetime.datetime(2026, 3, 10, 1, 30, tzinfo=UTC),  # 90 minutes in
    }


def test_a_pause_in_business_hours_moves_the_deadline_by_the_working_time_it_took(
    policy, open_request, customer, agent, shanghai_hours
):
    """30 working minutes used on Friday; the customer answers on Tuesday at 09:15."""
    policy("Office", calendar=shanghai_hours, first_response_minutes=120)
    friday_5pm = datetime.datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    ticket = opened(open_request, friday_5pm)
    move(ticket, agent, Status.WAITING, friday_5pm + 30 * MINUTE)
    reply(ticket, customer, datetime.datetime(2026, 3, 10, 1, 15, tzinfo=UTC))  # Tue 09:15

    assert deadlines(ticket)["first"] == datetime.datetime(2026, 3, 10, 2, 45, tzinfo=UTC)


def test_deadlines_follow_the_calendars_time_zone_across_a_clock_change(policy, open_request):
    """New York springs forward on 8 March 2026: Monday 10:00 is 14:00 UTC, not 15:00."""
    new_york = SlaCalendar.objects.create(
        name="New York",
        time_zone="America/New_York",
        weekly={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    )
    policy("NY", calendar=new_york, first_response_minutes=120)
    friday_4pm = datetime.datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # 16:00 EST
    ticket = opened(open_request, friday_4pm)
    assert ticket.first_response_due_at == datetime.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


# Pauses, next responses, reopening ------------------------------------------------------


def test_waiting_on_the_customer_stops_the_clocks_until_they_answer(
    policy, open_request, customer, agent
):
    policy("7x24", first_response_minutes=60, resolution_minutes=480)
    ticket = opened(open_request, T0)
    move(ticket, agent, Status.WAITING, T0 + 10 * MINUTE)

    assert set(deadlines(ticket).values()) == {None}
    assert selectors.sla_state(ticket, T0 + 3 * HOUR) == "paused"

    reply(ticket, customer, T0 + 2 * HOUR)  # 110 minutes on hold
    assert deadlines(ticket) == {
        "first": T0 + 60 * MINUTE + 110 * MINUTE,
        "next": None,
        "resolution": T0 + 480 * MINUTE + 110 * MINUTE,
        "due": T0 + 170 * MINUTE,
        "warn": T0 + 45 * MINUTE + 110 * MINUTE,
    }


def test_a_deadline_missed_before_the_pause_stays_missed(policy, open_request, agent):
    """Putting a request on hold does not hide a breach."""
    policy("7x24", first_response_minutes=30, resolution_minutes=480)
    ticket = opened(open_request, T0)
    move(ticket, agent, Status.WAITING, T0 + 40 * MINUTE)

    assert deadlines(ticket)["first"] == T0 + 30 * MINUTE
    assert deadlines(ticket)["resolution"] is None
    assert selectors.sla_state(ticket, T0 + HOUR) == "breached"


def test_the_first_response_time_excludes_time_on_hold(policy, open_request, customer, agent):
    policy("7x24", first_response_minutes=60)
    ticket = opened(open_request, T0)
    move(ticket, agent, Status.WAITING, T0 + 10 * MINUTE)
    reply(ticket, customer, T0 + 70 * MINUTE)
    reply(ticket, agent, T0 + 80 * MINUTE)

    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 20 * 60
    assert ticket.first_response_due_at is None


def test_the_next_response_runs_from_the_first_unanswered_customer_message(
    policy, open_request, customer, agent
):
    policy("7x24", first_response_minutes=60, next_response_minutes=30, resolution_minutes=600)
    ticket = opened(open_request, T0)
    assert deadlines(ticket)["next"] is None  # no next response before the first

    reply(ticket, agent, T0 + 20 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.first_response_seconds == 20 * 60
    assert deadlines(ticket)["next"] is None

    reply(ticket, customer, T0 + 40 * MINUTE)
    assert deadlines(ticket)["next"] == T0 + 70 * MINUTE
    reply(ticket, customer, T0 + 50 * MINUTE, body="Any news?")
    assert deadlines(ticket)["next"] == T0 + 70 * MINUTE  # a nudge does not buy time
    assert deadlines(ticket)["due"] == T0 + 70 * MINUTE

    reply(ticket, agent, T0 + 60 * MINUTE)
    assert deadlines(ticket)["next"] is None
    assert deadlines(ticket)["due"] == T0 + 600 * MINUTE

    reply(ticket, customer, T0 + 90 * MINUTE)
    assert deadlines(ticket)["next"] == T0 + 120 * MINUTE


def test_internal_notes_do_not_answer_the_customer(policy, open_request, customer, agent):
    policy("7x24", first_response_minutes=60, next_response_minutes=30)
    ticket = opened(open_request, T0)
    services.ticket_reply(
        ticket=ticket, author=agent, body="Checking the chain.", internal=True, now=T0 + MINUTE
    )
    assert deadlines(ticket)["first"] == T0 + 60 * MINUTE


def test_solving_stops_resolution_and_a_reopened_request_resumes_it(
    policy, open_request, customer, agent
):
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = opened(open_request, T0)
    reply(ticket, agent, T0 + 10 * MINUTE)
    move(ticket, agent, Status.SOLVED, T0 + 100 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.resolution_seconds == 100 * 60
    assert set(deadlines(ticket).values()) == {None}
    assert selectors.sla_state(ticket, T0 + 200 * MINUTE) is None

    reply(ticket, customer, T0 + 200 * MINUTE, body="It happened again.")  # reopens
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.resolution_seconds is None
    # 100 minutes solved do not count.
    assert ticket.resolution_due_at == T0 + 700 * MINUTE

    move(ticket, agent, Status.SOLVED, T0 + 300 * MINUTE)
    ticket.refresh_from_db()
    assert ticket.resolution_seconds == 200 * 60


def test_a_resolution_missed_before_solving_stays_missed_after_reopening(
    policy, open_request, customer, agent
):
    policy("7x24", resolution_minutes=60)
    ticket = opened(open_request, T0)
    move(ticket, agent, Status.SOLVED, T0 + 2 * HOUR)
    services.ticket_reopen_by_customer(ticket=ticket, customer=customer, now=T0 + 3 * HOUR)
    assert deadlines(ticket)["resolution"] == T0 + HOUR


# Choosing the policy again ----------------------------------------------------------------


def test_an_agent_changing_the_priority_chooses_the_policy_again(
    policy, open_request, agent, general
):
    """Measured from the request's opening: a raised priority may be due at once."""
    urgent = policy("Urgent", priority=Priority.URGENT, first_response_minutes=30)
    policy("Others", first_response_minutes=24 * 60)
    ticket = open_request()
    created = ticket.created_at
    assert ticket.first_response_due_at == created + 24 * HOUR

    services.ticket_set_priority(
        ticket=ticket, actor=agent, priority=Priority.URGENT, expected_version=ticket.version
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy == urgent
    assert ticket.first_response_due_at == created + 30 * MINUTE


def test_an_agent_changing_the_category_or_team_chooses_the_policy_again(
    policy, open_request, supervisor, withdrawal, trading_team
):
    policy("Withdrawals", category=withdrawal, first_response_minutes=15)
    trading = policy("Trading desk", team=trading_team, first_response_minutes=45)
    policy("Others", first_response_minutes=600)
    ticket = open_request()
    services.ticket_change_category(
        ticket=ticket, actor=supervisor, category=withdrawal, expected_version=ticket.version
    )
    assert ticket.sla_policy.name == "Withdrawals"

    SlaPolicy.objects.filter(category=withdrawal).update(is_active=False)
    services.ticket_set_team(
        ticket=ticket, actor=supervisor, team=trading_team, expected_version=ticket.version
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy == trading
    assert ticket.first_response_due_at == ticket.created_at + 45 * MINUTE


def test_an_edited_policy_applies_at_the_requests_next_change(
    policy, open_request, customer, agent
):
    """Old deadlines are not rewritten behind the agents' backs; the next event uses it."""
    rules = policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = opened(open_request, T0)
    rules.resolution_minutes = 120
    rules.save()
    assert deadlines(ticket)["resolution"] == T0 + 600 * MINUTE

    reply(ticket, agent, T0 + 5 * MINUTE)
    assert deadlines(ticket)["resolution"] == T0 + 120 * MINUTE


# Storing: the row's version, recomputation, queries ------------------------------------------


def test_recomputing_applies_edited_policies_without_making_agents_pages_stale(
    policy, open_request, agent
):
    rules = policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = opened(open_request, T0)
    solved = opened(open_request, T0)
    move(solved, agent, Status.SOLVED, T0 + MINUTE)
    page_version = ticket.version
    rules.first_response_minutes = 20
    rules.save()

    assert sla.sla_recompute(batch_size=1) == 1
    ticket.refresh_from_db()
    assert ticket.first_response_due_at == T0 + 20 * MINUTE
    assert ticket.version == page_version
    # The agent's page, read before the recomputation, still works.
    services.ticket_set_priority(
        ticket=ticket, actor=agent, priority=Priority.HIGH, expected_version=page_version
    )


def test_recomputing_twice_changes_nothing_the_second_time(policy, open_request, customer):
    """Deadlines depend on the request's history, not on when they are computed."""
    policy("7x24", first_response_minutes=60, next_response_minutes=30, resolution_minutes=600)
    ticket = opened(open_request, T0)
    assert sla.sla_refresh(ticket) is False
    assert sla.sla_recompute() == 0


def test_a_request_older_than_the_policies_gets_one_at_its_next_event(
    policy, customer, general, agent
):
    policy("7x24", first_response_minutes=60)
    legacy = TicketFactory(
        requester=customer, category=general, created_at=T0, status_changed_at=T0
    )
    assert legacy.sla_policy is None
    reply(legacy, agent, T0 + 90 * MINUTE)
    legacy.refresh_from_db()
    assert legacy.sla_policy is not None
    assert legacy.first_response_seconds == 90 * 60


def test_the_first_agent_reply_reads_no_policy_or_history(policy, open_request, agent):
    """The policy comes with the request row, and a new request has no status history."""
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    ticket = opened(open_request, T0)
    with CaptureQueriesContext(connection) as queries:
        reply(ticket, agent, T0 + MINUTE)
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "tickets_slapolicy"' in sql]
    assert not [sql for sql in reads if 'FROM "tickets_ticketevent"' in sql]
    assert deadlines(ticket)["first"] is None


# What the customer is promised ------------------------------------------------------------


def test_the_confirmation_page_promises_the_policy_that_applies(
    policy, client, customer, open_request, general
):
    policy("VIP", category=general, first_response_minutes=15)
    ticket = opened(open_request, T0)
    client.force_login(customer)
    with translation.override("en"):
        page = client.get(f"/en/requests/{ticket.reference}/submitted/").content.decode()
    assert "within 15 minutes" in page


def test_a_business_hours_promise_gives_the_deadline_and_says_so(
    policy, client, customer, open_request, shanghai_hours
):
    policy("Office", calendar=shanghai_hours, first_response_minutes=120)
    ticket = opened(open_request, datetime.datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    expected = sla_targets.expected_first_response(ticket)
    assert expected.duration == 2 * HOUR
    assert expected.due_at == datetime.datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    assert expected.business_hours
    client.force_login(customer)
    page = client.get(f"/en/requests/{ticket.reference}/submitted/").content.decode()
    assert "within 2 hours" in page
    assert "counted in business hours" in page


def test_no_promise_is_made_when_no_policy_tracks_the_first_response(
    policy, client, customer, open_request
):
    policy("Resolution only", resolution_minutes=600)
    ticket = opened(open_request, T0)
    assert sla_targets.expected_first_response(ticket) is None
    client.force_login(customer)
    page = client.get(f"/en/requests/{ticket.reference}/submitted/").content.decode()
    assert "Expected first response" not in page


def test_a_bare_priority_reads_the_policy_conditioned_on_priority_alone(policy, withdrawal):
    policy("Withdrawals", category=withdrawal, first_response_minutes=5)
    policy("High", priority=Priority.HIGH, first_response_minutes=120)
    policy("Others", first_response_minutes=600)
    assert sla_targets.first_response_target(Priority.HIGH) == 2 * HOUR
    assert sla_targets.first_response_target(Priority.LOW) == 10 * HOUR
    # Unknown priorities read as normal.
    assert sla_targets.first_response_target(999) == 10 * HOUR


# Selectors for the inbox -----------------------------------------------------------------


def test_the_state_goes_from_ok_to_at_risk_to_breached(policy, open_request):
    policy("7x24", first_response_minutes=60)
    ticket = opened(open_request, T0)
    assert selectors.sla_state(ticket, T0 + 44 * MINUTE) == "ok"
    assert selectors.sla_state(ticket, T0 + 45 * MINUTE) == "at_risk"
    assert selectors.sla_state(ticket, T0 + 60 * MINUTE) == "breached"
    assert selectors.sla_time_left(ticket, T0 + 50 * MINUTE) == 10 * MINUTE


def test_the_attention_filter_finds_at_risk_and_breached_active_requests(
    policy, open_request, agent
):
    policy("7x24", first_response_minutes=60)
    fine = opened(open_request, T0 + 30 * MINUTE)
    at_risk = opened(open_request, T0)
    breached = opened(open_request, T0 - HOUR)
    solved_late = opened(open_request, T0 - HOUR)
    move(solved_late, agent, Status.SOLVED, T0 - MINUTE)
    now = T0 + 50 * MINUTE

    attention = set(Ticket.objects.filter(selectors.sla_attention_q(now)))
    assert attention == {at_risk, breached}
    assert set(Ticket.objects.filter(selectors.sla_breached_q(now))) == {breached}
    ordered = list(Ticket.objects.order_by(*selectors.SLA_ORDERING))
    assert ordered[:3] == [breached, at_risk, fine]


def test_the_report_counts_per_team_what_was_met_and_breached(
    policy, open_request, agent_in_wallet, withdrawal, withdrawal_values, wallet_team
):
    agent = agent_in_wallet
    policy("7x24", first_response_minutes=60, resolution_minutes=600)
    quick = opened(open_request, T0, category=withdrawal, fields=withdrawal_values)
    slow = opened(open_request, T0, category=withdrawal, fields=withdrawal_values)
    triage = opened(open_request, T0)
    reply(quick, agent, T0 + 10 * MINUTE)
    move(quick, agent, Status.SOLVED, T0 + 30 * MINUTE)
    sla.sla_sweep(now=T0 + 61 * MINUTE)  # slow and triage miss their first response
    reply(slow, agent, T0 + 90 * MINUTE)
    opened(open_request, T0 + 2 * 24 * HOUR)  # outside the period

    wallet, no_team = selectors.sla_report(T0, T0 + 24 * HOUR)
    assert (wallet.team, wallet.tickets) == (wallet_team, 2)
    assert (wallet.first_response_met, wallet.first_response_breached) == (1, 1)
    assert wallet.breaches == 1
    assert wallet.median_first_response_seconds == (10 + 90) / 2 * 60
    assert wallet.median_resolution_seconds == 30 * 60
    assert (no_team.team, no_team.tickets, no_team.first_response_breached) == (None, 1, 1)
    assert no_team.median_first_response_seconds is None
    assert SlaMilestone.objects.filter(ticket=triage, stage="breach").count() == 1


# Admin ----------------------------------------------------------------------------------------

CALENDAR_ADD = "/en/admin/tickets/slacalendar/add/"


def calendar_form(weekly, **extra):
    return {
        "name": "Office",
        "time_zone": "Asia/Shanghai",
        "weekly": weekly,
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-0-date": "2026-10-01",
        "holidays-0-name": "National Day",
        **extra,
    }


def test_the_admin_refuses_hours_that_do_not_make_a_calendar(client, portal_admin):
    client.force_login(portal_admin)
    response = client.post(CALENDAR_ADD, calendar_form('{"mon": [["18:00", "09:00"]]}'))
    assert response.status_code == 200
    assert "These hours are not valid" in response.content.decode()
    assert "must start before it ends" in response.content.decode()
    response = client.post(CALENDAR_ADD, calendar_form('{"monday": [["09:00", "18:00"]]}'))
    assert "unknown weekday" in response.content.decode()
    assert not SlaCalendar.objects.exists()


def test_the_admin_saves_hours_with_holidays_that_deadlines_then_use(
    client, portal_admin, policy, open_request
):
    client.force_login(portal_admin)
    response = client.post(CALENDAR_ADD, calendar_form('{"mon": [["09:00", "24:00"]]}'))
    assert response.status_code == 302, response.content.decode()
    calendar = SlaCalendar.objects.get()
    assert [str(day) for day in calendar.holidays.values_list("date", flat=True)] == ["2026-10-01"]
    assert sla.business_calendar(calendar).holidays == {datetime.date(2026, 10, 1)}


def test_the_admin_lists_policies_in_order_and_recomputes_their_requests(
    client, portal_admin, policy, open_request, django_capture_on_commit_callbacks
):
    rules = policy("7x24", first_response_minutes=60)
    ticket = opened(open_request, T0)
    rules.first_response_minutes = 30
    rules.save()
    client.force_login(portal_admin)
    listing = client.get("/en/admin/tickets/slapolicy/")
    assert listing.status_code == 200 and "7x24" in listing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/en/admin/tickets/slapolicy/",
            {"action": "recompute_deadlines", "_selected_action": [rules.pk]},
            follow=True,
        )
    assert "are being recomputed" in response.content.decode()
    assert deadlines(ticket)["first"] == T0 + 30 * MINUTE


def test_the_admin_refuses_a_warning_point_over_100_percent(client, portal_admin, policy):
    client.force_login(portal_admin)
    response = client.post(
        "/en/admin/tickets/slapolicy/add/",
        {"name": "Odd", "position": 1, "is_active": "on", "warn_at_percent": 150},
    )
    assert "Enter a percentage from 1 to 100." in response.content.decode()


def test_open_requests_created_now_are_measured_from_now(policy, open_request):
    """The services without `now` measure from the request's own timestamps."""
    policy("7x24", first_response_minutes=60)
    before = timezone.now()
    ticket = open_request()
    assert before <= ticket.created_at <= timezone.now()
    assert ticket.first_response_due_at == ticket.created_at + HOUR
