// Plate search (wildcards ? and *, period, camera) with each read's image, CSV export, and the watchlist.
import { api, blobUrl, isManager } from "../api.js";
import { h, iso } from "../dom.js";
import { t, when } from "../i18n.js";
import { cameras, cameraName } from "../cameras_store.js";

const DAY = 24 * 3600e3;
const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60e3).toISOString().slice(0, 16);

export async function platesPage(main, params, tenantId) {
  const plate = h("input", { id: "plate-query", placeholder: "ABC1*34", maxlength: 20 });
  const camera = h("select", { id: "plate-camera" }, h("option", { value: "" }, t("all")),
    cameras().map((f) => h("option", { value: f.id }, f.properties.name)));
  const from = h("input", { id: "plate-from", type: "datetime-local", value: local(Date.now() - DAY) });
  const to = h("input", { id: "plate-to", type: "datetime-local", value: local(Date.now() + 3600e3) });
  const results = h("tbody", { id: "plate-results" });
  const error = h("div", { class: "error" });
  const urls = [];
  const query = () => {
    const q = new URLSearchParams({ tenant_id: tenantId, start: iso(Date.parse(from.value)), end: iso(Date.parse(to.value)) });
    if (plate.value.trim()) q.set("plate", plate.value.trim());
    if (camera.value) q.set("camera", camera.value);
    return q;
  };
  const search = async () => {
    error.textContent = "";
    try {
      const found = await api(`/lpr/events?${query()}`);
      results.replaceChildren(...found.events.map((read) => {
        const image = h("td");
        if (read.image_keys.length) {
          blobUrl(`/lpr/events/${read.id}/images/0?tenant_id=${tenantId}`)
            .then((url) => { urls.push(url); image.append(h("img", { src: url, alt: read.plate, class: "plate-image" })); })
            .catch(() => {});
        }
        return h("tr", { dataset: { read: read.id } }, h("td", { class: "plate" }, read.plate), h("td", {}, when(read.captured_at)),
          h("td", {}, cameraName(read.camera_id)), image,
          h("td", {}, h("a", { href: `#/playback?camera=${read.camera_id}&at=${read.captured_at}` }, t("see"))));
      }));
      if (!found.events.length) results.replaceChildren(h("tr", {}, h("td", { colspan: 5 }, t("no_results"))));
    } catch (failed) { error.textContent = failed.message; }
  };
  const csv = async () => {
    try {
      const url = await blobUrl(`/lpr/events.csv?${query()}`);
      const link = h("a", { href: url, download: "placas.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (failed) { error.textContent = failed.message; }
  };
  const watch = h("tbody", { id: "watchlist" });
  const watchPlate = h("input", { id: "watch-plate", placeholder: t("plate"), maxlength: 20 });
  const watchReason = h("input", { id: "watch-reason", placeholder: t("reason") });
  const loadWatch = async () => {
    const entries = await api(`/lpr/watchlist?tenant_id=${tenantId}`).catch(() => []);
    watch.replaceChildren(...entries.map((e) => h("tr", {}, h("td", {}, e.pattern), h("td", {}, e.reason),
      h("td", {}, isManager() ? h("button", { type: "button", onclick: async () => {
        await api(`/lpr/watchlist/${e.id}?tenant_id=${tenantId}`, { method: "DELETE" }); loadWatch(); } }, t("remove")) : ""))));
  };
  const addWatch = async () => {
    try {
      await api("/lpr/watchlist", { method: "POST", body: { plate: watchPlate.value, reason: watchReason.value, tenant_id: tenantId } });
      watchPlate.value = watchReason.value = "";
      loadWatch();
    } catch (failed) { error.textContent = failed.message; }
  };
  main.replaceChildren(
    h("div", { class: "row" }, plate, camera, t("from"), from, t("to"), to,
      h("button", { class: "primary", id: "plate-search", type: "button", onclick: search }, t("search")),
      h("button", { id: "plate-csv", type: "button", onclick: csv }, t("csv"))), error,
    h("table", { class: "reads" }, h("thead", {}, h("tr", {}, ["plate", "when", "camera", "image", ""].map((k) => h("th", {}, k && t(k))))), results),
    h("h3", {}, t("watchlist")),
    isManager() ? h("div", { class: "row" }, watchPlate, watchReason, h("button", { type: "button", onclick: addWatch }, t("add"))) : "",
    h("table", {}, watch));
  if (params.get("plate")) { plate.value = params.get("plate"); search(); }
  loadWatch();
  return () => urls.forEach((u) => URL.revokeObjectURL(u));
}
