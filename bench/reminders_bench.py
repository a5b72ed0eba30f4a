#!/usr/bin/env python
"""Reminder sweep under load: 100,000 open reminders, 1,000 of them due in the same minute.

Target: one sweep (the code the beat task runs) delivers all 1,000 within 60 s on a 2-core machine,
each exactly once, none of the 99,000 future ones early, and the "find due" query uses the partial
index (EXPLAIN printed). Writes bench/results/reminders.json.

Uses DATABASE_URL when set (it must be PostgreSQL), else creates ``coresponse_bench`` on
127.0.0.1:5432 (role coresponse: bench/local_services.py creates it).
E-mail goes to Django's in-memory backend (counted for duplicates,
no SMTP server in the loop); the event log and push look-ups are the real ones.

    python bench/reminders_bench.py [--open 100000] [--due 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "reminders.json"
DEFAULT_URL = "postgres://coresponse:coresponse@127.0.0.1:5432/coresponse_bench"


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--open", type=int, default=100_000, help="open reminders in total")
    parser.add_argument("--due", type=int, default=1_000, help="how many of them are due this minute")
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url:
        url = DEFAULT_URL
        ensure_database(url)
        os.environ["DATABASE_URL"] = url
    if not url.startswith(("postgres://", "postgresql://")):
        print("reminders bench needs PostgreSQL (DATABASE_URL=postgres://...)")
        return 2
    os.environ["DJANGO_SETTINGS_MODULE"] = "durham_coresponse.settings"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()

    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.realtime.models import Event
    from apps.reminders.models import Reminder
    from apps.reminders.services import reminders_sweep

    call_command("migrate", verbosity=0)
    mail.outbox = []

    print("resetting bench data ...", flush=True)
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE reminders_delivery, reminders_reminder, realtime_event, realtime_eventstream "
            "RESTART IDENTITY CASCADE"
        )
    User.objects.filter(username__startswith="bench-reminders-").delete()
    users = User.objects.bulk_create(
        [
            User(username=f"bench-reminders-{i}", email=f"bench{i}@example.org", password="!")  # noqa: S106
            for i in range(args.users)
        ]
    )

    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    rng = random.Random(6)  # reproducible spread
    future = args.open - args.due
    print(f"inserting {future} future + {args.due} due reminders ...", flush=True)
    started = time.monotonic()
    batch: list[Reminder] = []

    def flush() -> None:
        Reminder.objects.bulk_create(batch, batch_size=5000)
        batch.clear()

    for i in range(args.open):
        if i < args.due:
            due_at = minute + dt.timedelta(seconds=rng.uniform(0, (now - minute).total_seconds()))
        else:
            due_at = now + dt.timedelta(minutes=rng.uniform(2, 60 * 24 * 30))
        batch.append(
            Reminder(
                recipient=users[i % len(users)],
                kind=Reminder.Kind.FOLLOW_UP_DUE,
                due_at=due_at,
                next_attempt_at=due_at,
                subject_type="referrals.followup",
                subject_id=str(i),
                title="Follow-up due",
                url=f"/referrals/{i}",
                dedupe_key=f"bench:{i}",
            )
        )
        if len(batch) >= 20_000:
            flush()
    flush()
    with connection.cursor() as cur:
        cur.execute("ANALYZE reminders_reminder")
    print(f"inserted in {time.monotonic() - started:.1f} s", flush=True)

    plan = Reminder.objects.due(timezone.now()).values_list("id", flat=True)[:100].explain()
    print("EXPLAIN find-due query:\n" + plan, flush=True)
    uses_index = "reminder_due_scheduled_idx" in plan

    due_ids = set(Reminder.objects.filter(next_attempt_at__lte=timezone.now()).values_list("id", flat=True))
    print(f"sweeping {len(due_ids)} due reminders ...", flush=True)
    started = time.monotonic()
    result = reminders_sweep(budget_seconds=120)
    seconds = time.monotonic() - started

    sent_ids = set(Reminder.objects.filter(status=Reminder.Status.SENT).values_list("id", flat=True))
    events = Counter(Event.objects.filter(type="reminder.due").values_list("data__reminder_id", flat=True))
    emails = Counter(m.body.rsplit("/referrals/", 1)[1].split()[0] for m in mail.outbox)
    duplicates = sum(n - 1 for n in events.values() if n > 1) + sum(n - 1 for n in emails.values() if n > 1)
    early = len(sent_ids - due_ids)
    delivered = len(sent_ids & due_ids)
    out = {
        "open": args.open,
        "due": len(due_ids),
        "delivered": delivered,
        "duplicates": duplicates,
        "sent_early": early,
        "seconds": round(seconds, 2),
        "per_second": round(delivered / seconds, 1) if seconds else None,
        "batches": result.batches,
        "events": sum(events.values()),
        "emails": len(mail.outbox),
        "find_due_uses_index": uses_index,
        "errors": result.errors[:5],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    ok = (
        delivered == len(due_ids) == args.due
        and duplicates == 0
        and early == 0
        and seconds < 60
        and uses_index
        and out["events"] == args.due
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
