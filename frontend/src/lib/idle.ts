/**
 * Idle detection for the automatic lock (CJIS: lock after 30 minutes without use).
 *
 * Only the person's own input counts: pointer, key and touch events. Timers, pushes and socket
 * traffic do not. The timer re-checks the wall clock when it fires and when the page comes back
 * to the foreground, because a phone that sleeps pauses JavaScript timers: a phone put away for an
 * hour must lock the moment it is woken, not 30 minutes later.
 */

// `input` covers typing that sends no key events (autofill, dictation, IME); `wheel` reading on a desktop.
export const INPUT_EVENTS = ["pointerdown", "keydown", "touchstart", "input", "wheel"] as const;

export interface IdleTimerOptions {
  timeoutMs: number;
  onIdle: () => void;
  now?: () => number;
  /** Where input is listened for (the document in the app). */
  target?: Pick<EventTarget, "addEventListener" | "removeEventListener">;
}

export class IdleTimer {
  private timeoutMs: number;
  private lastInput: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private readonly now: () => number;
  private readonly target: IdleTimerOptions["target"];
  private readonly onIdle: () => void;
  private readonly onInput = () => this.touch();
  private readonly onVisible = () => {
    if (typeof document === "undefined" || document.visibilityState === "visible") this.check();
  };

  constructor(o: IdleTimerOptions) {
    this.timeoutMs = o.timeoutMs;
    this.onIdle = o.onIdle;
    this.now = o.now ?? (() => Date.now());
    this.target = o.target;
    this.lastInput = this.now();
  }

  /** Starts counting from now (sign-in and unlock are input too). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastInput = this.now();
    for (const type of INPUT_EVENTS) this.target?.addEventListener(type, this.onInput, { capture: true, passive: true });
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.onVisible);
    this.schedule();
  }

  stop(): void {
    this.running = false;
    for (const type of INPUT_EVENTS) this.target?.removeEventListener(type, this.onInput, { capture: true });
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.onVisible);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The person did something. Cheap: the pending timer re-checks the time when it fires. */
  touch(): void {
    this.lastInput = this.now();
  }

  /** The server's idle timeout (auth/session's idle_timeout_seconds). */
  setTimeoutMs(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0 || ms === this.timeoutMs) return;
    this.timeoutMs = ms;
    if (this.running) this.check();
  }

  get timeout(): number {
    return this.timeoutMs;
  }

  /** When the person last touched the app (ms). */
  get lastInputAt(): number {
    return this.lastInput;
  }

  /** Input within the last `ms` milliseconds. */
  activeWithin(ms: number): boolean {
    return this.now() - this.lastInput < ms;
  }

  /** Fires onIdle if the timeout has passed, else re-arms for the rest of it. */
  check(): void {
    if (!this.running) return;
    if (this.now() - this.lastInput >= this.timeoutMs) {
      this.stop();
      this.onIdle();
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    const left = Math.max(0, this.timeoutMs - (this.now() - this.lastInput));
    // +50 ms so the re-check lands after the deadline, not a hair before it.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.check();
    }, left + 50);
  }
}

// ---- Recent input, for telling the person's requests from automatic ones -----------------------

let lastUserInput = 0;

/** Listens for input on `target` for the page's lifetime (set up once at start). */
export function trackUserInput(target: Pick<EventTarget, "addEventListener">, now: () => number = () => Date.now()): void {
  const mark = () => {
    lastUserInput = now();
  };
  for (const type of INPUT_EVENTS) target.addEventListener(type, mark, { capture: true, passive: true });
}

/** The person touched the app within the last `ms` milliseconds. */
export function userActiveWithin(ms: number, now: number = Date.now()): boolean {
  return now - lastUserInput < ms;
}

/** For tests. */
export function markUserInput(at: number = Date.now()): void {
  lastUserInput = at;
}
