import { api } from "./api";

/** Typed reads of the clinical and referrals APIs used by the encounter and follow-up screens. */

export interface PersonHit {
  id: string;
  first_name: string;
  last_name: string;
  date_of_birth: string | null;
  aliases?: string[];
}

export interface Agency {
  id: number;
  name: string;
  type: string;
  phone: string;
}

export interface ServerScreen {
  id: string;
  computed_risk: string;
  final_risk: string;
  screened_at: string;
  [q: string]: unknown;
}

export interface ServerOfficerSection {
  revision: number;
  police_action: string;
  use_of_force: boolean;
  use_of_force_description: string;
  subject_injured: boolean;
  officer_injured: boolean;
  injuries_description: string;
  transport: string;
  transport_destination: string;
  ivc_custody: boolean;
  [k: string]: unknown;
}

export interface ServerEncounter {
  id: string;
  revision: number;
  kind?: string;
  incident_id?: number | null;
  team?: string | null;
  team_id?: number | null;
  clinician_id?: number | null;
  officer_id?: number | null;
  started_at?: string;
  closed_at?: string | null;
  person?: { id: string; first_name: string; last_name: string; date_of_birth: string | null } | null;
  high_risk?: boolean;
  risk_level?: string | null;
  prompts?: string[];
  screens?: ServerScreen[];
  dispositions?: { code: string; code_label: string }[];
  officer_section?: ServerOfficerSection | null;
  notes?: {
    id: string;
    format: string;
    status: string;
    revision: number;
    author: number;
    signed_at: string | null;
    sections?: Record<string, string>;
    safety_precautions?: Record<string, boolean>;
  }[];
  ivc?: Record<string, unknown> | null;
}

export interface EncounterRow {
  id: string;
  revision: number;
  kind?: string;
  team?: string | null;
  started_at?: string;
  closed_at?: string | null;
  person?: { id: string; name: string };
  high_risk?: boolean;
  risk_level?: string | null;
}

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
  searchPersons: (q: string) => api<{ results: PersonHit[] }>(`/api/v1/clinical/persons/?q=${encodeURIComponent(q)}`),
  agencies: () => api<{ results: Agency[] }>("/api/v1/agencies/"),
  encounter: (id: string) => api<ServerEncounter>(`/api/v1/clinical/encounters/${id}/`),
  openEncounters: () => api<{ results: EncounterRow[] }>("/api/v1/clinical/encounters/?open=1"),
  followups: (bucket: string, mine: boolean) =>
    api<{ results: FollowUp[]; count: number }>(`/api/v1/followups/?bucket=${bucket}${mine ? "&assignee=me" : ""}&page_size=100`),
};

// The server's choice lists ([value, label], generated from the models: make contracts).
export { ATTEMPT_METHODS, ATTEMPT_OUTCOMES, REFERRAL_TYPES } from "../generated/referrals";
export { DISPOSITIONS, IVC_OUTCOMES, IVC_PATHWAYS } from "../generated/clinical";
