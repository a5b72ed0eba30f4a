import { useState } from "preact/hooks";
import { outbox } from "../lib/session";
import { applyUpdate, updateReady } from "../lib/sw-register";
import { useObservable } from "./hooks";

/** "Update ready": applied only on tap, and only when nothing unsent or unsaved would be lost. */
export function UpdatePrompt() {
  const ready = useObservable(updateReady);
  const [why, setWhy] = useState<string | null>(null);
  if (!ready) return null;

  function onApply() {
    const blocked = applyUpdate(outbox.pending.value);
    if (blocked === "outbox") setWhy("Some changes are still being sent. The update can be applied once they are synced.");
    else if (blocked === "dirty") setWhy("You have an unsaved form. Save or discard it first, then apply the update.");
    else setWhy(null);
  }

  return (
    <div class="banner banner-update" role="region" aria-label="App update">
      <span>A new version of Co-Response is ready.</span>
      <button type="button" class="btn btn-primary" onClick={onApply}>
        Update now
      </button>
      {why && (
        <p class="update-why" role="status">
          {why}
        </p>
      )}
    </div>
  );
}
