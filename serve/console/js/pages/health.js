// The city's health (cameras by state, storage and quota, recording lag), pushed by tenant.health events;
// for managers, the users and the audit log.
import { api, isManager } from "../api.js";
import { h, iso } from "../dom.js";
import { stateWord, t, when } from "../i18n.js";
import { onEvent } from "../events.js";

const card = (label, value, id) => h("div", { class: "card", id }, h("b", {}, value ?? "—"), label);
const gib = (bytes) => (bytes < 2 ** 30 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 30).toFixed(2)} GiB`);

export async function healthPage(main, params, tenantId) {
  const cards = h("div", { class: "cards" });
  const troubled = h("tbody");
  const load = async () => {
    const health = await api(`/tenants/${tenantId}/health`);
    const storage = health.storage;
    cards.replaceChildren(card(t("online"), health.online, "health-online"), card(t("offline"), health.offline, "health-offline"),
      card(t("error"), health.error, "health-error"),
      card(t("storage"), `${gib(storage.recorded_bytes)}${storage.quota_bytes ? ` / ${gib(storage.quota_bytes)}` : ""}`),
      card(t("lag"), health.recording_lag_s ? `${health.recording_lag_s.max} s` : "—"));
    troubled.replaceChildren(...health.troubled.map((c) => h("tr", {}, h("td", {}, c.name),
      h("td", {}, h("span", { class: "badge troubled", dataset: { state: c.state } }, stateWord(c.state))), h("td", {}, c.reason ?? ""), h("td", {}, c.since ? when(c.since) : ""))));
  };
  main.replaceChildren(h("h3", {}, t("health")), cards, h("table", {}, troubled));
  await load();
  return onEvent((event) => { if (event.type === "tenant.health") load(); });
}

export async function usersPage(main, params, tenantId) {
  if (!isManager()) return;
  const users = await api(`/users?tenant_id=${tenantId}`);
  main.replaceChildren(h("h3", {}, t("users")), h("table", { id: "users" },
    h("thead", {}, h("tr", {}, h("th", {}, t("username")), h("th", {}, t("role")))),
    h("tbody", {}, users.map((u) => h("tr", {}, h("td", {}, u.username), h("td", {}, u.role))))));
}

export async function auditPage(main, params, tenantId) {
  if (!isManager()) return;
  const end = Date.now() + 60e3, start = end - 7 * 24 * 3600e3;
  const rows = await api(`/audit?tenant_id=${tenantId}&start=${iso(start)}&end=${iso(end)}&limit=200`);
  main.replaceChildren(h("h3", {}, t("audit")), h("table", { id: "audit" },
    h("thead", {}, h("tr", {}, [t("when"), t("user"), t("action"), t("camera")].map((k) => h("th", {}, k)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, when(r.at)), h("td", {}, r.username ?? r.user_id ?? ""),
      h("td", {}, r.action), h("td", {}, r.camera_id ?? ""))))));
}
