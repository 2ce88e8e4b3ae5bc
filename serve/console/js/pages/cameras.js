// The camera list (search, state filter, live badges) and the map from /cameras.geojson.
import { h } from "../dom.js";
import { stateWord, t } from "../i18n.js";
import { cameras, onCameras } from "../cameras_store.js";
import { drawMap } from "../map.js";

export function camerasPage(main) {
  const search = h("input", { id: "camera-search", type: "search", placeholder: t("search") });
  const filter = h("select", { id: "camera-filter" },
    ["", "online", "troubled", "unknown", "disabled"].map((m) => h("option", { value: m }, m ? t(m) : t("all"))));
  const list = h("tbody");
  const map = h("div", { class: "map", id: "map" });
  const render = () => {
    const term = search.value.trim().toLowerCase();
    const shown = cameras().filter((f) => (!term || f.properties.name.toLowerCase().includes(term))
      && (!filter.value || f.properties.marker === filter.value));
    list.replaceChildren(...shown.map((f) => h("tr", { dataset: { camera: f.id } },
      h("td", {}, h("a", { href: `#/playback?camera=${f.id}` }, f.properties.name)),
      h("td", {}, h("span", { class: `badge ${f.properties.marker}`, dataset: { state: f.properties.state ?? "" } },
        f.properties.state ? stateWord(f.properties.state) : t(f.properties.marker))))));
    drawMap(map, cameras());
  };
  search.addEventListener("input", render);
  filter.addEventListener("change", render);
  main.replaceChildren(h("div", { class: "split" },
    h("section", {}, h("div", { class: "row" }, search, filter),
      h("table", { id: "camera-list" }, h("thead", {}, h("tr", {}, h("th", {}, t("name")), h("th", {}, t("state")))), list)),
    h("section", {}, map)));
  render();
  return onCameras(render);
}
