import type {
  AgencyList,
  AgencyListApiOutput,
  EncounterOutput,
  EncounterRowOutput,
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

export interface FollowUp {
  id: number;
  encounter_id: string;
  due_at: string;
  status: string;
  assignee: { id: number; name: string };
  attempt_count: number | null;
  failed_attempts: number;
  reason?: string;
  person?: { id: string; name: string; phone: string } | null;
  referral_type?: string | null;
  agency?: string | null;
  restricted?: boolean;
}

export const clinicalApi = {
  searchPersons: (q: string) => api<PersonSearch>(`/api/v1/clinical/persons/?q=${encodeURIComponent(q)}`),
  agencies: () => api<AgencyList>("/api/v1/agencies/"),
  encounter: (id: string) => api<ServerEncounter>(`/api/v1/clinical/encounters/${id}/`),
  openEncounters: () => api<{ results: EncounterRow[] }>("/api/v1/clinical/encounters/?open=1"),
  followups: (bucket: string, mine: boolean) =>
    api<{ results: FollowUp[]; count: number }>(`/api/v1/followups/?bucket=${bucket}${mine ? "&assignee=me" : ""}&page_size=100`),
};

// The server's choice lists ([value, label], generated from the models: make contracts).
export { ATTEMPT_METHODS, ATTEMPT_OUTCOMES, REFERRAL_TYPES } from "../generated/referrals";
export { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS } from "../generated/clinical";
