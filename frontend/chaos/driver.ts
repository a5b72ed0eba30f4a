/**
 * The chaos driver: many phones running the PWA's real event client (src/lib/events.ts, with its
 * real IndexedDB ledger, pending receipts and cursor store on fake-indexeddb, and its tab
 * coordination) against real servers, for tests/realtime/test_chaos.py and `make bench`.
 *
 *   node node_modules/.chaos/driver.mjs plan.json     (built by scripts/build-chaos-driver.mjs)
 *
 * plan.json: {"devices": [{"name", "user_id", "session", "port", "device"}]}. One "device" is one
 * browser profile of one user (its own IndexedDB databases and tab link); it starts with one tab and
 * may get a second. Commands arrive as JSON lines on stdin, answers leave as JSON lines on stdout:
 *
 *   {"cmd": "start"}                  start every device; answers {"ok": "start", "welcomed": n} once all are open
 *   {"cmd": "abort", "count": n}      drop n random open sockets without a close frame (TCP reset)
 *   {"cmd": "reload", "count": n}     reload n random devices (stop the leading tab, start a new one)
 *   {"cmd": "tab2", "count": n}       open a second tab on n random devices
 *   {"cmd": "close_leader"}           close the leading tab of every device that has two
 *   {"cmd": "status"}                 {"ok": "status", "open": n, "leaders": n, "pending_receipts": n}
 *   {"cmd": "report", "out": path}    write every device's record to `path`
 *   {"cmd": "quit"}
 *
 * Each answer carries "t": the wall-clock time (s) when the command took effect. The record of a
 * device: "claims" (the events its ledger handed to the app: [id, cursor, type, t]) and, per tab,
 * "shown" (the events that tab's app saw) — so duplicates can be counted at both levels.
 */
import "fake-indexeddb/auto";
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { ApiError, type EventPage } from "../src/lib/api";
import { openAppDB } from "../src/lib/db";
import { eventStores, type EventLedger } from "../src/lib/event-store";
import { EventClient, type ReceiptPost, type SocketLike } from "../src/lib/events";
import { memoryTabs, type TabLink } from "../src/lib/tabs";
import { cursorStore, type CursorStore } from "../src/lib/userdata";

interface DeviceSpec {
  name: string;
  user_id: number;
  session: string;
  port: number;
  device: string;
}

type Record3 = [string, number, string, number];

interface Tab {
  client: EventClient;
  link: TabLink;
  socket: WebSocket | null;
  shown: Record3[];
  /** [t, connection state] at every change: for reading a slow catch-up. */
  states: Array<[number, string]>;
  closed: boolean;
}

const CSRF = "chaosChaosChaosChaosChaosChaos32"; // 32 letters: a valid unmasked CSRF secret
const now = () => Date.now() / 1000;

class Device {
  readonly tabs: Tab[] = [];
  readonly claims: Record3[] = [];
  readonly browser = memoryTabs();
  readonly cursors: CursorStore;
  readonly ledger: EventLedger;
  readonly receipts;
  readonly base: string;

  constructor(readonly spec: DeviceSpec) {
    const db = openAppDB(`coresponse-${spec.name}`);
    this.cursors = cursorStore(() => db);
    const stores = eventStores(`coresponse-events-${spec.name}`);
    this.receipts = stores.receipts;
    // The ledger as the app has it, recording each claim that hands an event to the app.
    this.ledger = {
      ...stores.ledger,
      claim: async (userId, id, cursor) => {
        const fresh = await stores.ledger.claim(userId, id, cursor);
        if (fresh) this.claims.push([id, cursor, "", now()]);
        return fresh;
      },
    };
    this.base = `http://127.0.0.1:${spec.port}`;
  }

  private headers(): Record<string, string> {
    return { Cookie: `sessionid=${this.spec.session}; csrftoken=${CSRF}`, Origin: this.base, Referer: `${this.base}/` };
  }

  private async fetchPage(after: number): Promise<EventPage> {
    const r = await fetch(`${this.base}/api/v1/events/?after=${after}`, { headers: this.headers() });
    const body = (await r.json().catch(() => ({}))) as EventPage & { message?: string; code?: string };
    if (!r.ok) throw new ApiError(r.status, body.message ?? r.statusText, {}, undefined, body.code ?? null);
    return body;
  }

  private async postReceipt(receipt: ReceiptPost): Promise<unknown> {
    const r = await fetch(`${this.base}/api/v1/events/receipts/`, {
      method: "POST",
      headers: { ...this.headers(), "Content-Type": "application/json", "X-CSRFToken": CSRF },
      body: JSON.stringify(receipt),
    });
    const body = (await r.json().catch(() => ({}))) as { message?: string; code?: string };
    if (!r.ok) throw new ApiError(r.status, body.message ?? r.statusText, {}, undefined, body.code ?? null);
    return body;
  }

  openTab(): Tab {
    const link = this.browser.tab();
    const tab: Tab = { client: null as unknown as EventClient, link, socket: null, shown: [], states: [], closed: false };
    tab.client = new EventClient({
      userId: this.spec.user_id,
      cursors: this.cursors,
      fetchPage: (after) => this.fetchPage(after),
      postReceipt: (r) => this.postReceipt(r),
      onAuthLost: () => log({ warn: "auth_lost", device: this.spec.name }),
      url: `ws://127.0.0.1:${this.spec.port}/ws/events/`,
      socketFactory: (url) => {
        const ws = new WebSocket(url, { headers: { Cookie: `sessionid=${this.spec.session}`, Origin: this.base } });
        tab.socket = ws;
        return ws as unknown as SocketLike;
      },
      device: async () => this.spec.device,
      ledger: this.ledger,
      receipts: this.receipts,
      tabs: link,
    });
    tab.client.subscribe((e) => {
      tab.shown.push([e.id, e.cursor, e.type, now()]);
      const claim = this.claims.findLast((c) => c[0] === e.id);
      if (claim && !claim[2]) claim[2] = e.type;
    });
    tab.client.state.subscribe((state) => void tab.states.push([now(), `${state}${tab.client.isLeader ? "" : " (follower)"}`]));
    this.tabs.push(tab);
    void tab.client.start();
    return tab;
  }

  get live(): Tab[] {
    return this.tabs.filter((t) => !t.closed);
  }

  get leader(): Tab | undefined {
    return this.live.find((t) => t.client.isLeader);
  }

  closeTab(tab: Tab): void {
    tab.closed = true;
    tab.client.stop();
  }

  record() {
    return {
      name: this.spec.name,
      user_id: this.spec.user_id,
      device: this.spec.device,
      claims: this.claims,
      tabs: this.tabs.map((t) => ({ shown: t.shown, states: t.states, closed: t.closed })),
    };
  }
}

function log(obj: object): void {
  process.stdout.write(`${JSON.stringify({ t: now(), ...obj })}\n`);
}

function pick<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

async function main(): Promise<void> {
  const planPath = process.argv[2];
  if (!planPath) throw new Error("usage: driver.mjs plan.json");
  const plan = JSON.parse(readFileSync(planPath, "utf8")) as { devices: DeviceSpec[] };
  const devices = plan.devices.map((d) => new Device(d));
  const open = () => devices.filter((d) => d.leader?.client.state.value === "open");

  const commands = createInterface({ input: process.stdin });
  for await (const line of commands) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as { cmd: string; count?: number; out?: string };
    switch (cmd.cmd) {
      case "start": {
        for (const [i, d] of devices.entries()) {
          d.openTab();
          if (i % 50 === 49) await new Promise((r) => setTimeout(r, 50)); // do not storm the servers
        }
        const deadline = Date.now() + 120_000;
        while (open().length < devices.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        log({ ok: "start", welcomed: open().length });
        break;
      }
      case "abort": {
        const victims = pick(open(), cmd.count ?? 1);
        for (const d of victims) d.leader?.socket?.terminate(); // no close frame: the server sees a reset
        log({ ok: "abort", devices: victims.map((d) => d.spec.name) });
        break;
      }
      case "reload": {
        const victims = pick(devices.filter((d) => d.live.length === 1), cmd.count ?? 1);
        for (const d of victims) {
          const tab = d.leader;
          if (tab) d.closeTab(tab);
          d.openTab();
        }
        log({ ok: "reload", devices: victims.map((d) => d.spec.name) });
        break;
      }
      case "tab2": {
        const victims = pick(devices.filter((d) => d.live.length === 1), cmd.count ?? 1);
        for (const d of victims) d.openTab();
        log({ ok: "tab2", devices: victims.map((d) => d.spec.name) });
        break;
      }
      case "close_leader": {
        const victims = devices.filter((d) => d.live.length > 1);
        for (const d of victims) {
          const tab = d.leader;
          if (tab) d.closeTab(tab);
        }
        log({ ok: "close_leader", devices: victims.map((d) => d.spec.name) });
        break;
      }
      case "status": {
        let pending = 0;
        for (const d of devices) pending += (await d.receipts.list(d.spec.user_id)).length;
        log({ ok: "status", open: open().length, leaders: devices.filter((d) => d.leader).length, pending_receipts: pending });
        break;
      }
      case "report": {
        writeFileSync(cmd.out ?? "report.json", JSON.stringify({ devices: devices.map((d) => d.record()) }));
        log({ ok: "report" });
        break;
      }
      case "quit": {
        for (const d of devices) for (const t of d.live) d.closeTab(t);
        log({ ok: "quit" });
        process.exit(0);
      }
      default:
        log({ error: `unknown command ${cmd.cmd}` });
    }
  }
}

main().catch((e: unknown) => {
  log({ error: String(e instanceof Error ? (e.stack ?? e.message) : e) });
  process.exit(1);
});
