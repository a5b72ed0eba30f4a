#!/usr/bin/env python
"""Push benchmark: commit → WebSocket frame latency through real uvicorn processes and Redis.

N clients = N/2 two-person teams, plus 10 dispatcher screens, spread over two uvicorn processes.
An emitter process (playing the Celery worker / an API call) offers to one team at a time at a
steady rate: ``event_emit`` to the pair and every dispatcher, exactly as the incidents service does.
Latency is measured from the moment the transaction committed (an on-commit hook registered before
``event_emit``'s ring, so the stamp is taken after COMMIT and before the doorbell) to the frame's
arrival at the client. Every client acks every event like the PWA does. In the same run: the raw
Redis PUBLISH → SUBSCRIBE round trip on loopback (the floor), events lost, duplicates, server CPU
seconds and RSS (from /proc).

Uses DATABASE_URL / REDIS_URL when set, else local PostgreSQL (database ``coresponse_bench_push``,
created if missing) and Redis db 14 on 127.0.0.1:6379. Loopback only; bounded in time.

    python bench/push_bench.py --clients 1000 --rate 20 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://coresponse:coresponse@127.0.0.1:5432/coresponse_bench_push"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
DISPATCHERS = 10
# An unusable password: nobody signs in; the sessions are written here.
PASSWORD_HASH = "!bench-no-login"  # noqa: S105 - unusable by design


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


# --- setup (Django in this process) -----------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup(database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "durham_coresponse.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def prepare(clients: int) -> dict[str, Any]:
    """Users (N/2 teams of officer + clinician, 10 dispatchers) and a session for each; a clean log."""
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.realtime.models import Event, EventStream

    call_command("migrate", verbosity=0)
    Event.objects.all().delete()
    EventStream.objects.all().delete()
    names = [f"bench_{i}" for i in range(clients)] + [f"bench_dispatch_{i}" for i in range(DISPATCHERS)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(
        [User(username=n, password=PASSWORD_HASH, first_name=n) for n in names if n not in existing],
        batch_size=1000,
    )
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    dispatcher = Group.objects.get(name="dispatcher")
    dispatcher.user_set.add(*[users[f"bench_dispatch_{i}"] for i in range(DISPATCHERS)])
    Session.objects.filter(session_key__startswith="bench").delete()
    store = SessionStore()
    expire = timezone.now() + dt.timedelta(hours=2)
    sessions = []
    keys: dict[str, str] = {}
    for name, user in users.items():
        key = f"bench{user.pk:028d}"[:40]
        keys[name] = key
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    Session.objects.bulk_create(sessions, batch_size=1000)
    teams = [[users[f"bench_{2 * t}"].pk, users[f"bench_{2 * t + 1}"].pk] for t in range(clients // 2)]
    return {
        "teams": teams,
        "dispatchers": [users[f"bench_dispatch_{i}"].pk for i in range(DISPATCHERS)],
        "sessions": {str(users[n].pk): k for n, k in keys.items()},
    }


# --- emitter process ---------------------------------------------------------------------------------


def stamp(committed: dict[int, float], n: int) -> None:
    committed[n] = time.time()


def run_emitter(plan_path: str, rate: float, seconds: float, out_path: str) -> None:
    """Offer to team k % T at ``rate`` per second; write {n: committed_at} at the end."""
    from django.db import transaction

    from apps.realtime.services import event_emit

    plan = json.loads(Path(plan_path).read_text())
    teams, dispatchers = plan["teams"], plan["dispatchers"]
    warm_up_ring()
    committed: dict[int, float] = {}
    interval = 1.0 / rate
    start = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        team = teams[n % len(teams)]
        with transaction.atomic():
            # Registered before event_emit's ring: runs right after COMMIT, before the doorbell.
            transaction.on_commit(partial(stamp, committed, n))
            event_emit(
                type="bench.offer",
                recipients=[*team, *dispatchers],
                data={"n": n, "team": n % len(teams), "assignment_id": n},
            )
    Path(out_path).write_text(json.dumps(committed))


def warm_up_ring() -> None:
    """A long-running worker has its Redis connections and Lua scripts loaded; so does this one."""
    from channels.layers import get_channel_layer

    from apps.realtime.services import _ring_event_loop

    layer = get_channel_layer()
    for _ in range(3):
        asyncio.run_coroutine_threadsafe(
            layer.group_send("bench-warm-up", {"type": "events.ready"}), _ring_event_loop()
        ).result(timeout=10)


# --- clients -----------------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.received: dict[int, list[tuple[int, str, float]]] = {}  # user id → (n, event id, t)
        self.welcomed = 0
        self.closed = 0


async def client(port: int, user_id: int, session_key: str, stats: Stats, stop: asyncio.Event) -> None:
    import websockets

    got = stats.received.setdefault(user_id, [])
    cursor = 0
    welcomed = False
    while not stop.is_set():
        try:
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/events/",
                additional_headers={"Cookie": f"sessionid={session_key}", "Origin": f"http://127.0.0.1:{port}"},
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
                compression=None,
            ) as ws:
                await ws.send(json.dumps({"type": "hello", "after": cursor}))
                async for raw in ws:
                    now = time.time()
                    frame = json.loads(raw)
                    kind = frame["type"]
                    if kind == "event":
                        got.append((frame["data"]["n"], frame["id"], now))
                        cursor = max(cursor, frame["cursor"])
                        await ws.send(f'{{"type":"ack","cursor":{frame["cursor"]}}}')
                    elif kind == "ping":
                        await ws.send('{"type":"pong"}')
                    elif kind == "welcome" and not welcomed:
                        welcomed = True
                        stats.welcomed += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            stats.closed += 1
            await asyncio.sleep(0.5)


async def redis_rtt(redis_url: str, samples: int = 2000) -> list[float]:
    """PUBLISH → message received on a SUBSCRIBE connection, one at a time, in ms."""
    import redis.asyncio as aioredis

    sub_conn = aioredis.from_url(redis_url)
    pub_conn = aioredis.from_url(redis_url)
    pubsub = sub_conn.pubsub()
    await pubsub.subscribe("bench-rtt")
    while (await pubsub.get_message(timeout=1.0)) is None:
        pass
    out = []
    for i in range(samples):
        t0 = time.perf_counter()
        await pub_conn.publish("bench-rtt", str(i))
        while True:
            msg = await pubsub.get_message(timeout=1.0)
            if msg and msg["type"] == "message":
                break
        out.append((time.perf_counter() - t0) * 1000)
    await pubsub.unsubscribe("bench-rtt")
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    await sub_conn.aclose()
    await pub_conn.aclose()
    return out


def proc_tree_stats(pid: int) -> tuple[float, float]:
    """(cpu seconds, RSS MB) of a process and its children, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    cpu = rss = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
        except OSError:
            continue
    return cpu, rss


async def run_clients(
    plan: dict[str, Any], ports: list[int], connect_parallel: int
) -> tuple[Stats, asyncio.Event, list[asyncio.Task[None]], float]:
    stats = Stats()
    stop = asyncio.Event()
    users = [u for team in plan["teams"] for u in team] + plan["dispatchers"]
    tasks = []
    t0 = time.perf_counter()
    for i, user_id in enumerate(users):
        port = ports[i % len(ports)]
        tasks.append(asyncio.create_task(client(port, user_id, plan["sessions"][str(user_id)], stats, stop)))
        if (i + 1) % connect_parallel == 0:
            while stats.welcomed < i + 1 - connect_parallel // 2:
                await asyncio.sleep(0.02)
    while stats.welcomed < len(users):
        if time.perf_counter() - t0 > 90:
            raise RuntimeError(f"only {stats.welcomed}/{len(users)} clients connected in 90 s")
        await asyncio.sleep(0.05)
    return stats, stop, tasks, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="offers per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--connect-parallel", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "push.json"))
    parser.add_argument("--emitter", nargs=3, metavar=("PLAN", "OUT", "_"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    if args.emitter:
        django_setup(database_url, redis_url)
        run_emitter(args.emitter[0], args.rate, args.seconds, args.emitter[1])
        return 0

    if not os.environ.get("DATABASE_URL"):
        ensure_database(database_url)
    django_setup(database_url, redis_url)
    sys.path.insert(0, str(ROOT / "tests" / "realtime"))
    from harness import server_env, servers  # type: ignore[import-not-found]

    t_setup = time.perf_counter()
    plan = prepare(args.clients)
    work = ROOT / "var" / "bench-push"
    work.mkdir(parents=True, exist_ok=True)
    plan_path, committed_path = work / "plan.json", work / "committed.json"
    plan_path.write_text(json.dumps(plan))
    print(f"setup {time.perf_counter() - t_setup:.1f}s: {args.clients} clients + {DISPATCHERS} dispatchers", flush=True)

    rtt = asyncio.run(redis_rtt(redis_url))
    env = server_env(database_url, redis_url, DB_POOL_MAX="10")
    with servers(args.servers, env, work) as procs:
        ports = [p.port for p in procs]

        async def scenario() -> dict[str, Any]:
            stats, stop, tasks, connect_s = await run_clients(plan, ports, args.connect_parallel)
            print(f"{stats.welcomed} clients connected in {connect_s:.1f}s", flush=True)
            before = [proc_tree_stats(p.pid) for p in procs]
            client_cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            emitter = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
                "--emitter",
                str(plan_path),
                str(committed_path),
                "-",
                env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url},
            )
            await emitter.wait()
            if emitter.returncode:
                raise RuntimeError("emitter failed")
            committed = {int(k): v for k, v in json.loads(committed_path.read_text()).items()}
            n_offers = len(committed)
            teams = plan["teams"]
            expected = {
                u: {n for n in range(n_offers) if n % len(teams) == t} for t, team in enumerate(teams) for u in team
            }
            for d in plan["dispatchers"]:
                expected[d] = set(range(n_offers))
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                if all(len(stats.received.get(u, [])) >= len(ns) for u, ns in expected.items()):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # late duplicates would show up here
            after = [proc_tree_stats(p.pid) for p in procs]
            client_cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            emitter_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

            latencies: list[float] = []
            lost = duplicates = 0
            for user_id, wanted in expected.items():
                got = stats.received.get(user_id, [])
                ids = [i for _, i, _ in got]
                duplicates += len(ids) - len(set(ids))
                seen_n: set[int] = set()
                for n, _, at in got:
                    if n in seen_n:
                        continue
                    seen_n.add(n)
                    latencies.append((at - committed[n]) * 1000)
                lost += len(wanted - seen_n)
            cpu = sum(a[0] - b[0] for a, b in zip(after, before, strict=True))
            rss = sum(a[1] for a in after)
            return {
                "clients": args.clients,
                "dispatcher_screens": DISPATCHERS,
                "servers": args.servers,
                "rate_per_s": args.rate,
                "seconds": args.seconds,
                "offers": n_offers,
                "frames_expected": sum(len(v) for v in expected.values()),
                "frames_received": sum(len(v) for v in stats.received.values()),
                "latency_ms": {
                    "p50": round(percentile(latencies, 50), 2),
                    "p95": round(percentile(latencies, 95), 2),
                    "p99": round(percentile(latencies, 99), 2),
                    "max": round(max(latencies), 2) if latencies else None,
                },
                "lost": lost,
                "duplicates": duplicates,
                "reconnects": stats.closed,
                "connect_seconds": round(connect_s, 1),
                "redis_rtt_ms": {"p50": round(percentile(rtt, 50), 3), "p99": round(percentile(rtt, 99), 3)},
                "ratio_p50_to_redis_rtt": round(percentile(latencies, 50) / percentile(rtt, 50), 1),
                "server_rss_mb": round(rss, 1),
                "cpu_s": round(cpu, 2),
                "client_cpu_s": round(
                    client_cpu1.ru_utime + client_cpu1.ru_stime - client_cpu0.ru_utime - client_cpu0.ru_stime, 2
                ),
                "emitter_cpu_s": round(emitter_cpu.ru_utime + emitter_cpu.ru_stime, 2),
                "cpu_share_of_2_cores": round(cpu / (args.seconds * (os.cpu_count() or 1)), 2),
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
                "notes": "latency = client receive time - time.time() in an on-commit hook that runs right after "
                "COMMIT and before the doorbell; clients, servers, emitter, PostgreSQL and Redis share the cores.",
            }

        result = asyncio.run(scenario())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = result["lost"] == 0 and result["duplicates"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
