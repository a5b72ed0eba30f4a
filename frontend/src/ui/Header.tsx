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

  const name = me ? me.full_name || me.username : "";
  const [first = "", ...others] = name.split(" ");
  const rest = others.join(" ");

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
          {/* On a phone only the first name shows (never cut off); the whole name is in the title. */}
          <span class="user-name" title={name}>
            <span class="user-first">{first}</span>
            {rest && <span class="user-rest"> {rest}</span>}
          </span>
          <a class="btn btn-secondary btn-security" href="/security">
            {/* On a phone the word gives way to a shield (the link keeps its name "Security"). */}
            <svg class="icon-security" viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false">
              <path
                fill="none"
                stroke="currentColor"
                stroke-width="2"
                stroke-linejoin="round"
                d="M12 2.5 4.5 5.5v6c0 4.6 3.1 8.4 7.5 10 4.4-1.6 7.5-5.4 7.5-10v-6L12 2.5Z"
              />
              <path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" d="m8.5 12 2.5 2.5 4.5-5" />
            </svg>
            <span class="btn-label">Security</span>
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
