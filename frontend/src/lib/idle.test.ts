import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdleTimer, markUserInput, trackUserInput, userActiveWithin } from "./idle";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-01-05T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

function timer(timeoutMs = 30 * 60_000) {
  const onIdle = vi.fn();
  const target = new EventTarget();
  const t = new IdleTimer({ timeoutMs, onIdle, target });
  return { t, onIdle, target };
}

describe("IdleTimer", () => {
  it("locks after 30 minutes without input, not a moment before", () => {
    const { t, onIdle } = timer();
    t.start();
    vi.advanceTimersByTime(30 * 60_000 - 1_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_100);
    expect(onIdle).toHaveBeenCalledTimes(1);
    // Stopped after firing: nothing more until started again.
    vi.advanceTimersByTime(60 * 60_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it.each(["pointerdown", "keydown", "touchstart", "input", "wheel"])("%s postpones the lock", (type) => {
    const { t, onIdle, target } = timer();
    t.start();
    vi.advanceTimersByTime(20 * 60_000);
    target.dispatchEvent(new Event(type));
    vi.advanceTimersByTime(20 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(10 * 60_000 + 100);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("other events (scroll, messages) do not count as use", () => {
    const { t, onIdle, target } = timer(60_000);
    t.start();
    vi.advanceTimersByTime(30_000);
    target.dispatchEvent(new Event("scroll"));
    target.dispatchEvent(new Event("message"));
    vi.advanceTimersByTime(30_100);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("locks at once when a phone that slept past the timeout comes back to the foreground", () => {
    const { t, onIdle } = timer();
    t.start();
    // Timers did not run while the phone slept; only the wall clock moved.
    vi.setSystemTime(Date.now() + 45 * 60_000);
    expect(onIdle).not.toHaveBeenCalled();
    document.dispatchEvent(new Event("visibilitychange"));
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("takes the server's idle timeout", () => {
    const { t, onIdle } = timer();
    t.start();
    t.setTimeoutMs(5_000);
    vi.advanceTimersByTime(5_100);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("stop() removes the listeners and the timer", () => {
    const { t, onIdle, target } = timer(1_000);
    t.start();
    t.stop();
    target.dispatchEvent(new Event("keydown"));
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});

describe("recent input", () => {
  it("is true for a few seconds after a tap, then false", () => {
    const target = new EventTarget();
    trackUserInput(target);
    markUserInput(0);
    expect(userActiveWithin(5_000)).toBe(false);
    target.dispatchEvent(new Event("pointerdown"));
    expect(userActiveWithin(5_000)).toBe(true);
    vi.advanceTimersByTime(5_001);
    expect(userActiveWithin(5_000)).toBe(false);
  });
});
