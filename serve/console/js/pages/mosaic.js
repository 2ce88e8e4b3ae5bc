// Live mosaics 1×1 … 4×4: saved mosaics or the city's first cameras; a tile shows "Sinal perdido" while its
// camera sends nothing and recovers by itself; double-click for full view. Tiles watch each camera's sub-stream
// (a 4×4 of 1080p main streams would overload the operator's PC and the city's network); full view, the main one.
import { api } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { cameras, cameraName } from "../cameras_store.js";
import { LivePlayer } from "../live_player.js";

const LAYOUTS = ["1x1", "2x2", "3x3", "4x4"];

export async function mosaicPage(main, params, tenantId) {
  const players = [];
  const grid = h("div", { class: "mosaic", id: "mosaic" });
  const layout = h("select", { id: "layout" }, LAYOUTS.map((l) => h("option", { value: l }, l)));
  const saved = h("select", { id: "saved-mosaics" }, h("option", { value: "" }, "—"));
  layout.value = LAYOUTS.includes(params.get("layout")) ? params.get("layout") : "2x2";
  const mosaics = await api(`/mosaics?tenant_id=${tenantId}`).catch(() => []);
  mosaics.forEach((m) => saved.append(h("option", { value: m.id }, `${m.name} (${m.layout})`)));
  if (params.get("mosaic")) saved.value = params.get("mosaic");

  const stop = () => { players.splice(0).forEach((p) => p.close()); };
  const show = () => {
    stop();
    const chosen = mosaics.find((m) => m.id === saved.value);
    const size = Number((chosen?.layout ?? layout.value)[0]);
    const slots = chosen ? chosen.cameras : cameras().filter((f) => f.properties.enabled).map((f) => f.id);
    grid.style.gridTemplateColumns = `repeat(${size}, 1fr)`;
    grid.style.gridTemplateRows = `repeat(${size}, 1fr)`;
    grid.replaceChildren(...Array.from({ length: size * size }, (_, i) => tile(slots[i] ?? null)));
  };
  const tile = (cameraId) => {
    if (!cameraId) return h("div", { class: "tile empty" });
    const video = h("video", { muted: true, autoplay: true, playsinline: true });
    const lost = h("div", { class: "lost", hidden: true }, t("signal_lost"));
    const box = h("div", { class: "tile", dataset: { camera: cameraId, stream: "sub" } }, video,
      h("span", { class: "label" }, cameraName(cameraId)), lost);
    const player = new LivePlayer(video, cameraId, (isLost) => { lost.hidden = !isLost; box.dataset.lost = isLost; }, "sub");
    box.addEventListener("dblclick", () => {
      const stream = box.classList.toggle("full") ? "main" : "sub";
      box.dataset.stream = stream;
      player.setStream(stream);
    });
    players.push(player);
    return box;
  };
  layout.addEventListener("change", () => { saved.value = ""; show(); });
  saved.addEventListener("change", show);
  main.replaceChildren(h("div", { class: "row" }, t("layout"), layout, t("saved"), saved), grid);
  show();
  window.gtvPlayers = players;  // read by the benchmark (first frame, dropped frames)
  return stop;
}
