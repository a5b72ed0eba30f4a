import { useState } from "preact/hooks";
import { ApiError, NetworkError, authErrorMessage } from "../lib/api";
import { signOut, unlock, type LockedUser } from "../lib/session";

/**
 * The idle lock: the app's screens are unmounted (nothing behind this is in the page), the
 * outbox and drafts stay in IndexedDB, and the password opens the same session again.
 */
export function LockScreen({ user }: { user: LockedUser }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unlock(password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        setError(err.fieldErrors.password?.join(" ") || err.message || "Wrong password.");
      } else if (err instanceof ApiError) {
        setError(authErrorMessage(err));
      } else if (err instanceof NetworkError) {
        setError("Cannot reach the server. Unlocking needs a connection; your unsent work is safe on this device.");
      } else {
        setError("Could not unlock. Please try again.");
      }
    } finally {
      setPassword("");
      setBusy(false);
    }
  }

  return (
    <section class="card signin lock" aria-labelledby="lock-title">
      <h1 id="lock-title" tabIndex={-1}>
        Locked — enter your password to continue
      </h1>
      <p class="lock-user">
        Signed in as <strong>{user.full_name || user.username}</strong>
        {user.full_name && <span class="muted"> ({user.username})</span>}
      </p>
      <p class="hint">The app locked itself after a while without use. Work not yet sent stays on this device.</p>
      {error && (
        <p class="form-error" role="alert" id="lock-error">
          {error}
        </p>
      )}
      <form onSubmit={onSubmit} noValidate>
        {/* A hidden username lets password managers fill the right account. */}
        <input type="text" name="username" autocomplete="username" value={user.username} hidden readOnly />
        <div class="field">
          <label for="lock-password">Password</label>
          <input
            id="lock-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "lock-error" : undefined}
            autofocus
          />
        </div>
        <button type="submit" class="btn btn-primary btn-block" disabled={busy || !password}>
          {busy ? "Unlocking…" : "Unlock"}
        </button>
      </form>
      <p>
        Not {user.full_name || user.username}?{" "}
        <button type="button" class="btn-link" onClick={() => void signOut({ discardPending: false })}>
          Sign out
        </button>
      </p>
    </section>
  );
}
