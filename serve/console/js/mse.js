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
