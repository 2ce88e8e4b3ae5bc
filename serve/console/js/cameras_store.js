// The city's cameras with their states: loaded once from /cameras.geojson, then kept current by camera.status
// events from the city's socket (no polling).
import { api } from "./api.js";
import { onEvent } from "./events.js";

const ONLINE = new Set(["streaming"]);
const TROUBLED = new Set(["stalled", "reconnecting", "offline", "error"]);
let features = [];
const watchers = new Set();

export const markerOf = (state, enabled = true) =>
  !enabled ? "disabled" : ONLINE.has(state) ? "online" : TROUBLED.has(state) ? "troubled" : "unknown";

export const cameras = () => features;
export const cameraName = (id) => features.find((f) => f.id === id)?.properties.name ?? id;
export const onCameras = (fn) => { watchers.add(fn); return () => watchers.delete(fn); };

export async function loadCameras(tenantId) {
  features = (await api(`/cameras.geojson?tenant_id=${tenantId}`)).features;
  watchers.forEach((fn) => fn(features));
  return features;
}

onEvent((event) => {
  if (event.type !== "camera.status") return;
  const feature = features.find((f) => f.id === event.camera_id);
  if (!feature) return;
  feature.properties.state = event.state;
  feature.properties.marker = markerOf(event.state, feature.properties.enabled);
  watchers.forEach((fn) => fn(features));
});
