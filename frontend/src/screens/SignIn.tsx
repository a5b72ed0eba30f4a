import { useState } from "preact/hooks";
import { ApiError, signInErrorMessage } from "../lib/api";
import { signIn, verifyMfa } from "../lib/session";
import { Lazy } from "../ui/Lazy";

type Step = { kind: "password" } | { kind: "code"; recovery: boolean } | { kind: "enroll" };

export const loadEnrollSignIn = () => import("./security/Mfa").then((m) => m.EnrollSignIn);

export function SignIn({ notice }: { notice?: string | undefined }) {
  const [step, setStep] = useState<Step>({ kind: "password" });
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  function restart(message: string | null) {
    setStep({ kind: "password" });
    setCode("");
    setPassword("");
    setInfo(message);
  }

  async function onPassword(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setInfo(null);
    setFieldErrors({});
    try {
      const next = await signIn(username.trim(), password);
      if (next === "mfa_required") setStep({ kind: "code", recovery: false });
      else if (next === "mfa_enrollment_required") setStep({ kind: "enroll" });
    } catch (err) {
      setError(signInErrorMessage(err));
      if (err instanceof ApiError) setFieldErrors(err.fieldErrors);
    } finally {
      setPassword("");
      setBusy(false);
    }
  }

  async function onCode(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await verifyMfa(code.trim());
    } catch (err) {
      if (err instanceof ApiError && err.code === "mfa_not_pending") {
        restart("The sign-in took too long. Enter your password again.");
      } else {
        setError(err instanceof ApiError && err.status === 400 ? codeError(err) : signInErrorMessage(err));
        setCode("");
      }
    } finally {
      setBusy(false);
    }
  }

  if (step.kind === "enroll") {
    return (
      <section class="card signin" aria-labelledby="signin-title">
        <Lazy load={loadEnrollSignIn} props={{ onRestart: () => restart("The sign-in took too long. Enter your password again.") }} />
      </section>
    );
  }

  const userErr = fieldErrors.username?.join(" ");
  const passErr = fieldErrors.password?.join(" ");
  const title = step.kind === "code" ? "Two-step sign-in" : "Sign in";

  return (
    <section class="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title" tabIndex={-1}>
        {title}
      </h1>
      {notice && step.kind === "password" && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {info && (
        <p class="notice" role="status">
          {info}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert" id="signin-error">
          {error}
        </p>
      )}
      {step.kind === "password" ? (
        <form onSubmit={onPassword} noValidate>
          <div class="field">
            <label for="username">Username</label>
            <input
              id="username"
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              required
              value={username}
              onInput={(e) => setUsername((e.target as HTMLInputElement).value)}
              aria-invalid={userErr ? true : undefined}
              aria-describedby={userErr ? "username-err" : undefined}
            />
            {userErr && (
              <p class="field-error" id="username-err">
                {userErr}
              </p>
            )}
          </div>
          <div class="field">
            <label for="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
              aria-invalid={passErr ? true : undefined}
              aria-describedby={passErr ? "password-err" : undefined}
            />
            {passErr && (
              <p class="field-error" id="password-err">
                {passErr}
              </p>
            )}
          </div>
          <button type="submit" class="btn btn-primary btn-block" disabled={busy || !username || !password}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      ) : (
        <form onSubmit={onCode} noValidate>
          <div class="field">
            <label for="mfa-code">
              {step.recovery ? "Enter one of your recovery codes" : "Enter the 6-digit code from your authenticator"}
            </label>
            <input
              id="mfa-code"
              name="code"
              autocomplete="one-time-code"
              inputMode={step.recovery ? "text" : "numeric"}
              autocapitalize="none"
              spellcheck={false}
              maxLength={step.recovery ? 40 : 6}
              required
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "signin-error" : undefined}
              autofocus
            />
          </div>
          <button type="submit" class="btn btn-primary btn-block" disabled={busy || !code.trim()}>
            {busy ? "Checking…" : "Verify"}
          </button>
          <div class="signin-links">
            <button
              type="button"
              class="btn btn-secondary"
              onClick={() => {
                setStep({ kind: "code", recovery: !step.recovery });
                setCode("");
                setError(null);
              }}
            >
              {step.recovery ? "Use the authenticator code" : "Use a recovery code"}
            </button>
            <button type="button" class="btn btn-secondary" onClick={() => restart(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <p class="hint">Use your own account. Shared logins are not allowed, also on team phones.</p>
    </section>
  );
}

function codeError(err: ApiError): string {
  const fromField = err.fieldErrors.code?.join(" ");
  return fromField || err.message || "That code did not work. Try the current one.";
}
