import { useRef, useState } from "preact/hooks";
import type { Me } from "../lib/api";
import { outbox, signOut, unsentChanges } from "../lib/session";

export function Header({ me }: { me: Me | null }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [pending, setPending] = useState(0);
  const [busy, setBusy] = useState(false);

  async function onSignOut(discardPending: boolean) {
    setBusy(true);
    try {
      const result = await signOut({ discardPending });
      if (result === "pending") {
        setPending(await unsentChanges());
        dialog.current?.showModal();
      } else {
        dialog.current?.close();
      }
    } finally {
      setBusy(false);
    }
  }

  function keepWaiting() {
    dialog.current?.close();
    void outbox.replay();
  }

  return (
    <header class="app-header">
      <a class="app-name" href="/">
        Co-Response
      </a>
      {me && (
        <div class="user">
          <span class="user-name">{me.full_name || me.username}</span>
          <a class="btn btn-secondary" href="/security">
            Security
          </a>
          <button type="button" class="btn btn-secondary" onClick={() => void onSignOut(false)} disabled={busy}>
            Sign out
          </button>
        </div>
      )}
      <dialog ref={dialog} aria-labelledby="signout-title" aria-describedby="signout-desc">
        <h2 id="signout-title">Changes not sent yet</h2>
        <p id="signout-desc">
          {pending === 1 ? "1 change has" : `${pending} changes have`} not reached the server. If you sign out now,{" "}
          {pending === 1 ? "it will be" : "they will be"} deleted from this device and lost.
        </p>
        <div class="dialog-actions">
          <button type="button" class="btn btn-primary" onClick={keepWaiting} autofocus>
            Keep waiting
          </button>
          <button type="button" class="btn btn-danger" onClick={() => void onSignOut(true)} disabled={busy}>
            Discard and sign out
          </button>
        </div>
      </dialog>
    </header>
  );
}
