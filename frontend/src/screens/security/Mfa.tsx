import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, signInErrorMessage, type Enrollment, type Me } from "../../lib/api";
import { confirmEnrollment, finishSignIn, startEnrollment } from "../../lib/session";

/** The base32 secret in groups of four, for typing into an authenticator by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, "").match(/.{1,4}/g) ?? []).join(" ");
}

/**
 * The server's QR code (SVG markup) as an image URL. Shown with <img>, never inserted as HTML:
 * an image cannot run script, and the page's CSP needs no inline allowance for it.
 */
export function qrImageSrc(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** First sign-in: set up the authenticator, confirm a code, keep the recovery codes, then go in. */
export function EnrollSignIn({ onRestart }: { onRestart: () => void }) {
  const [done, setDone] = useState<{ codes: string[]; me: Me } | null>(null);
  if (done) {
    return <RecoveryCodes codes={done.codes} onSaved={() => void finishSignIn(done.me)} headingLevel={1} />;
  }
  return (
    <EnrollAuthenticator
      title="Set up two-step sign-in"
      intro="Every account needs an authenticator app (for example Google Authenticator, Microsoft Authenticator or 1Password) as a second step when signing in."
      start={() => startEnrollment()}
      onConfirmed={(codes, me) => setDone({ codes, me })}
      onExpired={onRestart}
      headingLevel={1}
    />
  );
}

export function EnrollAuthenticator({
  title,
  intro,
  start,
  onConfirmed,
  onExpired,
  onCancel,
  headingLevel,
}: {
  title: string;
  intro: string;
  start: () => Promise<Enrollment>;
  onConfirmed: (codes: string[], me: Me) => void;
  onExpired?: () => void;
  onCancel?: () => void;
  headingLevel: 1 | 2;
}) {
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const startRef = useRef(start);

  useEffect(() => {
    let alive = true;
    startRef
      .current()
      .then((e) => alive && setEnrollment(e))
      .catch((err: unknown) => {
        if (!alive) return;
        if (err instanceof ApiError && err.code === "mfa_not_pending" && onExpired) onExpired();
        else setLoadError(signInErrorMessage(err));
      });
    return () => {
      alive = false;
    };
  }, []);

  async function onSubmit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await confirmEnrollment(code.trim());
      onConfirmed(answer.recovery_codes, answer.me);
    } catch (err) {
      if (err instanceof ApiError && err.code === "mfa_not_pending" && onExpired) {
        onExpired();
        return;
      }
      const fromField = err instanceof ApiError && err.status === 400 ? err.fieldErrors.code?.join(" ") : undefined;
      setError(fromField || signInErrorMessage(err));
      setCode("");
    } finally {
      setBusy(false);
    }
  }

  const H = headingLevel === 1 ? "h1" : "h2";
  return (
    <div class="enroll">
      <H id={headingLevel === 1 ? "signin-title" : "enroll-title"} tabIndex={-1}>
        {title}
      </H>
      <p>{intro}</p>
      {loadError && (
        <p class="form-error" role="alert">
          {loadError}
        </p>
      )}
      {!enrollment && !loadError && <p aria-busy="true">Preparing your authenticator key…</p>}
      {enrollment && (
        <>
          <ol class="enroll-steps">
            <li>
              Open your authenticator app and scan this code:
              <img class="qr" src={qrImageSrc(enrollment.qr_svg)} width={200} height={200} alt="QR code with your authenticator key" />
            </li>
            <li>
              Cannot scan? Add an account by hand with this key:
              <code class="secret" data-secret={enrollment.secret}>
                {groupSecret(enrollment.secret)}
              </code>
            </li>
            <li>Enter the 6-digit code the app shows.</li>
          </ol>
          {error && (
            <p class="form-error" role="alert" id="enroll-error">
              {error}
            </p>
          )}
          <form onSubmit={onSubmit} noValidate>
            <div class="field">
              <label for="enroll-code">6-digit code from your authenticator</label>
              <input
                id="enroll-code"
                name="code"
                autocomplete="one-time-code"
                inputMode="numeric"
                maxLength={6}
                required
                value={code}
                onInput={(e) => setCode((e.target as HTMLInputElement).value)}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? "enroll-error" : undefined}
              />
            </div>
            <button type="submit" class="btn btn-primary btn-block" disabled={busy || code.trim().length < 6}>
              {busy ? "Checking…" : "Confirm"}
            </button>
          </form>
        </>
      )}
      {onCancel && (
        <button type="button" class="btn btn-secondary" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}

/** Recovery codes, shown once; the person confirms they saved them. */
export function RecoveryCodes({ codes, onSaved, headingLevel }: { codes: string[]; onSaved: () => void; headingLevel: 1 | 2 }) {
  const H = headingLevel === 1 ? "h1" : "h2";
  return (
    <div class="recovery">
      <H id={headingLevel === 1 ? "signin-title" : "recovery-title"} tabIndex={-1}>
        Your recovery codes
      </H>
      <p>
        Each code signs you in once if you lose your authenticator. Write them down or store them in a password manager now:
        they are shown only this time.
      </p>
      <ul class="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="button" class="btn btn-primary btn-block" onClick={onSaved}>
        I have saved these
      </button>
    </div>
  );
}
