import type { ServerNote } from "../../lib/conflict";
import type { EncounterDraft } from "../../lib/drafts";
import { compareSections } from "../../lib/conflict";

const pretty = (s: string) => s.replace(/_/g, " ");

/** Both versions side by side; the person picks one. Nothing is merged. */
export function ConflictView({
  draft,
  server,
  busy,
  onChoose,
}: {
  draft: EncounterDraft;
  server: ServerNote;
  busy: boolean;
  onChoose: (choice: "mine" | "server") => void;
}) {
  const rows = compareSections(draft, server);
  const signed = server.status === "signed";
  return (
    <section class="card conflict" role="alert" aria-labelledby="conflict-title">
      <h2 id="conflict-title">This note was changed somewhere else</h2>
      <p>
        The server has a newer version of this note (revision {server.revision}
        {signed ? ", signed" : ""}) than the one your changes were based on. Nothing was overwritten. Choose which version to keep.
      </p>
      <div class="conflict-grid">
        <div class="conflict-head">Section</div>
        <div class="conflict-head">Your version (this device)</div>
        <div class="conflict-head">Server's version</div>
        {rows.map((r) => (
          <div class={`conflict-row ${r.differs ? "differs" : ""}`} key={r.section} data-section={r.section}>
            <div class="conflict-section">
              {pretty(r.section)}
              {r.differs && <span class="pill pill-off">differs</span>}
            </div>
            <div class="conflict-mine" data-version="mine">
              {r.mine || <span class="muted">(empty)</span>}
            </div>
            <div class="conflict-server" data-version="server">
              {r.server || <span class="muted">(empty)</span>}
            </div>
          </div>
        ))}
      </div>
      <div class="dialog-actions">
        <button type="button" class="btn btn-primary" disabled={busy || signed} onClick={() => onChoose("mine")}>
          Keep mine
        </button>
        <button type="button" class="btn btn-secondary" disabled={busy} onClick={() => onChoose("server")}>
          Take the server's
        </button>
      </div>
      {signed && <p class="hint">The server's note is signed and locked: take it, then add an addendum for your changes.</p>}
      <p class="hint">Keep mine: your text is sent again as an edit of the server's revision. Take the server's: your text on this device is replaced.</p>
    </section>
  );
}
