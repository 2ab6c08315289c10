"""Speed of importing incoming email: 1,000 messages through `tickets.mail_ingest.ingest`.

    .venv/bin/python bench/email_ingest_speed.py [--emails 1000] [--customers 300]
        [--database-url postgres://…]

Bulk-inserts customers, one open request each and the email the desk sent on
it (a Notification with its Message-ID), then generates a mix of incoming
mail: replies to those requests (threaded one third each by In-Reply-To, by
the plus address and by the subject reference, with quoted history and a
signature to strip), new requests from known customers and from unknown
addresses (an account is created), in the four desk languages; one in six
carries a small PNG or PDF, one in ten is an auto-reply. Each message is
imported one at a time, as the command, the IMAP poller and the endpoint do,
in one process pinned to one core. Notifications are published to the broker
(the embedded filesystem broker here), not sent: sending is the worker's job.

Prints the total (target: 1,000 emails in ≤ 60 s), per-email p50/p95 per kind
and overall, SQL queries per email, and the bare-view yardstick.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import time
from collections import Counter, defaultdict
from email.message import EmailMessage
from email.utils import format_datetime

from _setup import bare_view_ms, describe, setup_django

LANGUAGES = ["zh-hans", "en", "ja", "ko"]
TEXT = {
    "zh-hans": "您好，我的 USDT 提现一直显示处理中，TXID 已经附上，请尽快帮我查一下。谢谢！",
    "en": "Hello, my USDT withdrawal is still processing. The TXID is below; please check it.",
    "ja": "お世話になっております。USDTの出金が処理中のままです。ご確認をお願いいたします。",
    "ko": "안녕하세요. USDT 출금이 계속 처리 중으로 나옵니다. 확인 부탁드립니다.",
}
SUBJECTS = {
    "zh-hans": "提币一直没到账",
    "en": "Withdrawal still processing",
    "ja": "出金が届かない",
    "ko": "출금이 안 들어와요",
}
WARM_UP = 20
QUOTED = "\n".join(f"> line {n} of what support wrote before" for n in range(20))


def png_bytes() -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(output, format="PNG")
    return output.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def generate_desk(customers: int, seed: int) -> list[dict]:
    """Customers with one open request each and the desk's sent email; returns their facts."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import User
    from tickets.lifecycle import Status
    from tickets.models import (
        Channel,
        Notification,
        NotificationKind,
        NotificationStatus,
        Ticket,
        TicketCategory,
        generate_reference,
    )

    rng = random.Random(seed)
    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"customer{n}@example.com",
            uid=f"{100000000 + n}",
            password=password,
            preferred_language=rng.choice(LANGUAGES),
            email_verified_at=timezone.now(),
        )
        for n in range(customers)
    )
    category = TicketCategory.objects.get(slug="other")
    now = timezone.now()
    tickets = Ticket.objects.bulk_create(
        Ticket(
            reference=generate_reference(),
            requester=user,
            category=category,
            subject=SUBJECTS[user.preferred_language],
            description=TEXT[user.preferred_language],
            language=user.preferred_language,
            status=Status.OPEN,
            channel=Channel.EMAIL,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
        )
        for user in users
    )
    Notification.objects.bulk_create(
        Notification(
            kind=NotificationKind.AGENT_REPLY,
            ticket=ticket,
            recipient=ticket.requester,
            language=ticket.language,
            status=NotificationStatus.SENT,
            email_message_id=f"{ticket.reference.lower()}.{n}@support.example.com",
            sent_at=now,
        )
        for n, ticket in enumerate(tickets)
    )
    return [
        {
            "email": user.email,
            "language": user.preferred_language,
            "reference": ticket.reference,
            "sent_id": f"{ticket.reference.lower()}.{n}@support.example.com",
        }
        for n, (user, ticket) in enumerate(zip(users, tickets, strict=True))
    ]


def generate_emails(total: int, desk: list[dict], seed: int) -> list[tuple[str, bytes]]:
    """(kind, raw bytes) for `total` incoming emails."""
    rng = random.Random(seed)
    png = png_bytes()
    emails = []
    for n in range(total):
        roll = rng.random()
        customer = rng.choice(desk)
        language = customer["language"]
        message = EmailMessage()
        message["Date"] = format_datetime(time_now())
        message["Message-ID"] = f"<bench.{n}.{seed}@mail.example.net>"
        message["To"] = "Crypto Exchange Support <support@example.com>"
        body = TEXT[language]
        if roll < 0.5:
            kind = ("reply by Message-ID", "reply by plus address", "reply by reference")[n % 3]
            message["From"] = customer["email"]
            message["Subject"] = f"Re: {SUBJECTS[language]}"
            if n % 3 == 0:
                message["In-Reply-To"] = f"<{customer['sent_id']}>"
                message["References"] = f"<{customer['sent_id']}>"
            elif n % 3 == 1:
                message.replace_header("To", f"support+{customer['reference'].lower()}@example.com")
            else:
                message.replace_header(
                    "Subject", f"Re: [{customer['reference']}] {SUBJECTS[language]}"
                )
            body += f"\n\n-- \nSent from my phone\n\nOn Mon, support@example.com wrote:\n{QUOTED}\n"
        elif roll < 0.8:
            kind = "new request, known customer"
            message["From"] = customer["email"]
            message["Subject"] = SUBJECTS[language]
        elif roll < 0.9:
            kind = "new request, new address"
            message["From"] = f"Newcomer {n} <new{n}.{seed}@example.org>"
            message["Subject"] = SUBJECTS[language]
        else:
            kind = "auto-reply"
            message["From"] = customer["email"]
            message["Subject"] = f"Automatic reply: {SUBJECTS[language]}"
            message["Auto-Submitted"] = "auto-replied"
            message["In-Reply-To"] = f"<{customer['sent_id']}>"
            body = "I am out of the office until Monday."
        message.set_content(body)
        if kind != "auto-reply" and rng.random() < 1 / 6:
            if rng.random() < 0.5:
                message.add_attachment(png, maintype="image", subtype="png", filename="shot.png")
            else:
                message.add_attachment(
                    PDF, maintype="application", subtype="pdf", filename="statement.pdf"
                )
            kind += " + file"
        emails.append((kind, message.as_bytes()))
    return emails


def time_now():
    from django.utils import timezone

    return timezone.now()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    setup_django(database_url=args.database_url)
    from django.db import connection
    from django.test import Client

    from support_portal.celery import app as celery_app
    from tickets import mail_ingest
    from tickets.models import InboundEmail, InboundSource

    # The notifications an email causes go to the broker, as in production; the
    # test settings would otherwise send them in this process.
    celery_app.conf.task_always_eager = False
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    desk = generate_desk(args.customers, args.seed)
    warm_up, emails = (
        generate_emails(WARM_UP, desk, args.seed + 1),
        generate_emails(args.emails, desk, args.seed),
    )
    # Not timed: the first emails load the language catalogues, templates and codecs.
    for _kind, raw in warm_up:
        mail_ingest.ingest(raw, source=InboundSource.COMMAND)
    print(
        f"{connection.vendor}: {args.customers} customers with an open request each; "
        f"{len(emails)} emails, {sum(len(raw) for _k, raw in emails) / 1024:.0f} KiB"
    )

    samples: dict[str, list[float]] = defaultdict(list)
    every: list[float] = []
    queries: list[int] = []

    def count(execute, sql, params, many, context):
        queries[-1] += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        for kind, raw in emails:
            queries.append(0)
            begin = time.perf_counter()
            mail_ingest.ingest(raw, source=InboundSource.COMMAND)
            elapsed = (time.perf_counter() - begin) * 1000
            samples[kind].append(elapsed)
            every.append(elapsed)
    total = time.perf_counter() - started

    outcomes = Counter(
        InboundEmail.objects.filter(source=InboundSource.COMMAND)
        .exclude(email_message_id__contains=f".{args.seed + 1}@")
        .values_list("status", flat=True)
    )
    bare = bare_view_ms(Client())
    print(f"\ntotal {total:.1f} s for {len(emails)} emails (target ≤ 60 s)")
    print(f"outcomes {dict(outcomes)}")
    for kind in sorted(samples):
        print(f"{kind:38} {describe(samples[kind])}")
    print(f"{'all emails':38} {describe(every)}   {statistics.median(every) / bare:5.1f}× bare")
    print(f"SQL queries per email: median {statistics.median(queries):.0f}, max {max(queries)}")
    print(f"bare view p50 {bare:.3f} ms")


if __name__ == "__main__":
    main()
