// The console's shell: sign-in, the city, navigation by #/page?query, the event socket and its toasts.
import { api, isAdmin, isManager, logout, me, onSignOut } from "./api.js";
import { h } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { loadCameras } from "./cameras_store.js";
import { closeEvents, connectEvents, onEvent } from "./events.js";
import { lprToast } from "./toasts.js";
import { loginPage } from "./pages/login.js";
import { camerasPage } from "./pages/cameras.js";
import { mosaicPage } from "./pages/mosaic.js";
import { playbackPage } from "./pages/playback.js";
import { clipsPage } from "./pages/clips.js";
import { platesPage } from "./pages/plates.js";
import { auditPage, healthPage, usersPage } from "./pages/health.js";

const PAGES = { cameras: camerasPage, mosaic: mosaicPage, playback: playbackPage, clips: clipsPage, plates: platesPage,
                health: healthPage, users: usersPage, audit: auditPage };
const MANAGERS_ONLY = new Set(["users", "audit"]);
const main = document.getElementById("main");
let tenantId = null;
let leave = null;

async function start() {
  setLanguage(language());
  document.documentElement.lang = language();
  if (!me()) {
    document.getElementById("bar").hidden = true;
    loginPage(main, start);
    return;
  }
  const citySel = document.getElementById("city");
  if (isAdmin()) {
    const cities = await api("/tenants");
    citySel.replaceChildren(...cities.map((c) => h("option", { value: c.id }, c.name)));
    tenantId = sessionStorage.getItem("gtv.city") || cities[0]?.id;
    citySel.value = tenantId;
    citySel.hidden = false;
  } else {
    tenantId = me().tenant_id;
  }
  document.getElementById("bar").hidden = false;
  document.getElementById("logout").textContent = t("logout");
  document.getElementById("nav").replaceChildren(...Object.keys(PAGES).filter((p) => isManager() || !MANAGERS_ONLY.has(p))
    .map((p) => h("a", { href: `#/${p}`, dataset: { page: p } }, t(p))));
  await loadCameras(tenantId);
  connectEvents(tenantId);
  await route();
}

// Routes can overlap (a city switch re-routes while the operator follows a link): each draws into a view of its
// own, and one overtaken by a newer route is left at once, so its page never draws over the newer one nor keeps
// its sockets open.
let routes = 0;

async function route() {
  if (!me()) return;
  const turn = ++routes;
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const page = PAGES[path] ? path : "mosaic";
  if (typeof leave === "function") leave();
  leave = null;
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("on", a.dataset.page === page));
  document.body.dataset.page = page;
  const view = h("div", {});
  main.replaceChildren(view);
  let left = null;
  try {
    left = await PAGES[page](view, new URLSearchParams(query ?? ""), tenantId);
  } catch (failed) {
    view.replaceChildren(h("div", { class: "error" }, failed.message));
  }
  if (turn !== routes) {
    if (typeof left === "function") left();
    return;
  }
  leave = left;
  document.body.dataset.ready = page;
}

onEvent((event) => { if (event.type === "lpr.alert") lprToast(event, tenantId); });
onSignOut(() => { closeEvents(); if (typeof leave === "function") leave(); leave = null; location.hash = ""; start(); });
window.addEventListener("hashchange", () => { delete document.body.dataset.ready; route(); });
document.getElementById("logout").addEventListener("click", () => logout());
document.getElementById("lang").value = language();
document.getElementById("lang").addEventListener("change", (e) => { setLanguage(e.target.value); location.reload(); });
document.getElementById("city").addEventListener("change", async (e) => {
  sessionStorage.setItem("gtv.city", e.target.value);
  tenantId = e.target.value;
  await loadCameras(tenantId);
  connectEvents(tenantId);
  route();
});
start();
