// Timeline and playback of one camera: runs and gaps over 1 h … 30 days, plate and offline/online alert markers,
// thumbnails; click to
// play from that instant, speed, previous/next event; managers select a range to export a clip.
import { api, isManager } from "../api.js";
import { h, iso } from "../dom.js";
import { t, when } from "../i18n.js";
import { cameras } from "../cameras_store.js";
import { onEvent } from "../events.js";
import { PlaybackPlayer } from "../playback_player.js";
import { drawTimeline } from "../timeline.js";

const PERIODS = { "1h": 3600e3, "6h": 6 * 3600e3, "24h": 24 * 3600e3, "7d": 7 * 24 * 3600e3, "30d": 30 * 24 * 3600e3 };

export async function playbackPage(main, params) {
  const cameraSel = h("select", { id: "playback-camera" }, cameras().map((f) => h("option", { value: f.id }, f.properties.name)));
  if (params.get("camera")) cameraSel.value = params.get("camera");
  const period = h("select", { id: "period" }, Object.keys(PERIODS).map((p) => h("option", { value: p }, p)));
  const speed = h("select", { id: "speed" }, [1, 2, 4, 8, 16].map((s) => h("option", { value: s }, `${s}×`)));
  const video = h("video", { id: "playback-video", controls: true, muted: true });
  const clock = h("span", { id: "playback-clock" });
  const bar = h("div", { class: "timeline", id: "timeline" });
  const axis = h("div", { class: "axis" });
  const clipBox = h("div", { id: "clip-box", class: "row" });
  const prev = h("button", { id: "prev-event", type: "button" }, t("prev_event"));
  const next = h("button", { id: "next-event", type: "button" }, t("next_event"));
  let player = null, timeline = null, marks = [];

  const play = async (ms) => {
    player?.close();
    player = new PlaybackPlayer(video, cameraSel.value);
    video.playbackRate = Number(speed.value);
    bar.dataset.clicked = Math.round(ms);
    delete video.dataset.startedWallMs;
    await player.playAt(ms).catch((e) => { clock.textContent = e.message; });
  };
  const jump = (direction) => {
    const now = player?.wallNow() ?? Date.now();
    const target = direction > 0 ? marks.find((m) => m.at > now + 1000) : marks.filter((m) => m.at < now - 1000).at(-1);
    if (target) play(target.at - 2000);
  };
  const exportClip = async (from, to) => {
    clipBox.replaceChildren(`${when(iso(from))} → ${when(iso(to))}`);
    if (!isManager()) return;
    const progress = h("progress", { max: 100, value: 0, id: "clip-progress" });
    const button = h("button", { class: "primary", type: "button", id: "clip-export" }, t("export"));
    button.onclick = async () => {
      const job = await api("/clips", { method: "POST", body: { camera_id: cameraSel.value, start: iso(from), end: iso(to) } })
        .catch((e) => { clipBox.append(h("span", { class: "error" }, e.message)); });
      if (!job) return;
      const stop = onEvent(async (event) => {
        if (event.type !== "clip" || event.clip_id !== job.id) return;
        progress.value = event.progress ?? 0;  // percent
        if (event.state === "done") {
          stop();
          const link = await api(`/clips/${job.id}/download`);
          clipBox.append(h("a", { href: link.url, download: `clip-${job.id}.mp4`, id: "clip-download" }, t("download")),
            h("code", { id: "clip-sha" }, `SHA-256 ${link.sha256}`));
        } else if (event.state === "failed") { stop(); clipBox.append(h("span", { class: "error" }, event.error ?? "failed")); }
      });
    };
    clipBox.append(button, progress);
  };
  const load = async () => {
    const end = Date.now(), start = end - PERIODS[period.value];
    const camera = cameraSel.value;
    if (!camera) return;
    const [line, reads, thumbs] = await Promise.all([
      api(`/cameras/${camera}/timeline?start=${iso(start)}&end=${iso(end)}`),
      api(`/lpr/events?camera=${camera}&start=${iso(start)}&end=${iso(end)}&limit=500`).catch(() => ({ events: [] })),
      PERIODS[period.value] <= PERIODS["24h"]
        ? api(`/cameras/${camera}/thumbnails?start=${iso(start)}&end=${iso(end)}`).catch(() => ({ thumbnails: [] }))
        : { thumbnails: [] }]);
    const alerts = (line.alerts ?? []).map((a) => ({ at: Date.parse(a.at), kind: a.kind,
      title: `${t(`camera_${a.kind}`)} ${when(a.at)}${a.reason ? ` (${a.reason})` : ""}` }));
    marks = [...reads.events.map((r) => ({ at: Date.parse(r.captured_at), title: r.plate })), ...alerts]
      .sort((a, b) => a.at - b.at);
    timeline = drawTimeline(bar, {
      start, end, marks, onPick: play, onSelect: exportClip,
      runs: line.runs.map((r) => ({ start: Date.parse(r.start), end: Date.parse(r.end) })),
      thumbs: thumbs.thumbnails.map((th) => ({ at: th.at_ms, url: th.url })) });
    axis.replaceChildren(h("span", {}, when(iso(start))), h("span", {}, `${line.recorded_s} s ${t("recorded")}`),
      h("span", {}, when(iso(end))));
    if (params.get("at")) { play(Date.parse(params.get("at"))); params.delete("at"); }
  };
  const ticker = setInterval(() => {
    const wall = player?.wallNow() ?? null;
    timeline?.moveHead(wall);
    if (wall !== null) { clock.textContent = when(iso(wall)); clock.dataset.wallMs = Math.round(wall); }
  }, 250);
  video.addEventListener("playing", () => {  // the first "playing" after a pick; a stall's resume is not a start
    const wall = player?.wallNow();
    if (wall && !video.dataset.startedWallMs) video.dataset.startedWallMs = Math.round(wall);
  });
  speed.onchange = () => { video.playbackRate = Number(speed.value); };
  prev.onclick = () => jump(-1);
  next.onclick = () => jump(1);
  cameraSel.onchange = load;
  period.onchange = load;
  main.replaceChildren(
    h("div", { class: "row" }, t("camera"), cameraSel, t("period"), period, t("speed"), speed, prev, next, clock),
    h("div", { class: "player" }, video), bar, axis, h("small", {}, t("select_range")), clipBox);
  await load();
  return () => { clearInterval(ticker); player?.close(); };
}
