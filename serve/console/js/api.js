// The API session: tokens kept in sessionStorage (one tab, gone with it), refreshed silently before they expire.
const KEY = "gtv.session";
let session = JSON.parse(sessionStorage.getItem(KEY) || "null");
let refreshTimer = null;
let refreshing = null;
const signedOut = new Set();

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export const me = () => session?.me ?? null;
export const isManager = () => ["manager", "admin"].includes(me()?.role);
export const isAdmin = () => me()?.role === "admin";
export const onSignOut = (fn) => signedOut.add(fn);
export const accessToken = () => session?.access_token;

function keep(pair) {
  session = { ...session, access_token: pair.access_token, refresh_token: pair.refresh_token,
              expires_at: Date.now() + pair.expires_in * 1000 };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  schedule();
}

function schedule() {
  clearTimeout(refreshTimer);
  if (!session) return;
  const wait = Math.max(5_000, (session.expires_at - Date.now()) * 0.8);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

async function refresh() {
  refreshing ??= (async () => {
    const answer = await fetch("/api/v1/auth/refresh", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: session?.refresh_token ?? "" }) });
    if (!answer.ok) { forget(); throw new ApiError(401, "session ended"); }
    keep(await answer.json());
  })().finally(() => { refreshing = null; });
  return refreshing;
}

function forget() {
  clearTimeout(refreshTimer);
  session = null;
  sessionStorage.removeItem(KEY);
  signedOut.forEach((fn) => fn());
}

export async function login(username, password) {
  const answer = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
  if (!answer.ok) throw new ApiError(answer.status, await detail(answer));
  session = {};
  keep(await answer.json());
  session.me = await api("/auth/me");
  session.me.username = username;
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export async function logout() {
  try { await api("/auth/logout", { method: "POST" }); } finally { forget(); }
}

async function detail(answer) {
  try {
    const body = await answer.json();  // {"error": {"status", "message"}} (serve/errors.py)
    return body.error?.message ?? JSON.stringify(body);
  } catch { return answer.statusText; }
}

/** A call to /api/v1: JSON in and out (``raw`` gives the Response), one silent refresh on 401. */
export async function api(path, { method = "GET", body, raw = false, retried = false } = {}) {
  const headers = { authorization: `Bearer ${session?.access_token ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const answer = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (answer.status === 401 && !retried && session?.refresh_token) {
    await refresh();
    return api(path, { method, body, raw, retried: true });
  }
  if (!answer.ok) throw new ApiError(answer.status, await detail(answer));
  if (raw) return answer;
  return answer.status === 204 ? null : answer.json();
}

/** An image or file the API serves to the bearer, as an object URL (no token in any URL). */
export async function blobUrl(path) {
  return URL.createObjectURL(await (await api(path, { raw: true })).blob());
}

schedule();
