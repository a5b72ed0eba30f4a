import { appText, reachText, type Delivery } from "./model";

/**
 * Per member of the team: which stage reached them (push, SMS delivered, call answered, replied by phone).
 * Shown next to the per-device delivered / seen receipts on the dispatch console and the board.
 */
export function ReachList({ delivery, people }: { delivery: Delivery | undefined; people: { id: number; name: string }[] }) {
  if (!delivery || people.length === 0) return null;
  const off = delivery.phone_stages === "off";
  return (
    <ul class="reach" aria-label="How each member was reached" data-testid="reach">
      {people.map((p) => {
        const steps = [appText(delivery.devices, p.id), ...reachText(delivery.reach?.[p.id])].filter(Boolean);
        return (
          <li key={p.id} data-user={p.id}>
            <strong>{p.name}</strong>: {steps.length ? steps.join(" · ") : "not reached yet"}
          </li>
        );
      })}
      {off && <li class="muted">SMS and calls are off on this server (no provider configured).</li>}
    </ul>
  );
}
