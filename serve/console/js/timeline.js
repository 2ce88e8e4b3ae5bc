// A scrubber over [start, end): recorded runs, event markers (plates; camera offline/online alerts, by ``kind``),
// thumbnails on hover; a click says "play from here",
// a drag selects a range (for clips).
import { h } from "./dom.js";

export function drawTimeline(bar, { start, end, runs, marks, thumbs, onPick, onSelect }) {
  const span = end - start;
  const x = (ms) => `${((ms - start) / span) * 100}%`;
  const at = (clientX) => {
    const box = bar.getBoundingClientRect();
    return start + Math.min(1, Math.max(0, (clientX - box.left) / box.width)) * span;
  };
  bar.dataset.start = start;
  bar.dataset.end = end;
  const sel = h("div", { class: "sel", hidden: true });
  const head = h("div", { class: "head", hidden: true });
  const hover = h("img", { class: "hover", hidden: true, alt: "" });
  bar.replaceChildren(
    ...runs.map((r) => h("div", { class: "run", "data-start": r.start, "data-end": r.end,
      style: `left:${x(r.start)};width:${x(start + r.end - r.start)}` })),
    ...marks.map((m) => h("div", { class: `mark ${m.kind ?? ""}`.trim(), title: m.title, style: `left:${x(m.at)}` })),
    sel, head, hover);
  let down = null;
  bar.onmousedown = (e) => { down = e.clientX; };
  bar.onmousemove = (e) => {
    const ms = at(e.clientX);
    if (down !== null && Math.abs(e.clientX - down) > 4) {
      const [a, b] = [at(down), ms].sort((p, q) => p - q);
      Object.assign(sel.style, { left: x(a), width: x(start + b - a) });
      sel.hidden = false;
    }
    const near = thumbs.filter((th) => th.at <= ms).at(-1);
    hover.hidden = !near;
    if (near) { hover.src = near.url; hover.style.left = `calc(${x(ms)} - 80px)`; }
  };
  bar.onmouseleave = () => { hover.hidden = true; };
  bar.onmouseup = (e) => {
    if (down === null) return;
    const [from, to] = [at(down), at(e.clientX)];
    down = null;
    if (Math.abs(to - from) < span / 400) { sel.hidden = true; onPick(from); } else onSelect(Math.min(from, to), Math.max(from, to));
  };
  return { moveHead(ms) { head.hidden = ms === null || ms < start || ms > end; if (ms !== null) head.style.left = x(ms); } };
}
