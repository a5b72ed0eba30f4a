"""The chaos run of issue 18, shared by tests/realtime/test_chaos.py (200 phones, in CI) and the fault
benchmark (``bench/push_bench.py --faults``, 1,000 phones).

Real processes: a throwaway ``redis-server`` (killed with SIGKILL and restarted), two uvicorn servers
on the shared PostgreSQL database (one killed with SIGKILL and restarted), emitter processes that
offer real incidents through the incidents service and cancel or decline each 1–10 s later, and the
phones: the PWA's own event client (frontend/src/lib/events.ts with its IndexedDB ledger, pending
receipts and tab coordination) run by frontend/chaos/driver.ts in Node, one "browser" per phone.

Faults, all in one bounded run (about a minute of traffic): rounds of sockets aborted without a close
frame, Redis killed and restarted 3 s later, one uvicorn killed and restarted, phones reloaded, a second
tab opened on some phones and later their leading tab closed.

What is measured, per phone (device), against the database:
* lost: events of the phone's stream never handed to its app;
* duplicates: an event handed to the app twice — per device (ledger claims) and per tab (the app's
  listener in each tab);
* missing receipts: offers (``assignment.offered``) without a ``delivered`` receipt row for the phone's
  device at the end;
* catch-up per fault kind: for each fault instance [start, end], over the events of the phones it
  touched created in [start, end + 2 s], the longest time from max(fault end, event created) until the
  event reached the app. So an event committed during an outage counts from the outage's end, one
  committed while clients reconnect counts from its own commit.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.realtime.harness import ROOT, Server, ThrowawayRedis, server_env, servers

FRONTEND = ROOT / "frontend"
DRIVER = FRONTEND / "node_modules" / ".chaos" / "driver.mjs"
OFFERED = "assignment.offered"
EMIT = [sys.executable, "-m", "tests.realtime.chaos", "emit"]


@dataclass
class ChaosConfig:
    phones: int = 200
    offers_per_team: int = 5
    # Team t's first offer comes at uniform(0, spread) s; each is ended (cancelled or declined) after
    # uniform(hold) s and the team's next offer follows uniform(gap) s later.
    spread: float = 8.0
    hold: tuple[float, float] = (1.0, 10.0)
    gap: tuple[float, float] = (0.5, 1.5)
    abort_rounds: int = 30
    abort_size: int = 20
    abort_every: float = 0.8
    redis_down: float = 3.0
    reloads: int = 10  # phones reloaded, twice
    second_tabs: int = 10
    emitters: int = 2
    servers: int = 2
    seed: int = 18
    settle: float = 8.0


@dataclass
class Fault:
    kind: str
    start: float
    end: float
    devices: list[str] = field(default_factory=list)  # empty: every phone


def build_driver() -> Path:
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules").is_dir():
        raise RuntimeError("the chaos driver needs node and frontend/node_modules (make frontend)")
    subprocess.run([node, "scripts/build-chaos-driver.mjs"], cwd=FRONTEND, check=True, capture_output=True)  # noqa: S603
    return DRIVER


# --- the emitters (separate processes: python -m tests.realtime.chaos emit PLAN INDEX COUNT OUT) --------


def schedule(world: dict[str, Any], cfg: ChaosConfig) -> list[dict[str, Any]]:
    """Every team's offers, in order: [{"team", "team_id", "incident", "offer_at" (the first's, s after
    t0), "hold" (s until it is ended), "gap" (s until the next), "end" (cancel|decline), "by" (user)}]."""
    rng = random.Random(cfg.seed)
    incidents = iter(world["incidents"])
    actions = []
    for t, (team_id, members) in enumerate(zip(world["team_ids"], world["teams"], strict=True)):
        at = rng.uniform(0, cfg.spread)
        for _ in range(cfg.offers_per_team):
            hold, gap = rng.uniform(*cfg.hold), rng.uniform(*cfg.gap)
            declined = rng.random() < 0.5
            actions.append(
                {
                    "team": t,
                    "team_id": team_id,
                    "incident": next(incidents),
                    "offer_at": round(at, 3),
                    "hold": round(hold, 3),
                    "gap": round(gap, 3),
                    "end": "decline" if declined else "cancel",
                    "by": rng.choice(members) if declined else world["offered_by"],
                }
            )
            at += hold + gap
    return actions


def run_emitter(plan_path: str, index: int, count: int, out_path: str) -> None:
    """Runs the teams ``t % count == index``: each team's first offer at its time after ``t0``, its end
    ``hold`` s after the offer really committed, its next offer ``gap`` s after the end (a team is busy
    while an offer is open, so the chain follows what really happened, not the plan)."""
    import heapq

    from apps.accounts.models import User
    from apps.incidents.services import assignment_cancel, assignment_decline, assignment_offer

    plan = json.loads(Path(plan_path).read_text())
    teams: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in plan["actions"]:
        if a["team"] % count == index:
            teams[a["team"]].append(a)
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in={a["by"] for chain in teams.values() for a in chain} | {plan["offered_by"]})
    }
    by = users[plan["offered_by"]]
    heap: list[tuple[float, int, int, str]] = [
        (plan["t0"] + chain[0]["offer_at"], t, 0, "offer") for t, chain in teams.items()
    ]
    heapq.heapify(heap)
    assignment_of: dict[tuple[int, int], int] = {}
    done: list[tuple[str, int, float, float]] = []  # (kind, team, due, committed)
    errors: list[str] = []
    while heap:
        due, t, k, kind = heapq.heappop(heap)
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        a = teams[t][k]
        try:
            if kind == "offer":
                assignment_of[(t, k)] = assignment_offer(incident_id=a["incident"], team_id=a["team_id"], by=by).pk
            elif a["end"] == "decline":
                assignment_decline(assignment_id=assignment_of[(t, k)], by=users[a["by"]], reason="chaos: busy")
            else:
                assignment_cancel(assignment_id=assignment_of[(t, k)], by=by, reason="chaos: not needed")
        except Exception as exc:
            errors.append(f"{kind} {a}: {type(exc).__name__}: {exc}")
            continue
        now = time.time()
        done.append((kind, t, due, now))
        if kind == "offer":
            heapq.heappush(heap, (now + a["hold"], t, k, "end"))
        elif k + 1 < len(teams[t]):
            heapq.heappush(heap, (now + a["gap"], t, k + 1, "offer"))
    Path(out_path).write_text(json.dumps({"done": done, "errors": errors}))


# --- the driver (node) --------------------------------------------------------------------------------


class Driver:
    def __init__(self, plan_path: Path, log_path: Path) -> None:
        node = shutil.which("node") or "node"
        self.log = open(log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [node, str(DRIVER), str(plan_path)],
            cwd=FRONTEND,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self.answers: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "ok" in message or "error" in message:
                self.answers.put(message)

    def send(self, timeout: float = 60, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = self.answers.get(timeout=timeout)
        if "error" in answer:
            raise RuntimeError(f"chaos driver: {answer['error']}")
        return answer

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):  # it is going anyway
                self.send(timeout=10, cmd="quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


# --- the run ---------------------------------------------------------------------------------------


def fault_times(cfg: ChaosConfig) -> list[tuple[float, str]]:
    """(seconds after t0, kind): the same timeline at every size."""
    timeline = [
        (3.0, "second_tab"),
        (7.0, "reload"),
        (11.0, "redis_restart"),
        (20.0, "close_leader"),
        (24.0, "reload"),
        (28.0, "uvicorn_kill"),
    ]
    # Socket aborts outside the Redis and uvicorn windows, so each catch-up is measured on its own.
    blocked = [(10.0, 11.0 + cfg.redis_down + 3.0), (27.0, 36.0)]
    at, rounds = 1.5, 0
    while rounds < cfg.abort_rounds:
        if not any(lo <= at <= hi for lo, hi in blocked):
            timeline.append((round(at, 2), "socket_abort"))
            rounds += 1
        at += cfg.abort_every
    return sorted(timeline)


def run_chaos(world: dict[str, Any], cfg: ChaosConfig, database_url: str, work: Path) -> dict[str, Any]:
    """The whole run. ``world`` from tests.realtime.world.prepare_world; Django is set up here."""
    work.mkdir(parents=True, exist_ok=True)
    build_driver()
    phones = [u for team in world["teams"] for u in team]
    devices = {f"phone{u}": {"user_id": u, "device": str(uuid.uuid4())} for u in phones}
    actions = schedule(world, cfg)
    redis = ThrowawayRedis()
    redis.start()
    faults: list[Fault] = []
    started_at = time.time()
    try:
        env = server_env(database_url, redis.url)
        with servers(cfg.servers, env, work) as procs:
            plan = {
                "devices": [
                    {
                        "name": name,
                        "user_id": d["user_id"],
                        "session": world["sessions"][str(d["user_id"])],
                        "port": procs[i % len(procs)].port,
                        "device": d["device"],
                    }
                    for i, (name, d) in enumerate(devices.items())
                ]
            }
            on_server = {p["name"]: p["port"] for p in plan["devices"]}
            (work / "driver-plan.json").write_text(json.dumps(plan))
            driver = Driver(work / "driver-plan.json", work / "driver.log")
            emitters: list[subprocess.Popen[bytes]] = []
            try:
                ready = driver.send(timeout=300, cmd="start")
                if ready["welcomed"] != len(devices):
                    raise RuntimeError(f"only {ready['welcomed']} of {len(devices)} phones connected")
                t0 = time.time() + 1.0
                emit_plan = work / "emit-plan.json"
                emit_plan.write_text(json.dumps({"t0": t0, "actions": actions, "offered_by": world["offered_by"]}))
                emitters += [
                    subprocess.Popen(  # noqa: S603
                        [*EMIT, str(emit_plan), str(i), str(cfg.emitters), str(work / f"emitted-{i}.json")],
                        cwd=ROOT,
                        env=env,
                        stdout=open(work / f"emitter-{i}.log", "w"),  # noqa: SIM115
                        stderr=subprocess.STDOUT,
                    )
                    for i in range(cfg.emitters)
                ]
                quiet_until = last_end = 0.0
                for offset, kind in fault_times(cfg):
                    # Each catch-up is measured on its own: after a server-side fault the next fault
                    # waits until its clients are back (a restart is slow on a loaded machine), and a
                    # server-side fault waits until the clients of the faults before it are back.
                    server_side = kind in ("redis_restart", "uvicorn_kill")
                    delay = max(t0 + offset, quiet_until, last_end + 5.0 if server_side else 0.0) - time.time()
                    if delay > 0:
                        time.sleep(delay)
                    fault = _inject(kind, cfg, driver, redis, procs[0], on_server)
                    faults.append(fault)
                    last_end = fault.end
                    if server_side:
                        quiet_until = fault.end + 6.0
                for e in emitters:
                    e.wait(timeout=600)
                emitters = []
                time.sleep(cfg.settle)
                deadline = time.time() + 30
                status = driver.send(cmd="status")
                while status["pending_receipts"] and time.time() < deadline:
                    time.sleep(1)
                    status = driver.send(cmd="status")
                driver.send(timeout=120, cmd="report", out=str(work / "report.json"))
            finally:
                for e in emitters:
                    e.kill()
                driver.close()
    finally:
        redis.kill()
    emitted = [json.loads((work / f"emitted-{i}.json").read_text()) for i in range(cfg.emitters)]
    report = json.loads((work / "report.json").read_text())
    result = evaluate(report, faults, devices)
    result["emitter_errors"] = [err for e in emitted for err in e["errors"]]
    result["offers"] = sum(1 for e in emitted for kind, *_ in e["done"] if kind == "offer")
    result["late_actions_s"] = round(max((c - d for e in emitted for _, _, d, c in e["done"]), default=0.0), 2)
    result["server_logs"] = log_summary(work)
    result["faults"] = [asdict(f) | {"devices": len(f.devices)} for f in faults]
    result["seconds"] = round(time.time() - started_at, 1)
    result["config"] = asdict(cfg)
    (work / "result.json").write_text(json.dumps(result, indent=1))
    return result


def _inject(kind: str, cfg: ChaosConfig, driver: Driver, redis: ThrowawayRedis, server: Server,
            on_server: dict[str, int]) -> Fault:  # fmt: skip
    if kind == "socket_abort":
        a = driver.send(cmd="abort", count=cfg.abort_size)
        return Fault(kind, a["t"], a["t"], a["devices"])
    if kind == "reload":
        a = driver.send(cmd="reload", count=cfg.reloads)
        return Fault(kind, a["t"], a["t"], a["devices"])
    if kind == "second_tab":
        a = driver.send(cmd="tab2", count=cfg.second_tabs)
        return Fault(kind, a["t"], a["t"], a["devices"])
    if kind == "close_leader":
        a = driver.send(cmd="close_leader")
        return Fault("second_tab", a["t"], a["t"], a["devices"])
    if kind == "redis_restart":
        start = time.time()
        redis.kill()  # SIGKILL, no persistence: every group membership is gone
        time.sleep(cfg.redis_down)
        redis.start()
        return Fault(kind, start, time.time())
    if kind == "uvicorn_kill":
        start = time.time()
        server.kill()  # SIGKILL
        server.start(timeout=120)  # returns once it listens again (slow on a loaded machine)
        return Fault(kind, start, time.time(), [n for n, port in on_server.items() if port == server.port])
    raise ValueError(kind)


def evaluate(report: dict[str, Any], faults: list[Fault], devices: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Lost, duplicates, missing receipts and catch-up, per phone, against the database."""
    from apps.realtime.models import Event, Receipt

    users = [d["user_id"] for d in devices.values()]
    stream: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for row in Event.objects.filter(user_id__in=users).values("user_id", "uid", "type", "created_at"):
        stream[row["user_id"]].append((str(row["uid"]), row["type"], row["created_at"].timestamp()))
    receipts = {
        (str(row["event_uid"]), str(row["device_id"]))
        for row in Receipt.objects.filter(delivered_at__isnull=False).values("event_uid", "device_id")
    }
    per_device: dict[str, dict[str, Any]] = {}
    claimed_at: dict[str, dict[str, float]] = {}
    reports = {r["name"]: r for r in report["devices"]}
    for record in report["devices"]:
        name, user_id = record["name"], record["user_id"]
        claims = record["claims"]
        ids = [c[0] for c in claims]
        claimed_at[name] = {c[0]: c[3] for c in claims}
        expected = {uid for uid, _, _ in stream[user_id]}
        tab_dups = sum(len(t["shown"]) - len({s[0] for s in t["shown"]}) for t in record["tabs"])
        offers = [uid for uid, type_, _ in stream[user_id] if type_ == OFFERED]
        per_device[name] = {
            "expected": len(expected),
            "lost": len(expected - set(ids)),
            "duplicates": len(ids) - len(set(ids)) + tab_dups,
            "unexpected": len(set(ids) - expected),
            "missing_receipts": sum(1 for uid in offers if (uid, record["device"]) not in receipts),
            "tabs": len(record["tabs"]),
        }
    catch_up: dict[str, float] = {}
    worst: dict[str, dict[str, Any]] = {}
    for fault in faults:
        scope = fault.devices or list(devices)
        value = 0.0
        for name in scope:
            user_id = devices[name]["user_id"]
            for uid, _type, created in stream[user_id]:
                if fault.start <= created <= fault.end + 2.0 and uid in claimed_at[name]:
                    late = claimed_at[name][uid] - max(created, fault.end)
                    value = max(value, late)
                    if late > worst.get(fault.kind, {}).get("late_s", 0.0):
                        states = [
                            [round(t - fault.end, 2), state]
                            for tab in reports[name]["tabs"]
                            for t, state in tab.get("states", [])
                            if fault.start - 1 <= t <= claimed_at[name][uid] + 1
                        ]
                        worst[fault.kind] = {
                            "device": name,
                            "event": uid,
                            "late_s": round(late, 3),
                            "fault_took_s": round(fault.end - fault.start, 2),
                            "created_after_end_s": round(created - fault.end, 2),
                            "states_after_end_s": sorted(states),
                        }
        catch_up[fault.kind] = round(max(catch_up.get(fault.kind, 0.0), value), 3)
    totals = {
        k: sum(d[k] for d in per_device.values()) for k in ("lost", "duplicates", "missing_receipts", "unexpected")
    }
    return {
        "clients": len(devices),
        "events_expected": sum(d["expected"] for d in per_device.values()),
        **totals,
        "catch_up_seconds": catch_up,
        "worst_catch_up": worst,
        "per_device": per_device,
    }


def log_summary(work: Path) -> dict[str, int]:
    """Counts in the servers' logs: tracebacks, crashed ASGI apps, layer warnings."""
    text = "".join(p.read_text(errors="replace") for p in sorted(work.glob("uvicorn-*.log")))
    return {
        "tracebacks": text.count("Traceback (most recent call last)"),
        "asgi_exceptions": text.count("Exception in ASGI application"),
        "errors": sum(1 for line in text.splitlines() if " ERROR " in line),
        "layer_down_warnings": text.count("channel layer unavailable ("),
        "layer_back_warnings": text.count("channel layer back after"),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["emit"]:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "durham_coresponse.settings")
        import django

        django.setup()
        run_emitter(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        raise SystemExit("usage: python -m tests.realtime.chaos emit PLAN INDEX COUNT OUT")
