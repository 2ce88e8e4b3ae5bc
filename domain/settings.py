"""Runtime settings shared by the API, the Fleet and camera hosts (plain data, picklable)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from domain.forwarded import trusted_networks


@dataclass(frozen=True)
class Settings:
    database_url: str
    object_store_url: str  # s3://... or file:///... (see storage/objects.py)
    public_url: str  # how clients reach the API, e.g. http://127.0.0.1:8000
    secret: str  # master secret; purpose-specific keys are derived from it
    namespace: str = "gtvision"  # Ray namespace of the named actors
    bus_url: str = "ray://"  # redis://host:port/db, or ray:// for the in-Ray bus (storage/bus.py)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The API's Serve replicas (domain/api_replicas.py): a fixed count, or autoscaling from api_replicas up to
    # api_max_replicas. One stays on the head; more spread over the nodes, each behind its node's proxy.
    api_replicas: int = 1
    api_max_replicas: int | None = None
    chunk_max_s: float = 60.0
    thumbnail_every_s: float = 60.0  # timeline thumbnails this far apart at the finest (of video); 0: every chunk
    cameras_per_host: int | None = None  # None: about one host per core, cameras spread evenly (domain/density.py)
    quarantine_after_crashes: int = 3  # host crashes within the window that split it (domain/quarantine.py)
    quarantine_window_s: float = 600.0
    cities_per_host: int = 100  # city coordinators per city-host actor process (actors/city_host.py)
    reconcile_interval_s: float = 5.0
    source_timeout_s: float = 5.0
    spool_dir: str = "var/spool"  # node-local disk for chunks not yet stored and indexed
    spool_max_bytes: int = 20 * 1024**3  # per node; beyond it cameras go to error: storage_full
    spool_fsync: str = "fragment"  # fragment | chunk | none (storage/spool.py)
    stall_after_s: float = 5.0
    offline_after_s: float = 60.0
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 7 * 24 * 3600
    login_failures_per_minute: int = 5  # per source address and per username; then 429 (serve/login_limits.py)
    password_checks_at_once: int | None = None  # Argon2id per API replica; None: half its node's cores (serve/password_work.py)
    media_token_ttl_s: int = 900  # URLs a <video> tag or HLS player uses (serve/tokens.py)
    # Sessions (docs/security/sessions.md): how stale a replica's view of an ended session may be, and how long
    # a single-use /events ticket lives.
    session_check_ttl_s: float = 5.0
    ws_ticket_ttl_s: int = 30
    # Open /events sockets per API replica (domain/socket_limits.py): a user's, and a city's.
    event_sockets_per_user: int = 20
    event_sockets_per_city: int = 500
    # Live WebSocket pacing (domain/live_messages.py): a viewer's pending fragments go out as one message, at most
    # one message per this interval, and a replica's viewers together within live_messages_per_s (its ingress).
    live_send_interval_ms: int = 100
    live_messages_per_s: int = 800
    # Messages a second each open /events socket of a city may be sent on one replica (domain/event_budget.py): a
    # city publishing more than its consoles could show has its own feed held back, never another city's.
    event_messages_per_socket_s: float = 100.0
    playback_max_s: int = 6 * 3600  # longest range of one playback playlist
    clip_max_s: int = 3600  # longest evidence clip
    retention_interval_s: float = 3600.0  # a retention pass every hour (and on demand)
    city_deletion_grace_days: float = 30.0  # DELETE /tenants/{id} deletes the city this long after (docs/retention.md)
    orphan_policy: str = "report"  # report | fix: delete orphan objects and rows without objects (services/orphan_sweep.py)
    storage_warning_ratio: float = 0.85  # object store / spool disk: alert above this share used
    storage_critical_ratio: float = 0.95  # … and above this, apply storage_full_policy to the whole store
    object_store_capacity_bytes: int | None = None  # a bucket's size (a directory store measures its disk)
    storage_full_policy: str = "purge_oldest"  # over a plan's storage quota: purge_oldest | pause (services/storage_relief.py)
    lpr_max_backlog: int = 1_000_000  # reads waiting for the LPR writer; beyond it webhooks answer 503 (or spool)
    lpr_spool_max_bytes: int = 2 * 1024**3  # node-local disk for reads of senders that never retry (docs/lpr.md)
    clip_work_dir: str = "var/clips"  # scratch space of clip exports (faststart needs a seekable file)
    # The MediaMTX edge (docs/edge.md); None: no edge.
    edge_api_url: str | None = None  # its Control API, e.g. http://127.0.0.1:9997: the Fleet provisions cam/{id} paths
    edge_rtsp_url: str | None = None  # its RTSP server, e.g. rtsp://127.0.0.1:8554: recorders pull the restream
    # --- secrets and senders (docs/security/secrets.md) ---
    previous_secrets: tuple[str, ...] = ()  # earlier master secrets: their keys still open values sealed with them
    trusted_proxies: tuple[str, ...] = ()  # CIDRs of our reverse proxies: only their X-Forwarded-For is believed

    # HTTPS and WSS on the API port when both are set (PEM files on every node running Serve's proxy; docs/running.md).
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    map_tile_url: str | None = None  # the console map's raster tiles, https://…/{z}/{x}/{y}.png; none: plain background
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API cross-origin; none by default

    # Camera targets (domain/camera_targets.py): the deployment's camera networks (CIDRs; empty: any address but
    # loopback and link-local); a city may override them. Loopback cameras (tests, a lab) must be listed here.
    camera_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        trusted_networks(self.trusted_proxies)  # a bad CIDR is refused when the settings are made, not at a push

    def key(self, purpose: str) -> bytes:
        """A key for one purpose (JWT signing, object URL signing), derived from the master secret."""
        return hmac.new(self.secret.encode(), purpose.encode(), hashlib.sha256).digest()

    def previous_keys(self, purpose: str) -> list[bytes]:
        """The keys ``key(purpose)`` had under the previous master secrets (to open what they sealed)."""
        return [hmac.new(old.encode(), purpose.encode(), hashlib.sha256).digest() for old in self.previous_secrets]
