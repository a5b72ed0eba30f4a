import type {
  AgencyList,
  AgencyListApiOutput,
  EncounterOutput,
  EncounterRowOutput,
  FollowUpOutput,
  FollowUpPageOutput,
  NoteOutput,
  OfficerSectionOutput,
  PersonMatchOutput,
  PersonSearch,
  ScreenOutput,
} from "../generated/api";
import { api } from "./api";

/** Typed reads of the clinical and referrals APIs used by the encounter and follow-up screens. */

export type PersonHit = PersonMatchOutput;
export type Agency = AgencyListApiOutput;

// Payloads of the clinical API: generated from its OpenAPI schema (make contracts). Keys beyond `id`
// and `revision` are optional: the server sends each only to roles that may see it.
export type ServerScreen = ScreenOutput;
export type ServerOfficerSection = OfficerSectionOutput;
export type ServerEncounter = EncounterOutput;
export type ServerNote = NoteOutput;
export type EncounterRow = EncounterRowOutput;

/** A follow-up as the navigator's card shows it (the details only for clinical roles). */
export type FollowUp = FollowUpOutput;
export type FollowUpPage = FollowUpPageOutput;

export const clinicalApi = {
  searchPersons: (q: string) => api<PersonSearch>(`/api/v1/clinical/persons/?q=${encodeURIComponent(q)}`),
  agencies: () => api<AgencyList>("/api/v1/agencies/"),
  encounter: (id: string) => api<ServerEncounter>(`/api/v1/clinical/encounters/${id}/`),
  openEncounters: () => api<{ results: EncounterRow[] }>("/api/v1/clinical/encounters/?open=1"),
  /** Every encounter in scope, newest first (the server's first 200): the closed ones for co-signing and printing. */
  recentEncounters: () => api<{ results: EncounterRow[] }>("/api/v1/clinical/encounters/"),
  followups: (bucket: string, mine: boolean) =>
    api<FollowUpPage>(`/api/v1/followups/?bucket=${bucket}${mine ? "&assignee=me" : ""}&page_size=100`),
};

// The server's choice lists ([value, label], generated from the models: make contracts).
export { ATTEMPT_METHODS, ATTEMPT_OUTCOMES, REFERRAL_TYPES } from "../generated/referrals";
export { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS } from "../generated/clinical";
