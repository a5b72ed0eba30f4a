import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, NetworkError, api, authErrorMessage, endpoints, type DeviceSession, type Me, type MfaStatus, type RevokeResult } from "../../lib/api";
import { startEnrollment } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { EnrollAuthenticator, RecoveryCodes } from "./Mfa";
import { PhoneAlerts } from "./PhoneAlerts";

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Roles that may revoke a lost phone (the server checks too). */
const REVOKERS = ["supervisor", "admin"];

function describe(err: unknown): string {
  if (err instanceof ApiError) return authErrorMessage(err);
  if (err instanceof NetworkError) return "Cannot reach the server. Check the connection and try again.";
  return "Something went wrong. Please try again.";
}

/** "My sessions and security": signed-in devices, two-step sign-in, and the lost-phone action. */
export function SecurityScreen({ me }: { me: Me }) {
  return (
    <>
      <section class="card" aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          My sessions and security
        </h1>
        <Sessions />
      </section>
      <TwoStep />
      <PhoneAlerts />
      {me.roles.some((r) => REVOKERS.includes(r)) && <LostPhone me={me} />}
    </>
  );
}

function deviceName(s: DeviceSession): string {
  if (s.label) return s.label;
  const ua = s.user_agent;
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad|iOS/.test(ua) ? "iPhone/iPad" : /Windows/.test(ua) ? "Windows" : /Mac OS/.test(ua) ? "Mac" : /Linux/.test(ua) ? "Linux" : "";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "";
  return [browser, os].filter(Boolean).join(" on ") || "Unknown device";
}

function Sessions() {
  const [items, setItems] = useState<DeviceSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [target, setTarget] = useState<DeviceSession | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  async function load() {
    try {
      setItems(await endpoints.sessions());
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  function ask(s: DeviceSession) {
    setTarget(s);
    setMessage(null);
    dialog.current?.showModal();
  }

  async function confirm() {
    if (!target) return;
    setBusy(true);
    try {
      await endpoints.endSession(target.id);
      setMessage(`Signed out ${deviceName(target)}.`);
      dialog.current?.close();
      await load();
    } catch (e) {
      setError(describe(e));
      dialog.current?.close();
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h2 id="sessions-title">Signed-in devices</h2>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {message && (
        <p class="notice notice-ok" role="status">
          {message}
        </p>
      )}
      {items === null && !error && <p aria-busy="true">Loading…</p>}
      {items && items.length === 0 && <p class="empty">No active sessions.</p>}
      {items && items.length > 0 && (
        <ul class="session-list" aria-labelledby="sessions-title">
          {items.map((s) => (
            <li key={String(s.id)} class="session-item">
              <p class="session-name">
                <strong>{deviceName(s)}</strong>
                {s.current && <span class="pill pill-on">This device</span>}
              </p>
              <p class="muted">
                Last active {s.last_activity_at ? formatDayTime(s.last_activity_at) : "unknown"} · signed in {formatDayTime(s.created_at)}
                {s.ip ? ` · ${s.ip}` : ""}
              </p>
              {!s.current && (
                <button type="button" class="btn btn-secondary" onClick={() => ask(s)}>
                  Sign out this device
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <p class="hint">To sign out the phone in your hand, use Sign out at the top.</p>
      <dialog ref={dialog} aria-labelledby="end-title" aria-describedby="end-desc">
        <h2 id="end-title">Sign out this device?</h2>
        <p id="end-desc">
          {target ? deviceName(target) : "The device"} will be signed out at once. Work not yet sent from it stays on that device until
          you sign in there again.
        </p>
        <div class="dialog-actions">
          <button type="button" class="btn btn-danger" onClick={() => void confirm()} disabled={busy}>
            Sign out device
          </button>
          <button type="button" class="btn btn-secondary" onClick={() => dialog.current?.close()} autofocus>
            Cancel
          </button>
        </div>
      </dialog>
    </>
  );
}

type TwoStepMode = { kind: "idle" } | { kind: "codes"; codes: string[] } | { kind: "replace"; password: string };

function TwoStep() {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [mode, setMode] = useState<TwoStepMode>({ kind: "idle" });
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);

  async function load() {
    try {
      setStatus(await endpoints.mfaStatus());
    } catch (e) {
      setError(describe(e));
    }
  }
  useEffect(() => {
    void load();
  }, []);

  async function newCodes(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const answer = await endpoints.recoveryCodes(password);
      setMode({ kind: "codes", codes: answer.recovery_codes });
    } catch (err) {
      setError(err instanceof ApiError && err.status === 400 ? err.fieldErrors.password?.join(" ") || err.message : describe(err));
    } finally {
      setPassword("");
      setBusy(false);
    }
  }

  function replace() {
    if (!password) {
      setError("Enter your password first.");
      return;
    }
    setError(null);
    setMessage(null);
    setMode({ kind: "replace", password });
    setPassword("");
  }

  function done(text: string) {
    setMode({ kind: "idle" });
    setMessage(text);
    void load();
  }

  if (mode.kind === "codes") {
    return (
      <section class="card" aria-labelledby="recovery-title">
        <RecoveryCodes codes={mode.codes} headingLevel={2} onSaved={() => done("New recovery codes saved; the old ones no longer work.")} />
      </section>
    );
  }
  if (mode.kind === "replace") {
    return (
      <section class="card" aria-labelledby="enroll-title">
        <EnrollAuthenticator
          title="Replace your authenticator"
          intro="Scan the new key with the authenticator app you want to use from now on. The old one stops working once you confirm."
          start={() => startEnrollment(mode.password)}
          onConfirmed={(codes) => setMode({ kind: "codes", codes })}
          onCancel={() => done("Your authenticator was not changed.")}
          headingLevel={2}
        />
      </section>
    );
  }

  return (
    <section class="card" aria-labelledby="twostep-title">
      <h2 id="twostep-title">Two-step sign-in</h2>
      {status && (
        <p>
          {status.enrolled
            ? `Authenticator set up${status.confirmed_at ? ` on ${formatDayTime(status.confirmed_at)}` : ""}. Recovery codes left: ${status.recovery_codes_left}.`
            : "No authenticator is set up."}
        </p>
      )}
      {message && (
        <p class="notice notice-ok" role="status">
          {message}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert" id="twostep-error">
          {error}
        </p>
      )}
      <form onSubmit={newCodes} noValidate>
        <div class="field">
          <label for="twostep-password">Your password (to confirm it is you)</label>
          <input
            id="twostep-password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "twostep-error" : undefined}
          />
        </div>
        <div class="dialog-actions">
          <button type="submit" class="btn btn-primary" disabled={busy || !password}>
            New recovery codes
          </button>
          <button type="button" class="btn btn-secondary" onClick={replace} disabled={busy || !password}>
            Replace authenticator
          </button>
        </div>
      </form>
    </section>
  );
}

interface PersonChoice {
  id: number;
  full_name: string;
}

interface ShiftPage {
  results: { members: { id: number; full_name: string }[] }[];
}

/** YYYY-MM-DD of the day `offsetDays` from today in the program's time zone. */
function localDay(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86_400_000);
  return new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

/**
 * Supervisor: a team member lost a phone. The people come from the shift roster (45 days back and
 * ahead); anyone else is revoked in the admin site (Users → revoke devices).
 */
function LostPhone({ me }: { me: Me }) {
  const [people, setPeople] = useState<PersonChoice[] | null>(null);
  const [choice, setChoice] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ name: string; counts: RevokeResult } | null>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    api<ShiftPage>(`/api/v1/shifts/?start=${localDay(-45)}&end=${localDay(45)}&page_size=500`)
      .then((page) => {
        const byId = new Map<number, PersonChoice>();
        for (const shift of page.results) for (const m of shift.members) if (m.id !== me.id) byId.set(m.id, { id: m.id, full_name: m.full_name });
        setPeople([...byId.values()].sort((a, b) => a.full_name.localeCompare(b.full_name)));
      })
      .catch((e: unknown) => setError(describe(e)));
  }, [me.id]);

  const person = people?.find((p) => String(p.id) === choice) ?? null;

  async function revoke() {
    if (!person) return;
    setBusy(true);
    setError(null);
    try {
      const counts = await endpoints.revokeUserDevices(person.id);
      setResult({ name: person.full_name, counts });
      setChoice("");
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
      dialog.current?.close();
    }
  }

  return (
    <section class="card" aria-labelledby="lost-title">
      <h2 id="lost-title">Lost phone</h2>
      <p>
        Signs the person out on every device at once, removes their phones' push subscriptions and revokes the devices. They sign in
        again (with their authenticator) on a new phone.
      </p>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <p class="notice notice-ok" role="status">
          {result.name}: {count(result.counts.sessions_revoked, "session")} signed out,{" "}
          {count(result.counts.push_subscriptions_removed, "push subscription")} removed, {count(result.counts.devices_revoked, "device")}{" "}
          revoked.
        </p>
      )}
      <div class="field">
        <label for="lost-person">Person</label>
        <select id="lost-person" value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)} disabled={!people}>
          <option value="">{people ? "Choose a person" : "Loading…"}</option>
          {people?.map((p) => (
            <option key={p.id} value={String(p.id)}>
              {p.full_name}
            </option>
          ))}
        </select>
      </div>
      <button type="button" class="btn btn-danger" disabled={!person || busy} onClick={() => dialog.current?.showModal()}>
        Revoke all their devices
      </button>
      <p class="hint">The list holds the people on shifts from 45 days ago to 45 days ahead. For anyone else, use the admin site.</p>
      <dialog ref={dialog} aria-labelledby="lost-confirm-title" aria-describedby="lost-confirm-desc">
        <h2 id="lost-confirm-title">Revoke {person?.full_name ?? "this person"}'s devices?</h2>
        <p id="lost-confirm-desc">Every session of this person ends now, on every device, and their phones stop receiving pushes.</p>
        <div class="dialog-actions">
          <button type="button" class="btn btn-danger" onClick={() => void revoke()} disabled={busy}>
            Revoke
          </button>
          <button type="button" class="btn btn-secondary" onClick={() => dialog.current?.close()} autofocus>
            Cancel
          </button>
        </div>
      </dialog>
    </section>
  );
}
