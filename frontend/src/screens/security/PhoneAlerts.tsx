import { useEffect, useState } from "preact/hooks";
import type { PhoneOutput } from "../../generated/api";
import { ApiError, NetworkError, api } from "../../lib/api";
import { formatDayTime } from "../../lib/time";

const PHONE_URL = "/api/v1/me/phone/";

function describe(err: unknown): string {
  if (err instanceof ApiError) return err.fieldErrors.number?.join(" ") || err.fieldErrors.code?.join(" ") || err.message;
  if (err instanceof NetworkError) return "Cannot reach the server. Check the connection and try again.";
  return "Something went wrong. Please try again.";
}

/**
 * "Phone for call alerts": the number texts and calls go to when an offer is not seen in the app.
 * A new number is used only after the code texted to it is typed back (the old one stays until then).
 */
export function PhoneAlerts() {
  const [state, setState] = useState<PhoneOutput | null>(null);
  const [number, setNumber] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<PhoneOutput>(PHONE_URL)
      .then(setState)
      .catch((e: unknown) => setError(describe(e)));
  }, []);

  async function run(action: () => Promise<PhoneOutput | null>, done: string) {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const next = await action();
      setState(next ?? (await api<PhoneOutput>(PHONE_URL)));
      setMessage(done);
    } catch (e) {
      setError(describe(e));
      if (e instanceof ApiError && e.status === 409) setState(await api<PhoneOutput>(PHONE_URL).catch(() => state));
    } finally {
      setBusy(false);
    }
  }

  function sendCode(e: Event) {
    e.preventDefault();
    void run(async () => {
      const next = await api<PhoneOutput>(PHONE_URL, { method: "POST", body: { number }, background: false });
      setNumber("");
      return next;
    }, "We texted you a 6-digit code. Type it below.");
  }

  function confirm(e: Event) {
    e.preventDefault();
    void run(async () => {
      const next = await api<PhoneOutput>(`${PHONE_URL}confirm/`, { method: "POST", body: { code: code.trim() }, background: false });
      setCode("");
      return next;
    }, "Number verified. Call alerts will come to it.");
  }

  function remove() {
    void run(async () => {
      await api<null>(PHONE_URL, { method: "DELETE", background: false });
      return null;
    }, "Number removed. You will get no texts or calls.");
  }

  return (
    <section class="card" aria-labelledby="phone-title">
      <h2 id="phone-title">Phone for call alerts</h2>
      <p>
        If an offer is not seen in the app, we text this number after 40 seconds and call it after 90. Reply 1 to accept or 2 to
        decline. The text never says where or who.
      </p>
      {state && !state.sms_configured && (
        <p class="notice" role="status">
          Texts and calls are not set up on this server yet, so a number cannot be verified.
        </p>
      )}
      {state && (
        <p data-testid="phone-status">
          {state.number ? (
            <>
              <strong>{state.number}</strong>{" "}
              {state.verified ? (
                <span class="pill pill-on">Verified{state.verified_at ? ` ${formatDayTime(state.verified_at)}` : ""}</span>
              ) : (
                <span class="pill pill-off">Not verified</span>
              )}
              {state.sms_opted_out && <span class="pill pill-off"> Texts stopped (STOP): text START to resume</span>}
            </>
          ) : (
            "No number yet: alerts reach you only in the app."
          )}
        </p>
      )}
      {message && (
        <p class="notice notice-ok" role="status">
          {message}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert" id="phone-error">
          {error}
        </p>
      )}
      {state?.pending_number && (
        <form onSubmit={confirm} noValidate>
          <div class="field">
            <label for="phone-code">Code texted to {state.pending_number}</label>
            <input
              id="phone-code"
              inputMode="numeric"
              autocomplete="one-time-code"
              maxLength={6}
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
              aria-describedby={error ? "phone-error" : undefined}
            />
          </div>
          <button type="submit" class="btn btn-primary" disabled={busy || code.trim().length < 6}>
            Confirm number
          </button>
        </form>
      )}
      <form onSubmit={sendCode} noValidate>
        <div class="field">
          <label for="phone-number">{state?.number ? "New mobile number" : "Mobile number"}</label>
          <input
            id="phone-number"
            type="tel"
            autocomplete="tel"
            placeholder="(919) 555-0142"
            value={number}
            onInput={(e) => setNumber((e.target as HTMLInputElement).value)}
            aria-describedby={error ? "phone-error" : undefined}
          />
        </div>
        <div class="dialog-actions">
          <button type="submit" class="btn btn-primary" disabled={busy || !number.trim() || state?.sms_configured === false}>
            Text me a code
          </button>
          {state?.number && (
            <button type="button" class="btn btn-secondary" onClick={remove} disabled={busy}>
              Remove number
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
