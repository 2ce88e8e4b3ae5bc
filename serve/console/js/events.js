// The city's event socket (WS /api/v1/events): one per page, resumed from the last id after a drop, pushed to listeners.
import { api } from "./api.js";

const listeners = new Set();
let socket = null;
let lastId = null;
let tenant = null;
let retry = null;
let attempt = 0;
let wanted = false;

export const onEvent = (fn) => { listeners.add(fn); return () => listeners.delete(fn); };

export function connectEvents(tenantId) {
  if (tenant !== tenantId) lastId = null;
  tenant = tenantId;
  wanted = true;
  open();
}

export function closeEvents() {
  wanted = false;
  clearTimeout(retry);
  const previous = socket;
  socket = null;
  previous?.close();
}

async function open() {
  clearTimeout(retry);
  const previous = socket;
  socket = null;  // its close is not a drop to recover from
  previous?.close();
  try {
    const { ticket } = await api("/events/ticket", { method: "POST" });
    if (!wanted) return;
    const query = new URLSearchParams({ ticket });
    if (tenant) query.set("tenant_id", tenant);
    if (lastId) query.set("last_id", lastId);
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/events?${query}`;
    const opened = new WebSocket(url);
    socket = opened;
    opened.onmessage = (message) => {
      attempt = 0;
      const data = JSON.parse(message.data);
      if (data.id) lastId = data.id;
      const event = data.event ?? data;
      listeners.forEach((fn) => fn(event));
    };
    opened.onclose = () => { if (socket === opened) again(); };
  } catch {
    again();
  }
}

function again() {
  if (!wanted) return;
  attempt = Math.min(attempt + 1, 5);  // 1, 2, 4, 8, 16 s at most between tries
  retry = setTimeout(open, 500 * 2 ** attempt);
}
