// Recorded video from the HLS VOD playlist (byte ranges of chunk objects) fed to MediaSource, so Chromium and
// Firefox play it without an HLS library; the player knows the wall-clock time of what it shows.
import { api } from "./api.js";
import { codecOf } from "./mse.js";

const AHEAD_S = 30;   // fetched ahead of the playhead; the rest of the playlist waits
const WINDOW_MS = 30 * 60_000;

/** Segments of a VOD playlist: {url, offset, length, duration, wall (ms, when known), map: {url, offset, length}}. */
export function parsePlaylist(text, base) {
  const segments = [];
  let map = null, range = null, duration = 0, wall = null, clock = null;
  for (const line of text.split("\n").map((l) => l.trim()).filter(Boolean)) {
    if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) clock = Date.parse(line.slice(25));
    else if (line.startsWith("#EXT-X-MAP:")) {
      const uri = /URI="([^"]+)"/.exec(line)[1];
      const [length, offset] = /BYTERANGE="(\d+)@(\d+)"/.exec(line).slice(1).map(Number);
      map = { url: new URL(uri, base).href, offset, length };
    } else if (line.startsWith("#EXTINF:")) duration = parseFloat(line.slice(8));
    else if (line.startsWith("#EXT-X-BYTERANGE:")) {
      const [length, offset] = line.slice(17).split("@").map(Number);
      range = { length, offset };
    } else if (!line.startsWith("#")) {
      if (clock !== null) { wall = clock; clock = null; }
      segments.push({ url: new URL(line, base).href, ...range, duration, wall, map });
      wall += duration * 1000;
    }
  }
  return segments;
}

async function bytes({ url, offset, length }) {
  const answer = await fetch(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` } });
  if (!answer.ok) throw new Error(`segment: HTTP ${answer.status}`);
  return answer.arrayBuffer();
}

export class PlaybackPlayer {
  constructor(video, cameraId) {
    Object.assign(this, { video, cameraId });
    this.generation = 0;
    this.placed = [];  // {media: start in the SourceBuffer (s), wall: ms}
    this.ticker = setInterval(() => this.feed(), 500);
  }

  /** Plays from the wall-clock instant ``atMs``; resolves once the first frame is buffered there. */
  async playAt(atMs) {
    const generation = ++this.generation;
    const text = await (await api(`/cameras/${this.cameraId}/playback.m3u8?start=${new Date(atMs).toISOString()}&end=${new Date(atMs + WINDOW_MS).toISOString()}`, { raw: true })).text();
    if (generation !== this.generation) return;
    this.segments = parsePlaylist(text, location.href);
    this.next = 0;
    this.placed = [];
    this.lastMap = null;
    this.target = atMs;
    const first = this.segments[0];
    const init = await bytes(first.map);
    if (generation !== this.generation) return;
    const source = new MediaSource();
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = URL.createObjectURL(source);
    this.video.src = this.url;
    await new Promise((resolve) => source.addEventListener("sourceopen", resolve, { once: true }));
    this.buffer = source.addSourceBuffer(codecOf(init));
    this.buffer.mode = "sequence";
    this.buffer.timestampOffset = 0;
    this.source = source;
    await this.feed(generation);
    const start = this.mediaAt(atMs);
    this.video.currentTime = start;
    this.video.muted = true;
    await this.video.play().catch(() => {});
  }

  append(data) {
    return new Promise((resolve, reject) => {
      this.buffer.addEventListener("updateend", resolve, { once: true });
      this.buffer.addEventListener("error", reject, { once: true });
      this.buffer.appendBuffer(data);
    });
  }

  async feed(generation = this.generation) {
    if (this.feeding || !this.buffer || !this.segments || generation !== this.generation) return;
    this.feeding = true;
    try {
      while (this.next < this.segments.length && generation === this.generation) {
        const ahead = this.placed.length ? this.placed.at(-1).media - this.video.currentTime : 0;
        if (ahead > AHEAD_S) break;
        const segment = this.segments[this.next++];
        if (segment.map !== this.lastMap) {
          await this.append(await bytes(segment.map));
          this.lastMap = segment.map;
        }
        const data = await bytes(segment);
        if (generation !== this.generation) break;
        this.placed.push({ media: this.buffer.timestampOffset, wall: segment.wall });
        await this.append(data);
        if (this.next === 1) break;  // the first fragment is enough to start playing
      }
    } finally {
      this.feeding = false;
    }
  }

  mediaAt(wallMs) {
    let best = this.placed[0];
    for (const p of this.placed) if (p.wall <= wallMs) best = p;
    return best ? best.media + Math.max(0, (wallMs - best.wall) / 1000) : 0;
  }

  /** The wall-clock instant (ms) of the frame shown now. */
  wallNow() {
    const t = this.video.currentTime;
    let best = this.placed[0];
    for (const p of this.placed) if (p.media <= t + 1e-3) best = p;
    return best ? best.wall + (t - best.media) * 1000 : null;
  }

  close() {
    this.generation++;
    clearInterval(this.ticker);
    this.video.removeAttribute("src");
    this.video.load();
    if (this.url) URL.revokeObjectURL(this.url);
  }
}
