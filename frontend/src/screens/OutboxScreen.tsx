import { useEffect, useState } from "preact/hooks";
import type { OutboxItem } from "../lib/db";
import { outbox } from "../lib/session";
import { formatDayTime } from "../lib/time";
import { useObservable } from "../ui/hooks";

/** Writes still on this device: pending ones, and rejected ones with the server's reason. */
export function OutboxScreen() {
  const version = useObservable(outbox.version);
  const [items, setItems] = useState<OutboxItem[]>([]);
  useEffect(() => {
    void outbox.list().then(setItems);
  }, [version]);

  return (
    <section class="card" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Changes on this device
      </h1>
      {items.length === 0 ? (
        <p class="empty">Everything has been sent.</p>
      ) : (
        <ul class="outbox-list">
          {items.map((item) => (
            <li key={item.id} class={`outbox-item outbox-${item.status}`}>
              <p>
                <strong>{item.label ?? `${item.method} ${item.url}`}</strong>
              </p>
              <p class="muted">Saved {formatDayTime(item.created_at)}</p>
              {item.status === "pending" ? (
                <p>Waiting to send{item.last_error ? ` (last try: ${item.last_error})` : ""}.</p>
              ) : (
                <>
                  <p class="form-error">Not accepted: {item.last_error ?? "the server refused this change."}</p>
                  <button type="button" class="btn btn-secondary" onClick={() => item.seq !== undefined && void outbox.discard(item.seq)}>
                    Dismiss
                  </button>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
