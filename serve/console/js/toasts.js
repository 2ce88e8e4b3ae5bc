// Live LPR alerts as toasts: plate, camera, the read's image and a link to the moment in playback.
import { blobUrl } from "./api.js";
import { h } from "./dom.js";
import { t, when } from "./i18n.js";
import { cameraName } from "./cameras_store.js";

const SHOWN_MS = 15_000;
const MAX_TOASTS = 5;

export function lprToast(event, tenantId) {
  const box = document.getElementById("toasts");
  const image = h("span");
  const toast = h("div", { class: "toast", dataset: { plate: event.plate, event: event.event_id } }, image,
    h("div", {}, h("b", {}, `${t("plate_alert")}: ${event.plate}`), h("br"),
      `${cameraName(event.camera_id)} · ${when(event.captured_at)}`, h("br"), event.reason ?? "", " ",
      h("a", { href: `#/playback?camera=${event.camera_id}&at=${event.captured_at}` }, t("see"))));
  box.prepend(toast);
  while (box.children.length > MAX_TOASTS) box.lastChild.remove();
  let url = null;
  if (event.image_keys?.length && event.event_id) {
    blobUrl(`/lpr/events/${event.event_id}/images/0?tenant_id=${tenantId}`)
      .then((made) => { url = made; image.append(h("img", { src: made, alt: event.plate })); }).catch(() => {});
  }
  setTimeout(() => { toast.remove(); if (url) URL.revokeObjectURL(url); }, SHOWN_MS);
}
