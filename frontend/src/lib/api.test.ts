import { beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, NetworkError, api, configureApi, forgetCsrf } from "./api";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("api()", () => {
  beforeEach(() => {
    forgetCsrf();
  });

  it("parses the error shape into ApiError with field errors and the current state", async () => {
    configureApi({
      fetch: async () => json(409, { message: "Stale revision", errors: { revision: ["Out of date"] }, current: { revision: 4 } }),
    });
    const err = await api("/api/v1/x/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(409);
    expect(e.message).toBe("Stale revision");
    expect(e.fieldErrors).toEqual({ revision: ["Out of date"] });
    expect(e.current).toEqual({ revision: 4 });
    expect(e.isSessionLost).toBe(false);
  });

  it("reports a lost session on 403 not-authenticated, but not on a permission 403", async () => {
    const onSessionLost = vi.fn();
    configureApi({ fetch: async () => json(403, { message: "Authentication credentials were not provided.", errors: {} }), onSessionLost });
    await expect(api("/api/v1/me/")).rejects.toBeInstanceOf(ApiError);
    expect(onSessionLost).toHaveBeenCalledTimes(1);

    configureApi({ fetch: async () => json(403, { message: "You do not have permission to perform this action.", errors: {} }) });
    await expect(api("/api/v1/notes/1/")).rejects.toMatchObject({ status: 403 });
    expect(onSessionLost).toHaveBeenCalledTimes(1);
  });

  it("turns a failed fetch into NetworkError", async () => {
    configureApi({
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(api("/api/v1/me/")).rejects.toBeInstanceOf(NetworkError);
  });

  it("fetches a CSRF token before the first unsafe request and retries once after a CSRF failure", async () => {
    let tokens = 0;
    const calls: Array<[string, Record<string, string>]> = [];
    configureApi({
      fetch: async (url, init) => {
        calls.push([url, (init?.headers ?? {}) as Record<string, string>]);
        if (url === "/api/v1/auth/csrf/") return json(200, { csrfToken: `t${++tokens}` });
        const h = (init?.headers ?? {}) as Record<string, string>;
        if (h["X-CSRFToken"] === "t1") return json(403, { message: "CSRF Failed: CSRF token incorrect.", errors: {} });
        return json(200, { ok: true });
      },
    });
    await expect(api("/api/v1/things/", { method: "POST", body: {} })).resolves.toEqual({ ok: true });
    expect(calls.map(([u, h]) => `${u} ${h["X-CSRFToken"] ?? ""}`.trim())).toEqual([
      "/api/v1/auth/csrf/",
      "/api/v1/things/ t1",
      "/api/v1/auth/csrf/",
      "/api/v1/things/ t2",
    ]);
  });
});
