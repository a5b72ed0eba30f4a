import { connection, online, outbox } from "../lib/session";
import { useObservable } from "./hooks";

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Offline / syncing N pending / synced, plus rejected writes the person must look at. */
export function ConnectionBanner() {
  const isOnline = useObservable(online);
  const conn = useObservable(connection);
  const pending = useObservable(outbox.pending);
  const rejected = useObservable(outbox.rejected);

  let kind: "offline" | "syncing" | "reconnecting" | "synced";
  let text: string;
  if (!isOnline) {
    kind = "offline";
    text = pending ? `Offline. ${plural(pending, "change", "changes")} saved on this device, will send when back online.` : "Offline. Showing the last information received.";
  } else if (pending) {
    kind = "syncing";
    text = `Syncing ${plural(pending, "pending change", "pending changes")}…`;
  } else if (conn !== "open") {
    kind = "reconnecting";
    text = "Connecting for live updates…";
  } else {
    kind = "synced";
    text = "All changes synced";
  }

  return (
    <div class="banners">
      <div class={`banner banner-status banner-${kind}`} role="status" aria-live="polite">
        <span class="dot" aria-hidden="true" />
        <span class="banner-text">
          {text}
          {pending > 0 && (
            <>
              {" "}
              <a href="/outbox">View</a>
            </>
          )}
        </span>
      </div>
      {rejected > 0 && (
        <div class="banner banner-rejected" role="alert">
          {plural(rejected, "change was", "changes were")} not accepted by the server.{" "}
          <a href="/outbox">Review</a>
        </div>
      )}
    </div>
  );
}
