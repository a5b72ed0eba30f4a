import type { Role } from "./api";
import { Observable } from "./observable";

/** The role homes, in the order that decides where a person with several roles lands. */
export interface Home {
  path: string;
  label: string;
  roles: Role[];
}

export const HOMES: Home[] = [
  { path: "/team", label: "Team", roles: ["officer", "clinician"] },
  { path: "/dispatch", label: "Dispatch", roles: ["dispatcher"] },
  { path: "/followups", label: "Follow-ups", roles: ["care_navigator"] },
  { path: "/board", label: "Board", roles: ["supervisor", "clinical_supervisor", "admin", "analyst"] },
];

/** The homes a person may open, in priority order. */
export function homesForRoles(roles: readonly string[]): Home[] {
  return HOMES.filter((h) => h.roles.some((r) => roles.includes(r)));
}

/** Where a person lands after sign-in: the first home (in HOMES order) that one of their roles has. */
export function homeForRoles(roles: readonly string[]): string {
  return homesForRoles(roles)[0]?.path ?? "/no-role";
}

/** Screens outside the role homes, listed in the role nav for these roles (encounters, follow-ups). */
export const EXTRA_LINKS: Home[] = [
  { path: "/encounters", label: "Encounters", roles: ["clinician", "clinical_supervisor", "care_navigator", "officer"] },
  { path: "/followups", label: "Follow-ups", roles: ["clinician", "clinical_supervisor", "care_navigator"] },
  { path: "/closed", label: "Closed calls", roles: ["dispatcher", "supervisor", "admin"] },
];

/** The extra links a person gets (those not already one of their homes). */
export function extraLinksForRoles(roles: readonly string[]): Home[] {
  const homes = homesForRoles(roles).map((h) => h.path);
  return EXTRA_LINKS.filter((l) => !homes.includes(l.path) && l.roles.some((r) => roles.includes(r)));
}

// ---- Tiny history router ---------------------------------------------------------------------

export const SIGN_IN = "/signin";

export const currentPath = new Observable<string>(typeof location === "undefined" ? "/" : location.pathname);

/** `path` may carry a query string (`/encounters/new?incident=5`); `currentPath` holds the pathname only. */
export function navigate(path: string, opts: { replace?: boolean } = {}): void {
  const pathname = path.split(/[?#]/)[0] || "/";
  if (path === location.pathname + location.search) {
    currentPath.set(pathname);
    return;
  }
  if (opts.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  currentPath.set(pathname);
}

export function startRouter(): () => void {
  const onPop = () => currentPath.set(location.pathname);
  // Same-origin <a href="/..."> clicks stay in the app (no full reload, no server round trip).
  const onClick = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download") || a.dataset.native !== undefined) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || /^\/(api|admin|ws)\//.test(url.pathname)) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  };
  window.addEventListener("popstate", onPop);
  document.addEventListener("click", onClick);
  return () => {
    window.removeEventListener("popstate", onPop);
    document.removeEventListener("click", onClick);
  };
}
