// What MediaSource needs from an fMP4 init segment: the codec string of its video track.
export function codecOf(init) {
  const bytes = new Uint8Array(init);
  const find = (name) => {
    const code = [...name].map((c) => c.charCodeAt(0));
    for (let i = 4; i < bytes.length - 8; i++) {
      if (bytes[i] === code[0] && bytes[i + 1] === code[1] && bytes[i + 2] === code[2] && bytes[i + 3] === code[3]) return i;
    }
    return -1;
  };
  const avcc = find("avcC");
  if (avcc >= 0) {
    const hex = (b) => b.toString(16).padStart(2, "0");
    return `video/mp4; codecs="avc1.${hex(bytes[avcc + 5])}${hex(bytes[avcc + 6])}${hex(bytes[avcc + 7])}"`;
  }
  if (find("hvcC") >= 0) return 'video/mp4; codecs="hvc1.1.6.L93.B0"';
  return 'video/mp4; codecs="avc1.42E01E"';
}

export const isInit = (data) => {
  const b = new Uint8Array(data, 4, 4);
  return String.fromCharCode(...b) === "ftyp";
};

/** Whether a media fragment (moof+mdat) starts with a sync sample: the trun's first-sample flags, else its first
 * sample's flags, else the tfhd's default; "is non-sync sample" is bit 16 of the sample flags (ISO/IEC 14496-12). */
export function startsWithKeyframe(data) {
  const view = new DataView(data);
  const box = (from, name) => {
    for (let at = from; at + 8 <= view.byteLength;) {
      const size = view.getUint32(at);
      const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
      if (type === name) return at;
      if (["moof", "traf"].includes(type) && ["traf", "tfhd", "trun"].includes(name)) { at += 8; continue; }
      if (size < 8) return -1;
      at += size;
    }
    return -1;
  };
  const trun = box(0, "trun");
  if (trun < 0) return false;
  const flags = view.getUint32(trun + 8) & 0xffffff;
  let at = trun + 16 + (flags & 0x1 ? 4 : 0);
  let sampleFlags = null;
  if (flags & 0x4) sampleFlags = view.getUint32(at);
  else if (flags & 0x400) sampleFlags = view.getUint32(at + (flags & 0x100 ? 4 : 0) + (flags & 0x200 ? 4 : 0));
  else {
    const tfhd = box(0, "tfhd");
    const tf = tfhd < 0 ? 0 : view.getUint32(tfhd + 8) & 0xffffff;
    if (tfhd >= 0 && tf & 0x20) {
      const skip = 16 + (tf & 0x1 ? 8 : 0) + (tf & 0x2 ? 4 : 0) + (tf & 0x8 ? 4 : 0) + (tf & 0x10 ? 4 : 0);
      sampleFlags = view.getUint32(tfhd + skip);
    }
  }
  return sampleFlags !== null && (sampleFlags & 0x10000) === 0;
}

/** The part of a message of one or more fragments (moof+mdat pairs) from its first fragment that starts with a
 * keyframe, or null when none does: a tile skipping ahead resumes mid-message, not at the next message that
 * happens to start with one. */
export function fromKeyframe(data) {
  const view = new DataView(data);
  for (let at = 0; at + 8 <= view.byteLength;) {
    const size = view.getUint32(at);
    if (size < 8) return null;
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    if (type === "moof") {
      const rest = at === 0 ? data : data.slice(at);
      if (startsWithKeyframe(rest)) return rest;
    }
    at += size;
  }
  return null;
}
