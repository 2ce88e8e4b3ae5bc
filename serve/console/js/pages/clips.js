// Evidence clips of the city: state, progress, SHA-256, download; managers delete.
import { api, isManager } from "../api.js";
import { h } from "../dom.js";
import { t, when } from "../i18n.js";
import { cameraName } from "../cameras_store.js";
import { onEvent } from "../events.js";

export async function clipsPage(main, params, tenantId) {
  const rows = h("tbody", { id: "clip-list" });
  const load = async () => {
    const clips = await api(`/clips?tenant_id=${tenantId}`);
    rows.replaceChildren(...clips.map((clip) => h("tr", { dataset: { clip: clip.id } },
      h("td", {}, cameraName(clip.camera_id)), h("td", {}, `${when(clip.start)} → ${when(clip.end)}`),
      h("td", {}, clip.state === "done" ? clip.state : h("progress", { max: 100, value: clip.progress ?? 0 })),
      h("td", {}, h("code", {}, clip.sha256 ?? "")),
      h("td", {}, clip.state === "done" ? h("button", { type: "button", onclick: async () => {
        const link = await api(`/clips/${clip.id}/download`);
        location.href = link.url;
      } }, t("download")) : ""),
      h("td", {}, isManager() ? h("button", { type: "button", onclick: async () => {
        await api(`/clips/${clip.id}`, { method: "DELETE" }); load(); } }, t("delete")) : ""))));
  };
  main.replaceChildren(h("h3", {}, t("clips")), h("table", {}, h("thead", {}, h("tr", {},
    [t("camera"), t("period"), t("progress"), "SHA-256", "", ""].map((k) => h("th", {}, k)))), rows));
  await load();
  return onEvent((event) => { if (event.type === "clip" && event.state !== "running") load(); });
}
