import { CLINICAL_WRITER_ROLES, type Role } from "../generated/roles";
import type { Me } from "./api";

/** Roles that write clinical content (the encounter editor rather than the officer section): the server's list. */
const CLINICAL: readonly Role[] = CLINICAL_WRITER_ROLES;

export function isClinical(me: Me): boolean {
  return me.roles.some((r) => CLINICAL.includes(r));
}

export function isOfficer(me: Me): boolean {
  return me.roles.includes("officer") && !isClinical(me);
}
