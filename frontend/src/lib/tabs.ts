/**
 * The tabs of one browser profile: one of them leads (holds the event socket), the others follow
 * (docs/realtime.md, "The client's rules", rule 6).
 *
 * In a browser: leadership is a Web Lock (`navigator.locks`: held until the tab releases it or
 * closes, then granted to the next tab that asked) and messages go over a `BroadcastChannel`
 * (delivered to the other tabs, not to the sender). Without Web Locks every tab leads; the shared
 * ledger (event-store.ts) still hands each event to the app once per device, and the broadcast
 * still shows it in every tab.
 *
 * `memoryTabs()` is the same contract inside one JavaScript realm, for tests and the chaos driver.
 */

export interface TabLink {
  /**
   * Asks to lead for `key`. `onLeader` runs when this tab becomes the leader (at once if nobody
   * leads); leadership lasts until the returned function is called (or the tab closes).
   */
  acquire(key: string, onLeader: () => Promise<void> | void): () => void;
  /** Sends `message` to the other tabs listening on `key` (never to this one). */
  post(key: string, message: unknown): void;
  /** Listens on `key`; returns a function that stops listening. */
  listen(key: string, onMessage: (message: unknown) => void): () => void;
}

interface LockManagerLike {
  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>;
}

/** Web Locks + BroadcastChannel when the browser has them; otherwise a tab that always leads alone. */
export function browserTabs(): TabLink {
  const locks = (globalThis.navigator as (Navigator & { locks?: LockManagerLike }) | undefined)?.locks;
  const channels = new Map<string, BroadcastChannel>();
  const channel = (key: string): BroadcastChannel | null => {
    if (typeof BroadcastChannel === "undefined") return null;
    let ch = channels.get(key);
    if (!ch) {
      ch = new BroadcastChannel(key);
      channels.set(key, ch);
    }
    return ch;
  };
  return {
    acquire(key, onLeader) {
      if (!locks) {
        void onLeader();
        return () => undefined;
      }
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const abort = new AbortController();
      locks
        .request(key, { signal: abort.signal }, async () => {
          await onLeader();
          await held;
        })
        .catch(() => undefined); // aborted before it was granted
      return () => {
        abort.abort();
        release();
      };
    },
    post(key, message) {
      try {
        channel(key)?.postMessage(message);
      } catch {
        /* closed or not cloneable: the other tabs miss one view update */
      }
    },
    listen(key, onMessage) {
      const ch = channel(key);
      if (!ch) return () => undefined;
      const handler = (ev: MessageEvent) => onMessage(ev.data);
      ch.addEventListener("message", handler);
      return () => ch.removeEventListener("message", handler);
    },
  };
}

/** One browser profile in memory: `browser.tab()` is one tab's link. Messages arrive asynchronously. */
export function memoryTabs(): { tab(): TabLink } {
  const queues = new Map<string, Array<{ owner: object; onLeader: () => Promise<void> | void }>>();
  const listeners = new Map<string, Set<{ owner: object; onMessage: (m: unknown) => void }>>();
  const grant = (key: string) => {
    const head = queues.get(key)?.[0];
    if (head) void head.onLeader();
  };
  return {
    tab() {
      const owner = {};
      return {
        acquire(key, onLeader) {
          const queue = queues.get(key) ?? [];
          queues.set(key, queue);
          const entry = { owner, onLeader };
          queue.push(entry);
          if (queue.length === 1) void onLeader();
          return () => {
            const i = queue.indexOf(entry);
            if (i < 0) return;
            queue.splice(i, 1);
            if (i === 0) grant(key);
          };
        },
        post(key, message) {
          const copy = JSON.parse(JSON.stringify(message)) as unknown; // structured clone, roughly
          const set = listeners.get(key) ?? new Set();
          for (const l of set) {
            if (l.owner !== owner) setTimeout(() => set.has(l) && l.onMessage(copy), 0);
          }
        },
        listen(key, onMessage) {
          const set = listeners.get(key) ?? new Set();
          listeners.set(key, set);
          const entry = { owner, onMessage };
          set.add(entry);
          return () => set.delete(entry);
        },
      };
    },
  };
}
