#!/usr/bin/env python
"""Push benchmark: commit → WebSocket frame latency through real uvicorn processes and Redis.

N clients = N/2 two-person co-response teams (an officer and a clinician, each team on duty on a
shift covering now), plus 10 dispatcher screens, spread over two uvicorn processes. An emitter
process (playing a dispatcher's API call) offers real incidents at a steady rate through the
incidents service: offer n is ``assignment_offer`` of incident n to team n, which emits
``assignment.offered`` to the team's on-shift members and to every active dispatcher and supervisor.
Each team gets exactly one offer, so the run needs N/2 ≥ rate × seconds. Users, roles, teams, shifts
and incidents are made in setup (not timed) through the accounts, shifts and incidents services; the
event log is emptied after setup, and clients count ``assignment.offered`` frames only.

Latency is measured from the moment the transaction committed (an on-commit hook registered right
before the service call, inside the same atomic block, so it runs after COMMIT and before the
service's doorbell) to the frame's arrival at the client. Every client acks every event like the PWA
does. In the same run: the raw Redis PUBLISH → SUBSCRIBE round trip on loopback (the floor), events
lost, duplicates, server CPU seconds and RSS (from /proc).

Uses DATABASE_URL / REDIS_URL when set, else local PostgreSQL (database ``coresponse_bench_push``,
created if missing) and Redis db 14 on 127.0.0.1:6379. Loopback only; bounded in time. Setup
removes the incidents, assignments and shifts of earlier runs (bench teams only) and reuses users.

    python bench/push_bench.py --clients 1000 --rate 20 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
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
OFFERED = "assignment.offered"


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


def prepare(clients: int, offers: int) -> dict[str, Any]:
    """N/2 teams of officer + clinician on duty now, 10 dispatchers, ``offers`` open incidents, a
    session for each user; an empty event log (tests/realtime/world.py, shared with the fault run)."""
    from world import prepare_world  # type: ignore[import-not-found]  # tests/realtime is on sys.path

    return dict(prepare_world(clients, offers, dispatchers=DISPATCHERS))


# --- emitter process ---------------------------------------------------------------------------------


def stamp(committed: dict[int, float], n: int) -> None:
    committed[n] = time.time()


def run_emitter(plan_path: str, rate: float, seconds: float, out_path: str) -> None:
    """Offer incident n to team n at ``rate`` per second; write {n: committed_at} at the end."""
    from django.db import transaction

    from apps.accounts.models import User
    from apps.incidents.services import assignment_offer

    plan = json.loads(Path(plan_path).read_text())
    team_ids, incidents = plan["team_ids"], plan["incidents"]
    by = User.objects.prefetch_related("groups").get(pk=plan["offered_by"])
    warm_up_ring()
    committed: dict[int, float] = {}
    interval = 1.0 / rate
    start = time.perf_counter()
    total = min(int(rate * seconds), len(incidents))
    for n in range(total):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with transaction.atomic():
            # Registered before the service's own on-commit ring: runs right after COMMIT, before the doorbell.
            transaction.on_commit(partial(stamp, committed, n))
            assignment_offer(incident_id=incidents[n], team_id=team_ids[n], by=by)
    Path(out_path).write_text(json.dumps({"committed": committed, "seconds": time.perf_counter() - start}))


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


async def client(
    port: int, user_id: int, session_key: str, offer_of: dict[int, int], stats: Stats, stop: asyncio.Event
) -> None:
    """One screen; records the ``assignment.offered`` frames (as offer numbers via the incident id)."""
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
                        if frame["event_type"] == OFFERED:
                            n = offer_of.get(frame["data"].get("incident_id"))
                            got.append((-1 if n is None else n, frame["id"], now))
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
    offer_of = {incident_id: n for n, incident_id in enumerate(plan["incidents"])}
    tasks = []
    t0 = time.perf_counter()
    for i, user_id in enumerate(users):
        port = ports[i % len(ports)]
        tasks.append(asyncio.create_task(client(port, user_id, plan["sessions"][str(user_id)], offer_of, stats, stop)))
        if (i + 1) % connect_parallel == 0:
            while stats.welcomed < i + 1 - connect_parallel // 2:
                await asyncio.sleep(0.02)
    while stats.welcomed < len(users):
        if time.perf_counter() - t0 > 90:
            raise RuntimeError(f"only {stats.welcomed}/{len(users)} clients connected in 90 s")
        await asyncio.sleep(0.05)
    return stats, stop, tasks, time.perf_counter() - t0


def fault_run(clients: int, database_url: str, redis_url: str) -> int:
    """Issue 18's faults at ``clients`` phones, through the PWA's own event client (tests/realtime/chaos.py):
    each team gets one offer (spread over 38 s), cancelled or declined 1-10 s later; socket aborts, a
    Redis kill and restart, a uvicorn kill and restart, reloads and second tabs on the same timeline
    as the CI test. Its own Redis (killed mid-run); ``redis_url`` is not used."""
    if not os.environ.get("DATABASE_URL"):
        ensure_database(database_url)
    django_setup(database_url, redis_url)
    from django.core.management import call_command

    from tests.realtime.chaos import ChaosConfig, run_chaos
    from tests.realtime.world import prepare_world

    cfg = ChaosConfig(phones=clients, offers_per_team=1, spread=38.0, emitters=3)
    t_setup = time.perf_counter()
    call_command("migrate", verbosity=0)
    world = prepare_world(clients, clients // 2, dispatchers=1, migrate=False)
    print(f"setup {time.perf_counter() - t_setup:.1f}s: {clients} phones, {clients // 2} offers", flush=True)
    result = run_chaos(world, cfg, database_url, ROOT / "var" / "bench-push-faults")
    out = {
        "clients": result["clients"],
        "events_expected": result["events_expected"],
        "lost": result["lost"],
        "duplicates": result["duplicates"],
        "missing_receipts": result["missing_receipts"],
        "catch_up_seconds": result["catch_up_seconds"],
        "targets": {"lost": 0, "duplicates": 0, "missing_receipts": 0, "catch_up_seconds_max": 5.0},
        "offers": result["offers"],
        "unexpected": result["unexpected"],
        "emitter_errors": len(result["emitter_errors"]),
        "late_actions_s": result["late_actions_s"],
        "worst_catch_up": result["worst_catch_up"],
        "faults": result["faults"],
        "server_logs": result["server_logs"],
        "run_seconds": result["seconds"],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
        "notes": "phones run the PWA's event client (frontend/src/lib/events.ts) in Node via frontend/chaos/"
        "driver.ts; duplicates = handed to the app twice per device (ledger) plus per tab; missing receipts = "
        "offers without a delivered Receipt row for the phone's device; catch-up per fault kind = the longest "
        "time from max(fault end, event commit) to the app, over events of the phones it touched committed "
        "between the fault's start and 2 s after its end. Two uvicorn processes, PostgreSQL, Redis, the "
        "emitters and the driver share the machine's cores.",
    }
    path = ROOT / "bench" / "results" / "push_faults.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    ok = out["lost"] == out["duplicates"] == out["missing_receipts"] == 0
    return 0 if ok and all(v <= 5.0 for v in out["catch_up_seconds"].values()) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="offers per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--connect-parallel", type=int, default=100)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "push.json"))
    parser.add_argument("--emitter", nargs=3, metavar=("PLAN", "OUT", "_"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--faults",
        action="store_true",
        help="the fault run of issue 18 instead (tests/realtime/chaos.py): writes bench/results/push_faults.json",
    )
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    if args.emitter:
        django_setup(database_url, redis_url)
        run_emitter(args.emitter[0], args.rate, args.seconds, args.emitter[1])
        return 0
    if args.faults:
        return fault_run(args.clients, database_url, redis_url)

    offers = int(args.rate * args.seconds)
    if offers > args.clients // 2:
        parser.error(f"{offers} offers need as many teams: --clients must be at least {2 * offers}")
    if not os.environ.get("DATABASE_URL"):
        ensure_database(database_url)
    django_setup(database_url, redis_url)
    sys.path.insert(0, str(ROOT / "tests" / "realtime"))
    from harness import server_env, servers  # type: ignore[import-not-found]

    t_setup = time.perf_counter()
    plan = prepare(args.clients, offers)
    work = ROOT / "var" / "bench-push"
    work.mkdir(parents=True, exist_ok=True)
    plan_path, committed_path = work / "plan.json", work / "committed.json"
    plan_path.write_text(json.dumps(plan))
    print(
        f"setup {time.perf_counter() - t_setup:.1f}s: {args.clients} clients ({len(plan['teams'])} teams) + "
        f"{DISPATCHERS} dispatchers, {offers} incidents",
        flush=True,
    )

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
            emitted = json.loads(committed_path.read_text())
            committed = {int(k): v for k, v in emitted["committed"].items()}
            n_offers = len(committed)
            # Offer n went to team n: each member expects its team's offer (if any), dispatchers all.
            expected = {u: {t} & set(committed) for t, team in enumerate(plan["teams"]) for u in team}
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
            lost = duplicates = unexpected = 0
            for user_id, wanted in expected.items():
                got = stats.received.get(user_id, [])
                ids = [i for _, i, _ in got]
                duplicates += len(ids) - len(set(ids))
                seen_n: set[int] = set()
                for n, _, at in got:
                    if n not in wanted:  # not this screen's offer (or not an offer of this run)
                        unexpected += 1
                        continue
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
                "offers_per_s_achieved": round(n_offers / emitted["seconds"], 1) if emitted["seconds"] else None,
                "event_type": OFFERED,
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
                "unexpected": unexpected,
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
                "notes": "real offers: incidents.services.assignment_offer of incident n to team n (on duty, "
                "officer + clinician), assignment.offered to the pair and every dispatcher; latency = client "
                "receive time - time.time() in an on-commit hook registered right before the service call, which "
                "runs right after COMMIT and before the doorbell; clients, servers, emitter, PostgreSQL and Redis "
                "share the cores.",
            }

        result = asyncio.run(scenario())
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["unexpected"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
