import { SIGN_REQUIREMENTS } from "../generated/notes";

/**
 * The sign-readiness rule: what a draft note still lacks before it can be signed.
 *
 * The rule is the server's (apps/clinical/readiness.py), generated as data into
 * `generated/notes.ts` (`SIGN_REQUIREMENTS`): this module only knows how to read its four kinds of
 * requirement, exactly as the server's evaluator does. Both are tested against
 * contracts/sign_readiness_cases.json. The app disables "Sign" with this list, online and offline;
 * the server stays the authority (an offline sign it refuses returns the note to draft).
 */

export interface SignFacts {
  format: string;
  sections: Readonly<Record<string, unknown>>;
  safety_precautions: Readonly<Record<string, unknown>>;
  has_screen: boolean;
  risk_level: string | null;
  disposition_count: number;
}

export interface Missing {
  code: string;
  label: string;
  /** The field of the server's 400 answer this item is reported under. */
  field: string;
}

type Requirement = (typeof SIGN_REQUIREMENTS)[number];

function applies(req: Requirement, f: SignFacts): boolean {
  const when = req.when as { formats?: readonly string[]; risk_levels?: readonly string[] };
  if (when.formats && !when.formats.includes(f.format)) return false;
  if (when.risk_levels && !when.risk_levels.includes(f.risk_level ?? "")) return false;
  return true;
}

function met(req: Requirement, f: SignFacts): boolean {
  switch (req.kind) {
    case "section":
      return String(f.sections[req.arg] ?? "").trim() !== "";
    case "screen":
      return f.has_screen;
    case "precaution":
      return f.safety_precautions[req.arg] === true;
    case "disposition":
      return f.disposition_count > 0;
  }
}

/** The requirements not met, in the rule's order (empty: the note may be signed). */
export function signMissing(f: SignFacts): Missing[] {
  return SIGN_REQUIREMENTS.filter((r) => applies(r, f) && !met(r, f)).map((r) => ({ code: r.code, label: r.label, field: r.field }));
}
