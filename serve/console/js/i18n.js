// Brazilian Portuguese by default, English on request; the choice is kept in localStorage.
const WORDS = {
  "pt-BR": {
    login: "Entrar", username: "Usuário", password: "Senha", logout: "Sair", cameras: "Câmeras", mosaic: "Mosaico",
    playback: "Gravações", clips: "Clipes", plates: "Placas", health: "Saúde", users: "Usuários", audit: "Auditoria",
    search: "Buscar", signal_lost: "Sinal perdido", connecting: "Conectando…", name: "Nome", state: "Estado",
    online: "online", troubled: "com falha", unknown: "desconhecido", disabled: "desativada", layout: "Layout",
    saved: "Mosaicos salvos", camera: "Câmera", period: "Período", speed: "Velocidade", prev_event: "◀ Evento",
    next_event: "Evento ▶", export: "Exportar clipe", csv: "Baixar CSV", plate: "Placa", when: "Quando",
    image: "Imagem", watchlist: "Lista de alerta", reason: "Motivo", add: "Adicionar", remove: "Remover",
    download: "Baixar", progress: "Progresso", offline: "offline", error: "erro", storage: "Armazenamento",
    lag: "Atraso de gravação", role: "Papel", action: "Ação", user: "Usuário", plate_alert: "Alerta de placa",
    see: "ver", all: "todas", no_results: "Nada encontrado", select_range: "Arraste na linha do tempo para escolher o trecho",
    map_no_tiles: "Sem servidor de mapas: marcadores sobre fundo liso", wrong_login: "Usuário ou senha inválidos",
    recorded: "gravado", gap: "falha", from: "De", to: "Até", delete: "Excluir", started: "Início",
    "state.starting": "iniciando", "state.connecting": "conectando", "state.streaming": "gravando",
    "state.stalled": "travada", "state.reconnecting": "reconectando", "state.offline": "offline", "state.error": "erro",
    "state.disabled": "desativada", "state.stopped": "parada", camera_offline: "Câmera offline",
    camera_online: "Câmera de volta",
  },
  en: {
    login: "Sign in", username: "Username", password: "Password", logout: "Sign out", cameras: "Cameras", mosaic: "Mosaic",
    playback: "Recordings", clips: "Clips", plates: "Plates", health: "Health", users: "Users", audit: "Audit",
    search: "Search", signal_lost: "Signal lost", connecting: "Connecting…", name: "Name", state: "State",
    online: "online", troubled: "failing", unknown: "unknown", disabled: "disabled", layout: "Layout",
    saved: "Saved mosaics", camera: "Camera", period: "Period", speed: "Speed", prev_event: "◀ Event",
    next_event: "Event ▶", export: "Export clip", csv: "Download CSV", plate: "Plate", when: "When",
    image: "Image", watchlist: "Watchlist", reason: "Reason", add: "Add", remove: "Remove",
    download: "Download", progress: "Progress", offline: "offline", error: "error", storage: "Storage",
    lag: "Recording lag", role: "Role", action: "Action", user: "User", plate_alert: "Plate alert",
    see: "see", all: "all", no_results: "Nothing found", select_range: "Drag on the timeline to choose the range",
    map_no_tiles: "No map server: markers on a plain background", wrong_login: "Wrong username or password",
    recorded: "recorded", gap: "gap", from: "From", to: "To", delete: "Delete", started: "Started",
    "state.starting": "starting", "state.connecting": "connecting", "state.streaming": "recording",
    "state.stalled": "stalled", "state.reconnecting": "reconnecting", "state.offline": "offline", "state.error": "error",
    "state.disabled": "disabled", "state.stopped": "stopped", camera_offline: "Camera offline",
    camera_online: "Camera back",
  },
};

let lang = localStorage.getItem("gtv.lang") || "pt-BR";
export const language = () => lang;
export function setLanguage(value) { lang = WORDS[value] ? value : "pt-BR"; localStorage.setItem("gtv.lang", lang); }
export const t = (key) => WORDS[lang][key] ?? WORDS["pt-BR"][key] ?? key;
// A camera state as the status API gives it (streaming, offline, …), in words; an unknown one as it is.
export const stateWord = (state) => (state ? t(`state.${state}`).replace(/^state\./, "") : "");
export const when = (iso) => new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "medium" });
