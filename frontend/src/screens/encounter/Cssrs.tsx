import { QUESTION_TEXT, RISK_LABEL, RISK_ORDER, RISK_PROMPT, answer, computeRisk, visibleQuestions, type Answers, type Risk } from "../../lib/cssrs";

export function RiskBadge({ risk, label }: { risk: string | null | undefined; label: string }) {
  if (!risk) return null;
  const r = risk as Risk;
  return (
    <p class={`risk risk-${r}`}>
      <span class="muted">{label}: </span>
      <strong>{RISK_LABEL[r] ?? risk}</strong>
    </p>
  );
}

/** The screener with live skip logic; the risk as computed here (the server's value is authoritative). */
export function CssrsForm({
  answers,
  overrideRisk,
  overrideReason,
  serverRisk,
  locked,
  onChange,
}: {
  answers: Answers;
  overrideRisk: Risk | "";
  overrideReason: string;
  serverRisk: string | null | undefined;
  locked: boolean;
  onChange: (a: Answers, override: Risk | "", reason: string) => void;
}) {
  const risk = computeRisk(answers);
  const higher = risk ? RISK_ORDER.filter((r) => RISK_ORDER.indexOf(r) > RISK_ORDER.indexOf(risk)) : [];
  return (
    <fieldset class="cssrs" disabled={locked}>
      <legend>C-SSRS screener</legend>
      {visibleQuestions(answers).map((q) => (
        <div class="yesno" role="radiogroup" aria-labelledby={`${q}-label`} key={q}>
          <p id={`${q}-label`}>{QUESTION_TEXT[q]}</p>
          <div class="yesno-buttons">
            {([true, false] as const).map((v) => (
              <label class={`choice ${answers[q] === v ? "chosen" : ""}`} key={String(v)}>
                <input type="radio" name={q} checked={answers[q] === v} onChange={() => onChange(answer(answers, q, v), overrideRisk, overrideReason)} />
                {v ? "Yes" : "No"}
              </label>
            ))}
          </div>
        </div>
      ))}
      <div class="risk-box" aria-live="polite">
        {risk ? (
          <>
            <RiskBadge risk={risk} label="Risk (computed on this device)" />
            {serverRisk && <RiskBadge risk={serverRisk} label="Risk recorded by the server" />}
            {RISK_PROMPT[(overrideRisk || risk) as Risk] && <p class="notice">{RISK_PROMPT[(overrideRisk || risk) as Risk]}</p>}
          </>
        ) : (
          <p class="muted">Answer the questions shown to see the risk level.</p>
        )}
      </div>
      {risk && higher.length > 0 && (
        <div class="field">
          <label for="override-risk">Clinical judgement: raise the risk (optional)</label>
          <select id="override-risk" value={overrideRisk} onChange={(e) => onChange(answers, (e.currentTarget.value as Risk | ""), overrideReason)}>
            <option value="">No override</option>
            {higher.map((r) => (
              <option value={r} key={r}>
                {RISK_LABEL[r]}
              </option>
            ))}
          </select>
          {overrideRisk && (
            <>
              <label for="override-reason">Reason for the override</label>
              <textarea id="override-reason" value={overrideReason} onInput={(e) => onChange(answers, overrideRisk, e.currentTarget.value)} />
            </>
          )}
        </div>
      )}
    </fieldset>
  );
}
