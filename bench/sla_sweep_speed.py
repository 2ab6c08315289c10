"""Speed of the SLA sweep (tickets.sla.sla_sweep) over 100,000 active requests.

    .venv/bin/python bench/sla_sweep_speed.py [--tickets 100000] [--window 600]
        [--database-url postgres://…] [--redis-url redis://…]

Generates active requests under the shipped 7×24 policies (5 % urgent, 15 %
high, 60 % normal, 20 % low; 10 % waiting on the customer, so paused), each
assigned to an agent of one of four teams with a supervisor. Their
first-response deadlines are spread evenly from an hour before "now" to
`--window` minutes after it, so a few hundred warning points and deadlines
pass every minute, and their deadlines are computed by tickets.sla itself.
What passed before "now" is recorded as the sweeper would have (milestones
inserted in bulk). Then, on one pinned core, it times:

- the sweep one minute later: that minute's crossings, each with a
  milestone, an internal event and two emails (assignee and supervisor);
- the same sweep again: nothing left to do;
- a sweep ten minutes later: catching up after a 10-minute outage.

Each is printed with its crossings and SQL queries, next to a bare view.
The emails are recorded in the outbox and published to the broker (the
filesystem broker, or Redis with --redis-url), as in production; no
worker sends them here. That hand-off is also shown apart.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import time

from _setup import bare_view_ms, setup_django

CUSTOMERS = 2_000
TEAMS = 4
AGENTS_PER_TEAM = 6
PRIORITY_WEIGHTS = {40: 5, 30: 15, 20: 60, 10: 20}
WAITING_SHARE = 0.10


def generate(total: int, window_minutes: int, now: datetime.datetime, seed: int = 7) -> None:
    """Bulk-insert users, teams and `total` active requests with their SLA columns."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role
    from tickets import sla
    from tickets.lifecycle import Status
    from tickets.models import (
        REFERENCE_ALPHABET,
        REFERENCE_PREFIX,
        SlaPolicy,
        Team,
        TeamMembership,
        Ticket,
        TicketCategory,
    )
    from tickets.sla_calendar import BusinessCalendar

    rng = random.Random(seed)
    password = make_password("bench-password")
    customers = User.objects.bulk_create(
        User(email=f"customer{n}@example.com", uid=f"{100000000 + n}", password=password)
        for n in range(CUSTOMERS)
    )
    teams = Team.objects.bulk_create(
        Team(slug=f"bench-team-{n}", name_en=f"Team {n}") for n in range(TEAMS)
    )
    agents = User.objects.bulk_create(
        User(email=f"agent{n}@example.com", uid=f"{900000000 + n}", password=password)
        for n in range(TEAMS * AGENTS_PER_TEAM)
    )
    supervisors = User.objects.bulk_create(
        User(email=f"lead{n}@example.com", uid=f"{800000000 + n}", password=password)
        for n in range(TEAMS)
    )
    Group.objects.get(name=Role.AGENT.group_name).user_set.add(*agents)
    Group.objects.get(name=Role.SUPERVISOR.group_name).user_set.add(*supervisors)
    TeamMembership.objects.bulk_create(
        [TeamMembership(team=teams[n % TEAMS], user=agent) for n, agent in enumerate(agents)]
        + [
            TeamMembership(team=team, user=lead, is_supervisor=True)
            for team, lead in zip(teams, supervisors, strict=True)
        ]
    )
    category = TicketCategory.objects.order_by("pk").first()
    policies = {policy.priority: policy for policy in SlaPolicy.objects.filter(is_active=True)}
    always = BusinessCalendar.always()

    references: set[str] = set()
    while len(references) < total:
        references.add(REFERENCE_PREFIX + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(6)))
    priorities = list(PRIORITY_WEIGHTS)
    weights = list(PRIORITY_WEIGHTS.values())
    rows = []
    for number, reference in enumerate(references):
        priority = rng.choices(priorities, weights)[0]
        policy = policies[priority]
        # The first-response deadline, evenly spread over the window.
        due = now + datetime.timedelta(minutes=rng.uniform(-60, window_minutes))
        created = due - datetime.timedelta(minutes=policy.first_response_minutes)
        waiting = rng.random() < WAITING_SHARE
        status = Status.WAITING if waiting else rng.choice([Status.NEW, Status.OPEN])
        status_changed_at = created + (due - created) / 2 if waiting else created
        team_number = number % TEAMS
        ticket = Ticket(
            reference=reference,
            requester=customers[number % CUSTOMERS],
            category=category,
            subject="Generated request for the SLA benchmark",
            description="Generated.",
            priority=priority,
            status=status,
            team=teams[team_number],
            assignee=agents[team_number + TEAMS * rng.randrange(AGENTS_PER_TEAM)],
            created_at=created,
            updated_at=status_changed_at,
            status_changed_at=status_changed_at,
            last_customer_reply_at=created,
        )
        pauses = [(status_changed_at, None)] if waiting else []
        fields = sla.compute(
            sla._Request.of(ticket),
            policy=policy,
            calendar=always,
            pauses=pauses,
            next_response_start=None,
        )
        for name, value in fields.items():
            setattr(ticket, name, value)
        rows.append(ticket)
        if len(rows) == 5_000:
            Ticket.objects.bulk_create(rows, batch_size=1_000)
            rows = []
    Ticket.objects.bulk_create(rows, batch_size=1_000)


def record_history(now: datetime.datetime) -> int:
    """Record the crossings before `now` as the sweeper would have, in bulk; return how many."""
    from tickets import sla
    from tickets.models import SlaMilestone

    milestones = []
    for ticket in sla._crossings(now).iterator(chunk_size=2_000):
        milestones.extend(sla._new_milestones(ticket, now))
    SlaMilestone.objects.bulk_create(milestones, batch_size=2_000)
    return len(milestones)


class Stopwatch:
    """Adds up the time spent in the functions it wraps (the email hand-off)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def timed_sweep(now: datetime.datetime, handoff: Stopwatch) -> dict:
    """One sweep at `now`: its result, milliseconds in all, in the email hand-off, queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tickets import sla

    handoff.seconds = 0.0
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        result = sla.sla_sweep(now=now)
        elapsed = (time.perf_counter() - start) * 1000
    return {
        "ms": elapsed,
        "handoff_ms": handoff.seconds * 1000,
        "result": result,
        "queries": len(queries),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--window", type=int, default=600, help="minutes ahead over which deadlines spread"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the empty sweep")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None, help="Redis as the broker (and cache)")
    args = parser.parse_args()
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url

    # As in production: the sweep publishes the emails to the broker (this
    # round's filesystem broker) after each batch commits; a worker sends them.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    setup_django(database_url=args.database_url)
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from tickets import notifications
    from tickets.models import Notification, SlaMilestone, Ticket

    now = timezone.now().replace(microsecond=0)
    start = time.perf_counter()
    generate(args.tickets, args.window, now)
    recorded = record_history(now)
    print(
        f"generated {Ticket.objects.count()} active requests and {recorded} past milestones "
        f"on {connection.vendor} in {time.perf_counter() - start:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    # Measured apart: recording each email in the outbox (tickets.notifications.queue)
    # and handing it to the broker after the commit (its on-commit publish).
    handoff = Stopwatch()
    notifications.queue = handoff.wrap(notifications.queue)
    notifications._publish = handoff.wrap(notifications._publish)

    minute = datetime.timedelta(minutes=1)
    # A worker is warm: imports done, the broker connected. Nothing is due at `now`.
    timed_sweep(now, handoff)
    rows = [("sweep, 1 minute of crossings", timed_sweep(now + minute, handoff))]
    empty = [timed_sweep(now + minute, handoff) for _ in range(args.repeat)]
    median = {**empty[0], "ms": statistics.median(sample["ms"] for sample in empty)}
    rows.append(("sweep, nothing to do (median)", median))
    rows.append(("sweep after a 10-minute outage", timed_sweep(now + 11 * minute, handoff)))

    bare = bare_view_ms(Client())
    for label, row in rows:
        result = row["result"]
        print(
            f"{label:31} {row['ms']:7.0f} ms ({row['ms'] - row['handoff_ms']:5.0f} ms without "
            f"the email hand-off; {row['ms'] / bare:6.0f}× bare)  {result.warnings:5} at risk "
            f"{result.breaches:5} breached {result.notifications:5} emails  "
            f"{row['queries']} queries"
        )
    print(
        f"bare view p50 {bare:.3f} ms; {SlaMilestone.objects.count()} milestones, "
        f"{Notification.objects.count()} notifications"
    )


if __name__ == "__main__":
    main()
