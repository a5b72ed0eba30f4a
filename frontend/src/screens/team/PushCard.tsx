import type { Me } from "../../lib/api";
import { enablePush, pushStatus, pushSupported } from "../../lib/push";
import { useObservable } from "../../ui/hooks";

/** Explains first, then asks for notification permission on a tap (never on load). */
export function PushCard({ me }: { me: Me }) {
  const status = useObservable(pushStatus);
  if (!pushSupported() || status === "on" || status === "unsupported") return null;
  return (
    <section class="card push-card" aria-labelledby="push-title">
      <h2 id="push-title">Notifications</h2>
      {status === "denied" ? (
        <p>Notifications are blocked for this app. A new call only reaches you while the app is open. Allow notifications in the browser's site settings.</p>
      ) : (
        <>
          <p>Allow notifications so a new call reaches you when the app is closed.</p>
          {status === "error" && (
            <p class="field-error" role="alert">
              Could not turn on notifications. Try again.
            </p>
          )}
          <button type="button" class="btn btn-primary" disabled={status === "subscribing"} onClick={() => void enablePush(me.id)}>
            Allow notifications
          </button>
        </>
      )}
    </section>
  );
}
