import { callTypeLabel } from "../team/assignment";
import { waitingText, type BoardIncident } from "./model";

/**
 * Calls eligible for co-response that waited past their priority's time with no team (the server's
 * `incident.unassigned` alert, docs/incidents.md). Shown on the dispatch console and the supervisor's
 * board until the call is offered (`incident.unassigned_cleared`).
 */
export function UnassignedAlerts({ incidents, onOpen }: { incidents: BoardIncident[]; onOpen?: (id: number) => void }) {
  const waiting = incidents.filter((i) => i.unassigned_alert);
  if (waiting.length === 0) return null;
  return (
    <div class="escalations unassigned-alerts" role="alert" aria-label="Calls waiting for a team">
      {waiting.map((i) => (
        <div key={i.id} class="escalation escalation-unassigned" data-testid="unassigned-alert">
          <span>
            <strong>
              P{i.priority} {callTypeLabel(i.call_type_code, i.call_type_description)}
            </strong>
            {i.address ? ` at ${i.address}` : ""} (#{i.id}): {waitingText(i.unassigned_alert!)}
          </span>
          {onOpen && (
            <button type="button" class="btn btn-secondary" onClick={() => onOpen(i.id)}>
              Open
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
