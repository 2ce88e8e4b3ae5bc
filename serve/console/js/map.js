// Cameras on a map: SVG markers coloured by state over a plain background, or over raster tiles when the page
// is given a tile URL (gtvision up --map-tile-url: a gtv-tiles meta in the page); many cities have none reachable.
import { h } from "./dom.js";
import { stateWord, t } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const COLOURS = { online: "#1a9850", troubled: "#d73027", disabled: "#878787", unknown: "#fdae61" };
const svg = (tag, attrs) => {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
};
// Web Mercator, in the unit square.
const project = ([lon, lat]) => {
  const s = Math.sin((lat * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
};

export function drawMap(container, features) {
  const placed = features.filter((f) => f.geometry);
  const W = 800, H = 600;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: "100%" });
  const points = placed.map((f) => project(f.geometry.coordinates));
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 0.0005) * 1.3;
  const cx = points.length ? (Math.max(...xs) + Math.min(...xs)) / 2 : 0.5;
  const cy = points.length ? (Math.max(...ys) + Math.min(...ys)) / 2 : 0.5;
  const toScreen = ([x, y]) => [W / 2 + ((x - cx) / span) * W, H / 2 + ((y - cy) / span) * W];
  const tiles = document.querySelector('meta[name="gtv-tiles"]')?.content;
  if (tiles && points.length) {
    const z = Math.max(0, Math.min(18, Math.floor(Math.log2(W / 256 / span))));
    const n = 2 ** z;
    for (let tx = Math.floor((cx - span / 2) * n); tx <= Math.floor((cx + span / 2) * n); tx++) {
      for (let ty = Math.floor((cy - span) * n); ty <= Math.floor((cy + span) * n); ty++) {
        const [x, y] = toScreen([tx / n, ty / n]);
        root.append(svg("image", { href: tiles.replace("{z}", z).replace("{x}", tx).replace("{y}", ty), x, y,
                                   width: (W / span) / n, height: (W / span) / n }));
      }
    }
  }
  placed.forEach((f, i) => {
    const [x, y] = toScreen(points[i]);
    const marker = svg("circle", { cx: x, cy: y, r: 8, fill: COLOURS[f.properties.marker] ?? COLOURS.unknown,
                                   stroke: "#fff", "stroke-width": 2, "data-camera": f.id, class: "marker" });
    marker.append(svg("title", {}));
    marker.firstChild.textContent = `${f.properties.name} — ${stateWord(f.properties.state)}`;
    marker.addEventListener("click", () => { location.hash = `#/playback?camera=${f.id}`; });
    root.append(marker);
  });
  container.replaceChildren(root, ...(tiles ? [] : [h("small", {}, t("map_no_tiles"))]));
}
