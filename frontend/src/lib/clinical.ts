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

export const REFERRAL_TYPES: [string, string][] = [
  ["outpatient_mental_health", "Outpatient mental health"],
  ["substance_use_treatment", "Substance-use treatment"],
  ["crisis_facility", "Crisis facility"],
  ["primary_care", "Primary care"],
  ["housing", "Housing"],
  ["peer_support", "Peer support"],
  ["988_mobile_crisis", "988 / mobile crisis"],
  ["other", "Other"],
];

export const DISPOSITIONS: [string, string][] = [
  ["resolved_on_scene", "Resolved on scene"],
  ["resolved_with_referral", "Resolved with referral"],
  ["safety_plan_only", "Safety plan only"],
  ["transport_crisis_facility", "Voluntary transport to crisis facility"],
  ["transport_ed", "Voluntary transport to ED"],
  ["ems_transport", "EMS transport"],
  ["ivc_initiated", "Involuntary commitment initiated"],
  ["arrest", "Arrest"],
  ["citation", "Citation"],
  ["jail_booking", "Jail booking"],
  ["refused_services", "Refused services"],
  ["unable_to_locate", "Unable to locate"],
  ["cancelled", "Cancelled"],
  ["transferred_988", "Transferred to 988 / mobile crisis"],
];

export const IVC_PATHWAYS: [string, string][] = [
  ["petition_122c_261", "Petition to magistrate (G.S. 122C-261)"],
  ["emergency_122c_262", "Clinician emergency certificate (G.S. 122C-262)"],
  ["violent_122c_282", "Violent person (G.S. 122C-282)"],
  ["substance_122c_281", "Substance use (G.S. 122C-281)"],
];

export const IVC_OUTCOMES: [string, string][] = [
  ["pending", "Pending"],
  ["committed", "Committed (inpatient)"],
  ["outpatient", "Outpatient commitment"],
  ["released", "Released after examination"],
  ["petition_denied", "Petition denied"],
  ["custody_not_taken", "Custody order expired, not served"],
];

export const POLICE_ACTIONS: [string, string][] = [
  ["none", "None"],
  ["arrest", "Arrest"],
  ["citation", "Citation"],
];

export const TRANSPORTS: [string, string][] = [
  ["none", "None"],
  ["police", "Police vehicle"],
  ["ems", "EMS"],
  ["team", "Co-response team vehicle"],
  ["other", "Other"],
];

export const ATTEMPT_OUTCOMES: [string, string][] = [
  ["reached", "Reached"],
  ["no_answer", "No answer"],
  ["declined", "Declined"],
  ["wrong_number", "Wrong number"],
  ["linked", "Linked"],
];

export const ATTEMPT_METHODS: [string, string][] = [
  ["phone", "Phone"],
  ["text", "Text message"],
  ["visit", "Visit"],
  ["email", "E-mail"],
  ["other", "Other"],
];
