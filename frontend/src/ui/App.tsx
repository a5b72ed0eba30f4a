import { useEffect, useRef } from "preact/hooks";
import { HOMES, SIGN_IN, currentPath, extraLinksForRoles, homeForRoles, homesForRoles, navigate } from "../lib/routes";
import { session } from "../lib/session";
import { EmptyHome } from "../screens/EmptyHome";
import { LockScreen } from "../screens/LockScreen";
import { OutboxScreen } from "../screens/OutboxScreen";
import { SignIn } from "../screens/SignIn";
import { Board } from "../screens/board/Board";
import { DispatchConsole } from "../screens/dispatch/DispatchConsole";
import { TeamScreen } from "../screens/team/TeamScreen";
import { ConnectionBanner } from "./ConnectionBanner";
import { Header } from "./Header";
import { useObservable } from "./hooks";
import { Lazy } from "./Lazy";
import { UpdatePrompt } from "./UpdatePrompt";

// Screens loaded on first use (their own chunks, precached by the service worker).
const loadEncounterRoutes = () => import("../screens/encounter/EncounterRoutes").then((m) => m.EncounterRoutes);
const loadFollowups = () => import("../screens/followups/FollowupsScreen").then((m) => m.FollowupsScreen);
const loadSecurity = () => import("../screens/security/SecurityScreen").then((m) => m.SecurityScreen);
const loadClosed = () => import("../screens/closed/ClosedCalls").then((m) => m.ClosedCalls);

export function App() {
  const s = useObservable(session);
  const path = useObservable(currentPath);
  const mainRef = useRef<HTMLElement>(null);

  // Move focus to the new screen's heading after in-app navigation (screen readers announce it),
  // but not on the first screen after loading: there the browser's normal start is right.
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (s.status === "loading") return;
    const key = `${s.status} ${path}`;
    if (shown.current !== null && shown.current !== key) mainRef.current?.querySelector<HTMLElement>("h1")?.focus();
    shown.current = key;
  }, [path, s.status]);

  // "/" and "/signin" while signed in go to the role's home (after render, never during it).
  const redirect = s.status === "signed_in" && (path === "/" || path === SIGN_IN) ? homeForRoles(s.me.roles) : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  if (s.status === "loading") {
    return (
      <main id="main" class="loading" aria-busy="true">
        <p>Loading Co-Response…</p>
      </main>
    );
  }

  if (s.status === "locked") {
    // Only the lock screen is rendered: every screen (and the data it held) is unmounted.
    return (
      <>
        <Header me={null} />
        <main id="main" ref={mainRef} tabIndex={-1}>
          <LockScreen user={s.user} />
        </main>
      </>
    );
  }

  if (s.status === "signed_out") {
    return (
      <>
        <a class="skip-link" href="#main" data-native>
          Skip to content
        </a>
        <Header me={null} />
        <main id="main" ref={mainRef} tabIndex={-1}>
          <SignIn notice={s.notice} />
        </main>
      </>
    );
  }

  const me = s.me;
  const homes = homesForRoles(me.roles);
  const extras = extraLinksForRoles(me.roles);
  const navLinks = [...homes, ...extras];
  let screen;
  const home = HOMES.find((h) => h.path === path);
  if (redirect) {
    screen = null;
  } else if (path === "/outbox") {
    screen = <OutboxScreen />;
  } else if (path === "/security") {
    screen = <Lazy load={loadSecurity} props={{ me }} />;
  } else if (path === "/closed" && extras.some((l) => l.path === path)) {
    screen = <Lazy load={loadClosed} props={{}} />;
  } else if (path === "/followups" && extras.some((l) => l.path === path)) {
    screen = <Lazy load={loadFollowups} props={{ me }} />;
  } else if (home && !homes.includes(home)) {
    screen = <EmptyHome title={home.label} message="This area is not part of your role." showHomeLink />;
  } else if (path === "/team") {
    screen = <TeamScreen me={me} stale={s.stale} />;
  } else if (path === "/dispatch") {
    screen = <DispatchConsole />;
  } else if (path === "/followups") {
    screen = <Lazy load={loadFollowups} props={{ me }} />;
  } else if (path === "/encounters" || path.startsWith("/encounters/")) {
    screen = <Lazy load={loadEncounterRoutes} props={{ me, path }} />;
  } else if (path === "/board") {
    screen = <Board me={me} />;
  } else if (path === "/no-role") {
    screen = <EmptyHome title="No role assigned" message="Your account has no role yet. Ask an administrator to assign one." />;
  } else {
    screen = <EmptyHome title="Page not found" message="There is nothing at this address." showHomeLink />;
  }

  return (
    <>
      <a class="skip-link" href="#main" data-native>
        Skip to content
      </a>
      <Header me={me} />
      <ConnectionBanner />
      <UpdatePrompt />
      {navLinks.length > 1 && (
        <nav class="role-nav" aria-label="Role">
          <ul>
            {navLinks.map((h) => (
              <li key={h.path}>
                <a href={h.path} aria-current={path === h.path ? "page" : undefined}>
                  {h.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      <main id="main" ref={mainRef} tabIndex={-1}>
        {screen}
      </main>
    </>
  );
}
