import { afterEach, describe, expect, it, vi } from "vitest";
import { browserTabs } from "./tabs";

/** A minimal Web Locks manager: exclusive, granted in request order, released when the callback settles. */
function fakeLocks() {
  const queues = new Map<string, Array<() => void>>();
  return {
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void> {
      return new Promise((resolve, reject) => {
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        const run = () => {
          void callback().finally(() => {
            queue.shift();
            queue[0]?.();
            resolve();
          });
        };
        options.signal?.addEventListener("abort", () => {
          const i = queue.indexOf(run);
          if (i > 0) {
            queue.splice(i, 1);
            reject(new DOMException("aborted", "AbortError"));
          }
        });
        queue.push(run);
        if (queue.length === 1) run();
      });
    },
  };
}

afterEach(() => vi.unstubAllGlobals());

describe("browser tabs", () => {
  it("with Web Locks one tab leads at a time; the next leads when it releases; a waiting tab can give up", async () => {
    vi.stubGlobal("navigator", { ...navigator, locks: fakeLocks() });
    const [a, b, c] = [browserTabs(), browserTabs(), browserTabs()];
    const led: string[] = [];
    const releaseA = a.acquire("k", () => void led.push("a"));
    const releaseB = b.acquire("k", () => void led.push("b"));
    const releaseC = c.acquire("k", () => void led.push("c"));
    await Promise.resolve();
    expect(led).toEqual(["a"]);
    releaseC(); // c closes while waiting
    releaseA();
    await new Promise((r) => setTimeout(r, 0));
    expect(led).toEqual(["a", "b"]);
    releaseB();
  });

  it("without Web Locks every tab leads", () => {
    vi.stubGlobal("navigator", { ...navigator, locks: undefined });
    const led: string[] = [];
    browserTabs().acquire("k", () => void led.push("a"));
    browserTabs().acquire("k", () => void led.push("b"));
    expect(led).toEqual(["a", "b"]);
  });

  it("broadcasts to the other tabs, not to the sender", async () => {
    const [a, b] = [browserTabs(), browserTabs()];
    const got: Record<string, unknown[]> = { a: [], b: [] };
    const stopA = a.listen("k2", (m) => got.a!.push(m));
    const stopB = b.listen("k2", (m) => got.b!.push(m));
    a.post("k2", { kind: "event", n: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual({ a: [], b: [{ kind: "event", n: 1 }] });
    stopA();
    stopB();
  });
});
