// One live tile: the camera's WebSocket fMP4 (an init alone, then messages of one or more per-frame fragments,
// appended as they come) into MediaSource, with a "signal lost"
// placeholder when frames stop and reconnection (bounded backoff) until they come back or the tile is closed.
// ``stream``: "sub" for a mosaic tile (the camera's lighter sub-stream; the server sends the main one for a camera
// without), "main" for a full view.
import { api } from "./api.js";
import { codecOf, fromKeyframe, isInit } from "./mse.js";

const SILENCE_MS = 3000;      // no frame for this long: the signal is lost
const MAX_QUEUED = 150;       // messages waiting for the SourceBuffer; beyond, skip to the next keyframe
const CATCH_UP_S = 0.5;       // behind the live edge by more than this: play a little faster until back
const MAX_LATENCY_S = 3.0;    // behind by more than this: jump (a seek decodes and drops up to a GOP of frames)
const FIRST_DATA_GRACE_MS = 3000;  // a new socket gets this much longer than SILENCE_MS for its first frame
const KEEP_BEHIND_S = 6;      // buffered media kept behind the playhead

export class LivePlayer {
  constructor(video, cameraId, onLost, stream = "main") {
    Object.assign(this, { video, cameraId, onLost, stream });
    this.closed = false;
    this.lost = false;
    this.attempt = 0;
    this.lastData = performance.now();
    this.startedAt = performance.now();
    this.firstFrameMs = null;
    this.token = null;
    this.tokenAt = 0;
    this.watchdog = setInterval(() => this.check(), 500);
    video.muted = true;
    video.playsInline = true;
    video.addEventListener("playing", () => {
      if (this.firstFrameMs === null) this.firstFrameMs = performance.now() - this.startedAt;
    });
    this.connect();
  }

  async connect() {
    if (this.closed) return;
    try {
      if (!this.token || Date.now() - this.tokenAt > 10 * 60_000) {
        this.token = (await api(`/cameras/${this.cameraId}/media-token`, { method: "POST" })).token;
        this.tokenAt = Date.now();
      }
    } catch {
      this.again();
      return;
    }
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // No ?meta=1: half the messages through the proxy; keyframes are read from the fragments themselves.
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/cameras/${this.cameraId}/live?token=${this.token}&stream=${this.stream}`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.lastData = performance.now() + FIRST_DATA_GRACE_MS;
    socket.onmessage = (message) => {
      if (typeof message.data === "string") return;
      this.lastData = performance.now();
      this.attempt = 0;
      this.take(message.data);
    };
    socket.onclose = (closing) => {
      if (this.socket !== socket) return;
      if (closing.code === 4401) this.token = null;  // expired or revoked media token: ask for a new one
      this.again();
    };
  }

  setStream(stream) {
    if (this.closed || stream === this.stream) return;
    this.stream = stream;
    const socket = this.socket;
    this.socket = null;  // its close must not schedule a retry: the new stream's socket opens now
    socket?.close();
    this.attempt = 0;
    clearTimeout(this.retry);
    this.connect();
  }

  again() {
    if (this.closed) return;
    this.attempt = Math.min(this.attempt + 1, 4);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), 250 * 2 ** this.attempt);  // 0.5 … 4 s
  }

  take(data) {
    if (isInit(data)) {
      this.reset(data);
      return;
    }
    if (!this.pipe) return;
    const queue = this.pipe.queue;
    if (queue.length >= MAX_QUEUED) this.pipe.skipping = true;
    if (this.pipe.skipping) {
      data = fromKeyframe(data);
      if (!data) return;
      queue.length = 0;
      this.pipe.skipping = false;
    }
    queue.push(data);
    this.pump();
  }

  reset(init) {
    this.teardown();
    const source = new MediaSource();
    const pipe = { source, queue: [init], buffer: null, skipping: false, url: URL.createObjectURL(source) };
    this.pipe = pipe;
    source.addEventListener("sourceopen", () => {
      if (this.pipe !== pipe) return;
      pipe.buffer = source.addSourceBuffer(codecOf(init));
      pipe.buffer.mode = "sequence";
      pipe.buffer.timestampOffset = 0;
      pipe.buffer.addEventListener("updateend", () => this.pump());
      this.pump();
    }, { once: true });
    this.video.src = pipe.url;
  }

  pump() {
    const pipe = this.pipe;
    if (!pipe?.buffer || pipe.buffer.updating || pipe.source.readyState !== "open") return;
    const video = this.video;
    const ranges = pipe.buffer.buffered;
    if (ranges.length && video.currentTime - ranges.start(0) > KEEP_BEHIND_S * 2) {
      pipe.buffer.remove(0, video.currentTime - KEEP_BEHIND_S);
      return;
    }
    const next = pipe.queue.shift();
    if (!next) return;
    try {
      pipe.buffer.appendBuffer(next);
    } catch {
      this.reset(pipe.queue.find(isInit) ?? next);  // a quota or decode error: start over at the next init
      return;
    }
    if (this.lost && ranges.length) this.setLost(false);
    if (video.paused) video.play().catch(() => {});
  }

  check() {
    const video = this.video;
    const ranges = this.pipe?.buffer?.buffered;
    if (ranges?.length) {
      const end = ranges.end(ranges.length - 1);
      const lag = end - video.currentTime;
      if (video.currentTime < ranges.start(0) || lag > MAX_LATENCY_S) video.currentTime = Math.max(ranges.start(0), end - 0.1);
      else video.playbackRate = lag > CATCH_UP_S ? 1.25 : 1;
    }
    if (performance.now() - this.lastData > SILENCE_MS) {
      this.setLost(true);
      this.lastData = performance.now() + FIRST_DATA_GRACE_MS;
      const socket = this.socket;
      this.socket = null;
      socket?.close();
      this.again();
    }
  }

  setLost(lost) {
    if (this.lost === lost) return;
    this.lost = lost;
    this.onLost(lost);
  }

  teardown() {
    if (!this.pipe) return;
    const { url } = this.pipe;
    this.pipe = null;
    this.video.removeAttribute("src");
    this.video.load();
    URL.revokeObjectURL(url);
  }

  close() {
    this.closed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.teardown();
  }
}
