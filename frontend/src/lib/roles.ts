import type { Me } from "./api";

/** Roles that work with clinical content (the encounter editor rather than the officer section). */
const CLINICAL = ["clinician", "clinical_supervisor", "care_navigator"];

export function isClinical(me: Me): boolean {
  return me.roles.some((r) => CLINICAL.includes(r));
}

export function isOfficer(me: Me): boolean {
  return me.roles.includes("officer") && !isClinical(me);
}
