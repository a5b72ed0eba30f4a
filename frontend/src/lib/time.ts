/** Program time zone (Durham, NC). All times shown to people are in this zone. */
export const PROGRAM_TZ = "America/New_York";

const timeFmt = new Intl.DateTimeFormat("en-US", { timeZone: PROGRAM_TZ, hour: "numeric", minute: "2-digit" });
const dayTimeFmt = new Intl.DateTimeFormat("en-US", {
  timeZone: PROGRAM_TZ,
  weekday: "short",
  month: "short",
  day: "numeric",
  hour: "numeric",
  minute: "2-digit",
  timeZoneName: "short",
});
const dayFmt = new Intl.DateTimeFormat("en-CA", { timeZone: PROGRAM_TZ, year: "numeric", month: "2-digit", day: "2-digit" });

export function formatDayTime(iso: string): string {
  return dayTimeFmt.format(new Date(iso));
}

/** "Tue, Mar 3, 7:00 AM EST – 7:00 PM EST"; the day is repeated only when the window crosses midnight. */
export function formatWindow(startIso: string, endIso: string): string {
  const start = new Date(startIso);
  const end = new Date(endIso);
  const sameDay = dayFmt.format(start) === dayFmt.format(end);
  const endText = sameDay ? `${timeFmt.format(end)} ${tzName(end)}` : dayTimeFmt.format(end);
  return `${dayTimeFmt.format(start)} – ${endText}`;
}

function tzName(d: Date): string {
  const part = dayTimeFmt.formatToParts(d).find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}
