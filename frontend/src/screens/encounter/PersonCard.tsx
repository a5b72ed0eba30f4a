import { useState } from "preact/hooks";
import { CONTACT_CONSENT, PREFERRED_CONTACT, type ContactConsent, type PreferredContact } from "../../generated/clinical";
import { NetworkError } from "../../lib/api";
import { clinicalApi, type PersonHit } from "../../lib/clinical";
import { contactKey, emptyContact, type ContactDraft, type EncounterDraft } from "../../lib/drafts";

type Update = (fn: (d: EncounterDraft) => EncounterDraft) => void;

/** Who the person is, and how care navigation reaches them (phone, preferred contact, consent). */
export function PersonCard({ draft, update }: { draft: EncounterDraft; update: Update }) {
  const [q, setQ] = useState("");
  const [hits, setHits] = useState<PersonHit[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [dob, setDob] = useState("");
  // Fixed once the server's encounter names the person; until then it can be chosen (also later).
  const locked = draft.queued.encounter && !!draft.person && draft.queued.person_linked === draft.person.id;

  async function search(e: Event) {
    e.preventDefault();
    setErr(null);
    try {
      setHits((await clinicalApi.searchPersons(q)).results);
    } catch (x) {
      setHits(null);
      setErr(x instanceof NetworkError ? "Search needs the network. You can create the person on this device." : x instanceof Error ? x.message : "Search failed.");
    }
  }

  function choose(h: PersonHit) {
    const contact: ContactDraft = {
      phone: h.phone ?? "",
      preferred_contact: h.preferred_contact ?? "unstated",
      contact_consent: h.contact_consent ?? "unknown",
    };
    const person = { id: h.id, name: `${h.first_name ?? ""} ${h.last_name ?? ""}`.trim(), date_of_birth: h.date_of_birth ?? null, ...(h.revision ? { revision: h.revision } : {}) };
    // The server's contact is the base: only what the person changes here is sent.
    update((x) => ({ ...x, person, contact, queued: { ...x.queued, contact: contactKey(contact), person_revision: h.revision ?? null } }));
  }

  function create(e: Event) {
    e.preventDefault();
    if (!first.trim() && !last.trim()) {
      setErr("Enter a first or last name.");
      return;
    }
    const id = crypto.randomUUID();
    update((x) => ({
      ...x,
      person: { id, name: `${first} ${last}`.trim(), date_of_birth: dob || null, create: { first_name: first.trim(), last_name: last.trim(), date_of_birth: dob || null } },
      contact: emptyContact(),
      queued: { ...x.queued, contact: null, person_revision: null },
    }));
  }

  return (
    <section class="card" aria-labelledby="person-title">
      <h2 id="person-title">Person</h2>
      {draft.person ? (
        <>
          <p>
            <strong>{draft.person.name || "(no name)"}</strong>
            {draft.person.date_of_birth && <span class="muted"> · born {draft.person.date_of_birth}</span>}
            {draft.person.create && !draft.queued.person && <span class="muted"> · new record</span>}
            {!locked && (
              <button type="button" class="btn btn-secondary" onClick={() => update((x) => ({ ...x, person: null, contact: emptyContact() }))}>
                Change
              </button>
            )}
          </p>
          <ContactFields contact={draft.contact} onChange={(c) => update((x) => ({ ...x, contact: c }))} />
        </>
      ) : (
        <>
          <form onSubmit={(e) => void search(e)} class="inline-form">
            <label for="person-q">Search by name</label>
            <input id="person-q" value={q} onInput={(e) => setQ(e.currentTarget.value)} autocomplete="off" />
            <button type="submit" class="btn btn-secondary">
              Search
            </button>
          </form>
          {hits && hits.length === 0 && <p class="muted">No match.</p>}
          {hits && hits.length > 0 && (
            <ul class="hits">
              {hits.map((h) => (
                <li key={h.id}>
                  <button type="button" class="btn btn-secondary" onClick={() => choose(h)}>
                    {h.first_name} {h.last_name}
                    {h.date_of_birth ? ` · ${h.date_of_birth}` : ""}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={create} class="new-person">
            <h3>New person</h3>
            <label for="person-first">First name</label>
            <input id="person-first" value={first} onInput={(e) => setFirst(e.currentTarget.value)} />
            <label for="person-last">Last name</label>
            <input id="person-last" value={last} onInput={(e) => setLast(e.currentTarget.value)} />
            <label for="person-dob">Date of birth</label>
            <input id="person-dob" type="date" value={dob} onInput={(e) => setDob(e.currentTarget.value)} />
            <button type="submit" class="btn btn-secondary">
              Create person
            </button>
          </form>
          {err && <p class="form-error">{err}</p>}
        </>
      )}
    </section>
  );
}

function ContactFields({ contact, onChange }: { contact: ContactDraft; onChange: (c: ContactDraft) => void }) {
  return (
    <fieldset class="contact">
      <legend>How to reach them (for the follow-up)</legend>
      <label for="person-phone">Phone</label>
      <input
        id="person-phone"
        type="tel"
        inputMode="tel"
        autocomplete="off"
        value={contact.phone}
        onInput={(e) => onChange({ ...contact, phone: e.currentTarget.value })}
      />
      <label for="person-preferred">Preferred contact</label>
      <select id="person-preferred" value={contact.preferred_contact} onChange={(e) => onChange({ ...contact, preferred_contact: e.currentTarget.value as PreferredContact })}>
        {PREFERRED_CONTACT.map(([k, l]) => (
          <option value={k} key={k}>
            {l}
          </option>
        ))}
      </select>
      <label for="person-consent">Consent to be contacted</label>
      <select id="person-consent" value={contact.contact_consent} onChange={(e) => onChange({ ...contact, contact_consent: e.currentTarget.value as ContactConsent })}>
        {CONTACT_CONSENT.map(([k, l]) => (
          <option value={k} key={k}>
            {l}
          </option>
        ))}
      </select>
    </fieldset>
  );
}
