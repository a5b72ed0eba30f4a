import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { AssignmentInboxApiOutput } from "../../generated/api";
import { ApiError, NetworkError, api, type Me } from "../../lib/api";
import { inTopics } from "../../lib/events";
import { markSeen, onServerEvent, outbox } from "../../lib/session";
import { formatDayTime } from "../../lib/time";
import { TeamHome } from "../TeamHome";
import { beep, closeOfferNotification, offerEndedText, vibrate } from "./alert";
import {
  FIELD_ORDER,
  INCIDENT_STATUS_LABEL,
  STATUS_LABEL,
  activeOf,
  callTypeLabel,
  applyAssignmentEvent,
  incomingOf,
  mapLink,
  mapPlatform,
  ACTION_LABEL,
  mergeInbox,
  withPending,
  nextStatuses,
  safetyFlags,
  type FieldStatus,
  type InboxItem,
} from "./assignment";
import { PushCard } from "./PushCard";
import { queueWrite, takeConflicts, type WriteResult } from "./write";
import { useObservable } from "../../ui/hooks";

interface TimelineEntry {
  at: string;
  kind: string;
  field: string;
  old_value: string;
  new_value: string;
  actor: string | null;
  /** The entry as people read it, written by the server (apps/incidents/labels.py). */
  text?: string;
}

type Notice = { kind: "ok" | "queued" | "error"; text: string } | null;

function conflictText(label: string | undefined, message: string, current: unknown): string {
  const cur = current as { status?: string; team_call_sign?: string } | undefined;
  const what = label ? `${label}: not done.` : "Not done.";
  if (!cur?.status) return `${what} ${message}`;
  const who = cur.team_call_sign ? ` (team ${cur.team_call_sign})` : "";
  return `${what} This assignment is now "${STATUS_LABEL[cur.status] ?? cur.status}"${who}. ${message}`;
}

function describeResult(r: WriteResult, done: string, label: string): Notice {
  if (r.state === "sent") return { kind: "ok", text: done };
  if (r.state === "queued") return { kind: "queued", text: "No signal: saved on this device, it will be sent automatically." };
  if (r.status === 409) return { kind: "error", text: conflictText(label, r.message, r.current) };
  return { kind: "error", text: `Not accepted by the server: ${r.message}` };
}

/** The server's words for the entry (a cached answer from an older server may lack them). */
function timelineText(e: TimelineEntry): string {
  if (e.text) return e.text;
  const to = STATUS_LABEL[e.new_value] ?? INCIDENT_STATUS_LABEL[e.new_value] ?? e.new_value;
  return to ? `Update: ${to}` : "Update";
}

export function TeamScreen({ me, stale }: { me: Me; stale: boolean }) {
  const teamId = me.current_shift?.team.id ?? null;
  const [items, setItems] = useState<InboxItem[]>([]);
  // The list as last rendered, for the live-event handler (what was on screen when an offer ended).
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  // The inbox could not be read (no signal): an offer that arrived live is shown unconfirmed.
  const [unreachable, setUnreachable] = useState(false);
  // Only the newest inbox request's answer is applied (an older one may answer last).
  const requests = useRef(0);
  const [notice, setNotice] = useState<Notice>(null);
  const [timeline, setTimeline] = useState<TimelineEntry[]>([]);
  const outboxVersion = useObservable(outbox.version);
  // Writes whose 409 was already shown (so a later "sent" for the same write does not overwrite it).
  const shownConflicts = useRef(new Set<string>());
  // Statuses tapped here whose writes wait in the outbox (assignment id → status).
  const pendingStatus = useRef(new Map<number, string>());

  const reload = useCallback(async () => {
    const request = ++requests.current;
    try {
      // The server's rows (generated type) are inbox items: tsc checks InboxItem agrees with them.
      const rows: InboxItem[] = await api<AssignmentInboxApiOutput[]>("/api/v1/assignments/inbox/");
      if (request !== requests.current) return;
      setItems((known) => withPending(mergeInbox(known, rows), pendingStatus.current));
      setLoadError(null);
      setUnreachable(false);
    } catch (e) {
      if (request !== requests.current) return;
      if (e instanceof NetworkError) {
        setLoadError("Offline: showing what this device last received.");
        setUnreachable(true);
      } else if (e instanceof ApiError && !e.isSessionLost) setLoadError(e.message);
    } finally {
      setLoaded(true);
    }
  }, []);

  useEffect(() => {
    void reload();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsub = onServerEvent((event) => {
      if (!inTopics(event, ["assignment", "incident"])) return;
      const id = typeof event.data.assignment_id === "number" ? event.data.assignment_id : null;
      if (id !== null && event.type !== "assignment.offered" && event.type !== "assignment.acknowledged") {
        // The offer is answered or over: its lock-screen notification goes too.
        void closeOfferNotification(id);
        const mine = itemsRef.current.find((i) => i.id === id);
        const text = mine ? offerEndedText(event.type, callTypeText(mine)) : null;
        if (text) setNotice({ kind: "error", text });
      }
      setItems((cur) => applyAssignmentEvent(cur, event, teamId));
      if (timer) clearTimeout(timer);
      // An offer is confirmed by the inbox before it rings (it may be an old one replayed at sign-in):
      // ask at once. Other changes are already applied; the reload only settles them.
      if (event.type === "assignment.offered") void reload();
      else timer = setTimeout(() => void reload(), 250);
    });
    return () => {
      unsub();
      if (timer) clearTimeout(timer);
    };
  }, [reload, teamId]);

  // A write queued without signal and refused on replay (409: the partner or dispatcher changed
  // the assignment first): show the current state and reload.
  useEffect(() => {
    if (outbox.pending.value === 0 && pendingStatus.current.size > 0) {
      pendingStatus.current.clear(); // every queued write has been answered: the server knows
      void reload();
    }
    void takeConflicts(outbox, shownConflicts.current).then((conflicts) => {
      // A refused "seen" needs no words: the reload shows who has the call now.
      const last = conflicts.filter((c) => !c.url.endsWith("/acknowledge/")).pop();
      if (!conflicts.length) return;
      void reload();
      if (!last) return;
      setNotice({ kind: "error", text: conflictText(last.label, last.last_error ?? "", last.current) });
    });
  }, [outboxVersion, reload]);

  const incoming = incomingOf(items, { serverReachable: !unreachable });
  const active = activeOf(items);

  // "Seen" receipt for the offer on screen, once its event cursor is known (the offer may first
  // come from the REST inbox and its event a moment later).
  const seenCursors = useRef(new Set<number>());
  const seenCursor = incoming?.offer_cursor;
  useEffect(() => {
    if (!seenCursor || seenCursors.current.has(seenCursor)) return;
    seenCursors.current.add(seenCursor);
    void markSeen(seenCursor).then((ok) => {
      if (!ok) seenCursors.current.delete(seenCursor); // try again on the next render
    });
  }, [seenCursor]);

  // Timeline of the active call (reloaded on every change of it).
  const activeKey = active ? `${active.incident_id}:${active.status}` : "";
  useEffect(() => {
    if (!active) {
      setTimeline([]);
      return;
    }
    let cancelled = false;
    api<{ timeline?: TimelineEntry[] }>(`/api/v1/incidents/${active.incident_id}/`)
      .then((d) => {
        if (!cancelled) setTimeline((d.timeline ?? []).slice(-12).reverse());
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [activeKey]);

  const apply = (id: number, status: string) => setItems((cur) => cur.map((i) => (i.id === id ? { ...i, status } : i)));

  const write = async (item: InboxItem, path: string, body: unknown, label: string, done: string, optimistic?: string) => {
    const r = await queueWrite(outbox, { method: "POST", url: `/api/v1/assignments/${item.id}/${path}/`, body, label });
    if (!shownConflicts.current.has(r.id)) setNotice(describeResult(r, done, label));
    if (r.state !== "rejected" && optimistic && !shownConflicts.current.has(r.id)) apply(item.id, optimistic);
    if (r.state === "queued" && optimistic) pendingStatus.current.set(item.id, optimistic);
    if (r.state === "rejected" && r.status === 409) {
      const cur = r.current as { status?: string } | undefined;
      if (cur?.status) setItems((list) => applyAssignmentEvent(list, { cursor: 0, type: "assignment.status", data: { assignment_id: item.id, status: cur.status } }, teamId));
    }
    void reload();
    return r;
  };

  return (
    // On a call, the call comes first: its next step must be on the first screen of a phone.
    <TeamHome me={me} stale={stale} childrenFirst={!!active}>
      {incoming && (
        <IncomingAlert
          key={incoming.id}
          item={incoming}
          onShown={() => {
            if (incoming.status === "offered")
              void queueWrite(outbox, { method: "POST", url: `/api/v1/assignments/${incoming.id}/acknowledge/`, label: "Assignment seen" }).then((r) => {
                // Already accepted or withdrawn elsewhere: nothing to tell the person; the reload shows it.
                if (r.state === "rejected" && r.status === 409) shownConflicts.current.add(r.id);
              });
          }}
          onAccept={() => write(incoming, "accept", undefined, "Accept assignment", "Accepted.", "accepted")}
          onDecline={(reason) => write(incoming, "decline", { reason }, "Decline assignment", "Declined.", "declined")}
        />
      )}
      <section class="card assignment" aria-labelledby="assignment-title">
        <h2 id="assignment-title">Assignment</h2>
        {notice && (
          <p class={`notice notice-${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>
            {notice.text}
          </p>
        )}
        {loadError && <p class="muted">{loadError}</p>}
        {!active ? (
          <p class="empty">{loaded ? "No active assignment" : "Loading…"}</p>
        ) : (
          <ActiveAssignment
            item={active}
            me={me}
            timeline={timeline}
            onStatus={(s) => write(active, "status", { status: s }, `Status: ${ACTION_LABEL[s]}`, `Status set: ${STATUS_LABEL[s] ?? ACTION_LABEL[s]}.`, s)}
          />
        )}
      </section>
      <PushCard me={me} />
    </TeamHome>
  );
}

function SafetyList({ flags }: { flags: string[] }) {
  if (!flags.length) return <p class="safety-none">No safety flags reported</p>;
  return (
    <ul class="safety-flags" aria-label="Safety flags">
      {flags.map((f) => (
        <li key={f}>⚠ {f}</li>
      ))}
    </ul>
  );
}

function callTypeText(i: InboxItem): string {
  return callTypeLabel(i.incident.call_type_code, i.incident.call_type_description);
}

/** Marks every element outside `el` (its ancestors' siblings) inert; returns the undo. */
export function makeOthersInert(el: Element | null): () => void {
  const changed: Element[] = [];
  for (let node = el; node && node.parentElement && node !== document.body; node = node.parentElement) {
    for (const sib of Array.from(node.parentElement.children)) {
      if (sib !== node && !sib.hasAttribute("inert") && sib.tagName !== "SCRIPT") {
        sib.setAttribute("inert", "");
        changed.push(sib);
      }
    }
  }
  return () => {
    for (const e of changed) e.removeAttribute("inert");
  };
}

function IncomingAlert({
  item,
  onShown,
  onAccept,
  onDecline,
}: {
  item: InboxItem;
  onShown: () => void;
  onAccept: () => Promise<WriteResult>;
  onDecline: (reason: string) => Promise<WriteResult>;
}) {
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState("");
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Once per offer: alert the person and tell the server it is on screen.
    beep();
    vibrate();
    onShown();
    headingRef.current?.focus();
    // Modal: everything else on the page is inert while the offer is up (no tabbing behind it).
    return makeOthersInert(rootRef.current);
  }, []);

  const inc = item.incident;
  const flags = safetyFlags(inc);
  const run = async (fn: () => Promise<WriteResult>) => {
    setBusy(true);
    try {
      await fn();
    } finally {
      setBusy(false);
    }
  };

  return (
    <div ref={rootRef} class="incoming" role="alertdialog" aria-modal="true" aria-labelledby="incoming-title" aria-describedby="incoming-what">
      <div class="incoming-inner">
        <h2 id="incoming-title" ref={headingRef} tabIndex={-1}>
          New assignment
        </h2>
        <SafetyList flags={flags} />
        <p id="incoming-what" class="incoming-type">
          {callTypeText(item)}
        </p>
        <dl class="facts">
          <div>
            <dt>Priority</dt>
            <dd>{inc.priority ?? "—"}{inc.priority_local ? ` (${inc.priority_local})` : ""}</dd>
          </div>
          <div>
            <dt>Address</dt>
            <dd>{inc.address || "—"}</dd>
          </div>
          {inc.beat && (
            <div>
              <dt>Beat</dt>
              <dd>{inc.beat}</dd>
            </div>
          )}
        </dl>
        {!declining ? (
          <div class="incoming-actions">
            <button type="button" class="btn btn-accept btn-block" disabled={busy} onClick={() => void run(onAccept)}>
              Accept
            </button>
            <button type="button" class="btn btn-secondary btn-block" disabled={busy} onClick={() => setDeclining(true)}>
              Decline…
            </button>
          </div>
        ) : (
          <form
            class="decline-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (!reason.trim()) {
                setReasonError("Give a reason for declining.");
                return;
              }
              void run(() => onDecline(reason.trim()));
            }}
          >
            <div class="field">
              <label for="decline-reason">Reason for declining (required)</label>
              <textarea
                id="decline-reason"
                rows={2}
                maxLength={300}
                value={reason}
                aria-invalid={reasonError ? "true" : undefined}
                aria-describedby={reasonError ? "decline-reason-error" : undefined}
                onInput={(e) => {
                  setReason((e.target as HTMLTextAreaElement).value);
                  setReasonError(null);
                }}
              />
              {reasonError && (
                <p id="decline-reason-error" class="field-error" role="alert">
                  {reasonError}
                </p>
              )}
            </div>
            <div class="incoming-actions">
              <button type="submit" class="btn btn-danger btn-block" disabled={busy}>
                Decline assignment
              </button>
              <button type="button" class="btn btn-secondary btn-block" onClick={() => setDeclining(false)}>
                Back
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}

function ActiveAssignment({
  item,
  me,
  timeline,
  onStatus,
}: {
  item: InboxItem;
  me: Me;
  timeline: TimelineEntry[];
  onStatus: (s: FieldStatus) => Promise<WriteResult>;
}) {
  const [busy, setBusy] = useState(false);
  const inc = item.incident;
  const legal = nextStatuses(item.status);
  const map = mapLink(inc, mapPlatform(navigator.userAgent, navigator.maxTouchPoints ?? 0));
  const isClinician = me.roles.includes("clinician");
  return (
    <div class="active-assignment">
      <p class="active-head">
        <span class="pill pill-status">{STATUS_LABEL[item.status] ?? item.status}</span>{" "}
        <span class="incoming-type">{callTypeText(item)}</span>
      </p>
      <SafetyList flags={safetyFlags(inc)} />
      {/* The next step right under the safety flags: on a 360x640 phone it is on the first screen. */}
      <div class="status-buttons" role="group" aria-label="Set status">
        {FIELD_ORDER.filter((s) => legal.includes(s)).map((s) => (
          <button
            key={s}
            type="button"
            class={`btn btn-block ${s === "cleared" ? "btn-secondary" : "btn-primary"}`}
            disabled={busy}
            onClick={() => {
              setBusy(true);
              void onStatus(s).finally(() => setBusy(false));
            }}
          >
            {ACTION_LABEL[s]}
          </button>
        ))}
      </div>
      <dl class="facts">
        <div>
          <dt>Address</dt>
          <dd>{inc.address || "—"}</dd>
        </div>
        <div>
          <dt>Priority</dt>
          <dd>{inc.priority ?? "—"}</dd>
        </div>
        {inc.subject_name && (
          <div>
            <dt>Subject</dt>
            <dd>{inc.subject_name}</dd>
          </div>
        )}
      </dl>
      <p class="links">
        {map && (
          <a
            class="btn btn-secondary"
            href={map}
            data-native
            {...(map.startsWith("https:") ? { target: "_blank", rel: "noopener noreferrer" } : {})}
          >
            Open map
          </a>
        )}
        {isClinician && (
          <a class="btn btn-secondary" href={`/encounters/new?incident=${item.incident_id}&assignment=${item.id}`}>
            Encounter
          </a>
        )}
      </p>
      <h3>Timeline</h3>
      {timeline.length === 0 ? (
        <p class="muted">No entries yet.</p>
      ) : (
        <ol class="timeline">
          {timeline.map((e, i) => (
            <li key={`${e.at}-${i}`}>
              <span class="muted">{formatDayTime(e.at)}</span> {timelineText(e)}
              {e.actor ? <span class="muted"> · {e.actor}</span> : null}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
