import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

/**
 * Loads a screen's code on first use (its own chunk, precached by the service worker, so it also
 * opens offline). Keeps the initial JavaScript small.
 */
export function Lazy<P extends object>({ load, props }: { load: () => Promise<ComponentType<P>>; props: P }) {
  const [Comp, setComp] = useState<ComponentType<P> | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let alive = true;
    load()
      .then((c) => alive && setComp(() => c))
      .catch(() => alive && setFailed(true));
    return () => {
      alive = false;
    };
  }, [load]);
  if (failed) {
    return (
      <section class="card">
        <h1 tabIndex={-1}>Could not open this screen</h1>
        <p role="alert">This part of the app could not be loaded. Check the connection and reload.</p>
      </section>
    );
  }
  if (!Comp) return <p aria-busy="true">Loading…</p>;
  return <Comp {...props} />;
}
