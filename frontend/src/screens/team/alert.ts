import { OFFER_NOTIFICATION_TAG_PREFIX } from "../../generated/incidents";
/** Sound and vibration for an incoming assignment. Both are best effort (autoplay rules, no motor). */

let ctx: AudioContext | null = null;

/** A short two-tone beep through WebAudio (no audio file to download or cache). */
export function beep(): void {
  try {
    const AC = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!AC) return;
    ctx ??= new AC();
    if (ctx.state === "suspended") void ctx.resume().catch(() => undefined);
    const start = ctx.currentTime;
    for (const [i, freq] of [880, 1175, 880].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "square";
      osc.frequency.value = freq;
      const t = start + i * 0.22;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.2);
    }
  } catch {
    /* no audio: the screen and vibration still alert */
  }
}

export function vibrate(): void {
  try {
    navigator.vibrate?.([400, 150, 400, 150, 400]);
  } catch {
    /* not supported */
  }
}

/**
 * Closes the Web Push notification of an offer that ended (expired, withdrawn, taken by the partner):
 * its tag is the server's escalation subject (generated prefix + assignment id). Best effort.
 */
export async function closeOfferNotification(assignmentId: number): Promise<number> {
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (!reg) return 0;
    const shown = await reg.getNotifications({ tag: `${OFFER_NOTIFICATION_TAG_PREFIX}${assignmentId}` });
    for (const n of shown) n.close();
    return shown.length;
  } catch {
    return 0; /* no service worker or notifications here */
  }
}

/** What the team reads when the offer on their screen ends without their answer (null: say nothing). */
export function offerEndedText(type: string, callType: string): string | null {
  if (type === "assignment.expired") return `The offer (${callType}) expired: nobody accepted it in time. Dispatch has the call again.`;
  if (type === "assignment.cancelled") return `Dispatch withdrew the offer (${callType}).`;
  return null;
}
