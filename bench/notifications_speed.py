"""Outbox throughput: 1,000 notifications through two real workers to a local SMTP server.

    .venv/bin/python bench/notifications_speed.py [--notifications 1000] [--workers 2]
        [--database-url postgres://…] [--redis-url redis://…]

Starts the workers (`celery worker --pool=solo`, as the tests do) against the
broker (the filesystem broker by default, Redis with --redis-url) and an
aiosmtpd server in this process, waits until they are ready, then records the
notifications one transaction each, as the services do (the row, then its
task published after the commit), and times until the SMTP server has
received every email. Checks that each arrived exactly once. Prints a bare
Django view beside it, the yardstick of every benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from _setup import bare_view_ms, setup_django

LANGUAGES = ["zh-hans", "en", "ja", "ko"]


def make_tickets(count: int) -> list:
    """Customers and requests to notify about, inserted in bulk."""
    from accounts.models import User
    from tickets.models import Ticket, TicketCategory, generate_reference

    customers = User.objects.bulk_create(
        User(
            email=f"bench-customer{n}@example.com",
            uid=f"{300000000 + n}",
            preferred_language=LANGUAGES[n % len(LANGUAGES)],
        )
        for n in range(100)
    )
    category = TicketCategory.objects.order_by("pk").first()
    references = set()
    while len(references) < count:
        references.add(generate_reference())
    Ticket.objects.bulk_create(
        Ticket(
            reference=reference,
            requester=customers[n % len(customers)],
            category=category,
            subject=f"Benchmark request {n}",
            description="Generated for the benchmark.",
            language=customers[n % len(customers)].preferred_language,
        )
        for n, reference in enumerate(sorted(references))
    )
    return list(Ticket.objects.select_related("requester").order_by("pk")[:count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    os.environ["REDIS_URL"] = args.redis_url
    # This process publishes to the broker; workers, not it, run the tasks.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    setup_django(database_url=args.database_url)
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client

    from tests.celery_children import CeleryChildren, wait_for
    from tests.smtp import SMTPSink
    from tickets import notifications
    from tickets.models import Notification, NotificationKind, NotificationStatus

    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    tickets = make_tickets(args.notifications)
    sink = SMTPSink().start()
    children = CeleryChildren(Path(tempfile.mkdtemp(prefix="portal-bench-workers-")))
    children.extra_env["TEST_EMAIL_URL"] = f"smtp://{sink.host}:{sink.port}"
    print(
        f"{len(tickets)} requests on {connection.vendor}; broker {settings.CELERY_BROKER_URL}; "
        f"{args.workers} workers (solo pool)"
    )
    try:
        for number in range(args.workers):
            children.start_worker(f"worker-{number}")
        wait_for(
            lambda: children.log_text().count(" ready.") >= args.workers,
            timeout=120,
            children=children,
            what="the workers to be ready",
        )

        start = time.perf_counter()
        for ticket in tickets:
            with transaction.atomic():
                notifications.queue(
                    NotificationKind.TICKET_CREATED, ticket=ticket, recipient=ticket.requester
                )
        queued = time.perf_counter() - start
        wait_for(
            lambda: len(sink.inbox) >= len(tickets),
            timeout=args.timeout,
            children=children,
            what=f"{len(tickets)} emails (got {len(sink.inbox)})",
        )
        delivered = time.perf_counter() - start
        # Every row marked sent soon after its email arrived.
        wait_for(
            lambda: (
                Notification.objects.filter(status=NotificationStatus.SENT).count() == len(tickets)
            ),
            timeout=60,
            children=children,
            what="every row marked sent",
        )
        time.sleep(2)  # nothing more may arrive
    finally:
        children.stop_all()
        sink.stop()

    message_ids = [str(message["Message-ID"]) for message in sink.inbox]
    assert len(message_ids) == len(tickets), f"{len(message_ids)} emails for {len(tickets)}"
    assert len(set(message_ids)) == len(tickets), "an email was sent twice"
    attempts = list(Notification.objects.values_list("attempts", flat=True))

    bare = bare_view_ms(Client())
    print(f"bare view p50 {bare:.2f} ms")
    print(f"queued {len(tickets)} notifications (one transaction each) in {queued:.2f} s")
    print(
        f"delivered {len(tickets)} emails in {delivered:.1f} s "
        f"({len(tickets) / delivered:.0f}/s; target ≤ 60 s: "
        f"{'met' if delivered <= 60 else 'NOT met'}); "
        f"{delivered * 1000 / len(tickets):.1f} ms per email = "
        f"{delivered * 1000 / len(tickets) / bare:.0f}× bare"
    )
    print(
        f"each delivered exactly once; attempts per notification: "
        f"mean {statistics.mean(attempts):.2f}, max {max(attempts)}"
    )


if __name__ == "__main__":
    main()
