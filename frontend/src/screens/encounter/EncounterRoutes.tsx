import "./encounter.css";
import { useEffect, useState } from "preact/hooks";
import type { Me } from "../../lib/api";
import { draftList, draftPut, newDraft } from "../../lib/drafts";
import { isClinical, isOfficer } from "../../lib/roles";
import { navigate } from "../../lib/routes";
import { EncounterEditor } from "./EncounterEditor";
import { EncounterList } from "./EncounterList";
import { OfficerSection } from "./OfficerSection";
import { PrintView } from "./PrintView";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/encounters`, `/encounters/new?incident=`, `/encounters/<id>`, `/encounters/<id>/officer`, `/encounters/<id>/print`. */
export function EncounterRoutes({ me, path }: { me: Me; path: string }) {
  const parts = path.split("/").filter(Boolean); // ["encounters", id?, "officer"?]
  const id = parts[1];
  if (!isClinical(me) && !me.roles.includes("officer")) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Encounters</h1>
        <p class="empty">Encounters are for clinicians and officers on a team.</p>
      </section>
    );
  }
  if (!id) return <EncounterList me={me} />;
  if (id === "new") return isClinical(me) ? <NewEncounter me={me} /> : <EncounterList me={me} />;
  if (!UUID.test(id)) return <p class="empty">There is nothing at this address.</p>;
  if (parts[2] === "officer" || isOfficer(me)) return <OfficerSection me={me} encounterId={id} />;
  if (parts[2] === "print") return <PrintView me={me} encounterId={id} />;
  return <EncounterEditor key={id} me={me} encounterId={id} />;
}

/** Starts a draft on the device (works offline) and opens it under its client UUID. */
function NewEncounter({ me }: { me: Me }) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const params = new URLSearchParams(location.search);
    const incident = Number(params.get("incident")) || null;
    const shift = me.current_shift;
    const partner = me.partner;
    const officer = partner && partner.role === "officer" ? partner.id : (shift?.members.find((m) => m.role === "officer")?.id ?? null);
    const draft = newDraft({
      id: crypto.randomUUID(),
      noteId: crypto.randomUUID(),
      userId: me.id,
      incidentId: incident,
      teamId: shift?.team.id ?? null,
      officerId: officer,
    });
    // Coming back from the assignment again opens the draft already started for that incident.
    draftList(me.id)
      .then(async (drafts) => {
        const existing = incident ? drafts.find((d) => d.incident_id === incident) : undefined;
        if (existing) return existing.id;
        await draftPut(draft);
        return draft.id;
      })
      .then((id) => navigate(`/encounters/${id}`, { replace: true }))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : "Could not save on this device."));
  }, [me]);
  return error ? <p role="alert" class="form-error">{error}</p> : <p aria-busy="true">Starting a new encounter…</p>;
}
