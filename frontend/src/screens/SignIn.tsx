import { useState } from "preact/hooks";
import { ApiError, NetworkError } from "../lib/api";
import { signIn } from "../lib/session";

export function SignIn({ notice }: { notice?: string | undefined }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await signIn(username.trim(), password);
    } catch (err) {
      if (err instanceof ApiError) {
        setError(err.message || "Sign-in failed.");
        setFieldErrors(err.fieldErrors);
      } else if (err instanceof NetworkError) {
        setError("Cannot reach the server. Check the connection and try again.");
      } else {
        setError("Sign-in failed. Please try again.");
      }
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  const userErr = fieldErrors.username?.join(" ");
  const passErr = fieldErrors.password?.join(" ");

  return (
    <section class="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title" tabIndex={-1}>
        Sign in
      </h1>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p class="form-error" role="alert" id="signin-error">
          {error}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
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
      <p class="hint">Use your own account. Shared logins are not allowed, also on team phones.</p>
    </section>
  );
}
