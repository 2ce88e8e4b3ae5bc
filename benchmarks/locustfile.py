"""Console operators as locust users: log in, list cameras, read status, a timeline, an LPR search, watch live.

Each simulated operator logs in once (``POST /auth/login``), then, with a pause of ``GTV_WAIT_MIN``..``GTV_WAIT_MAX``
seconds (default 1–3) between actions, does what the console does:

| task | weight | request |
|---|---|---|
| camera list | 4 | ``GET /api/v1/cameras`` |
| camera status | 6 | ``GET /api/v1/cameras/{id}/status`` (the tiles poll it) |
| timeline | 3 | ``GET /api/v1/cameras/{id}/timeline`` over the last hour |
| LPR search | 2 | ``GET /api/v1/lpr/events?plate=…`` (a partial plate, ``*`` pattern) |
| live | 1 | ``POST …/media-token``, then the ``…/live`` WebSocket for ``GTV_LIVE_S`` seconds (default 3), bytes counted |
| refresh | — | ``POST /auth/refresh`` when the access token is in its last fifth, as the console's timer does |

The WebSocket is a blocking ``websockets`` client run in the user's greenlet (locust patches sockets with gevent),
bounded by ``GTV_LIVE_S`` and an open timeout; its time to the first fragment is reported as ``WS live first
fragment`` (its size: the bytes received over the session).

Against any GT-Vision (credentials from the environment; the user needs to see some cameras)::

    GTV_USERNAME=operadora GTV_PASSWORD='…' locust -f benchmarks/locustfile.py --host http://127.0.0.1:8000
    # headless, 100 users:
    GTV_USERNAME=… GTV_PASSWORD=… locust -f benchmarks/locustfile.py --host http://… \\
        --headless -u 100 -r 20 --run-time 60s --reset-stats --csv out/api

Statistics restart when the last user has logged in: logins (Argon2id, a bounded queue: 503 and 429 are retried
after ``Retry-After``) are a ramp of their own, reported under ``login`` until then; ``GTV_MEASURE_S`` > 0 stops
the run that long after (``--run-time`` then only bounds it). ``GTV_USERNAMES``
(comma-separated, same password) spreads users over several accounts (the login limits count per username too);
``GTV_SPREAD_ADDRESSES=1`` sends each user's login with an ``X-Forwarded-For`` address of its own (for a proxy in
front that limits per forwarded address; the API's own login limits count the peer, serve/login_guard.py); ``GTV_WAIT_MIN=0
GTV_WAIT_MAX=0`` turns every user into a closed loop (throughput runs); ``GTV_LIVE_S=0`` leaves live video out.
``benchmarks/api_load.py`` runs this file against Serve's ingresses and plain uvicorn.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, between, events, task
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

_USERNAMES = [u.strip() for u in os.environ.get("GTV_USERNAMES", os.environ.get("GTV_USERNAME", "admin")).split(",")
              if u.strip()]
_PASSWORD = os.environ.get("GTV_PASSWORD", "")
_LIVE_S = float(os.environ.get("GTV_LIVE_S", "3"))
_WAIT = (float(os.environ.get("GTV_WAIT_MIN", "1")), float(os.environ.get("GTV_WAIT_MAX", "3")))
_SPREAD_ADDRESSES = os.environ.get("GTV_SPREAD_ADDRESSES") == "1"
_WS_OPEN_TIMEOUT_S = 10.0
_MEASURE_S = float(os.environ.get("GTV_MEASURE_S", "0"))  # > 0: stop this long after the last login
_LOGIN_ATTEMPTS = 30  # 503 (password checks in line) and 429 answers are retried after their Retry-After
_LOGIN_WAIT_MAX_S = 5.0
_PLATE_PREFIXES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_next_account = itertools.cycle(_USERNAMES)
_next_address = itertools.count(1)
_account_lock = threading.Lock()
_logged_in = 0


class Operator(FastHttpUser):
    """One console operator (geventhttpclient: a load generator several times cheaper per request than requests)."""

    wait_time = between(*_WAIT)

    def on_start(self) -> None:
        global _logged_in
        with _account_lock:
            self.username = next(_next_account)
            n = next(_next_address)
        # Each operator from an address of its own, for a proxy in front that limits logins per forwarded address.
        self.forwarded = {"x-forwarded-for": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"} \
            if _SPREAD_ADDRESSES else {}
        self.token = ""
        self.refresh_token = ""
        self.renew_at = 0.0
        self.cameras: list[str] = []
        self._log_in()
        with _account_lock:
            _logged_in += 1
            everyone = _logged_in == getattr(self.environment.runner, "target_user_count", -1)
        if everyone:  # the steady state starts when the last operator is in: logins are a ramp of their own
            self.environment.stats.reset_all()
            if _MEASURE_S > 0 and (runner := self.environment.runner) is not None:
                gevent.spawn_later(_MEASURE_S, runner.quit)
        self.list_cameras()

    def _log_in(self) -> None:
        for _ in range(_LOGIN_ATTEMPTS):
            with self.client.post("/api/v1/auth/login", json={"username": self.username, "password": _PASSWORD},
                                  headers=self.forwarded, name="login", catch_response=True) as response:
                if response.status_code == 200:
                    self._keep(response.json())
                    return
                response.failure(f"login {response.status_code}")
                if response.status_code not in (429, 503):
                    raise RuntimeError(f"cannot log in as {self.username}: {response.text[:200]}")
                wait_s = float(response.headers.get("retry-after") or 1)
            time.sleep(min(_LOGIN_WAIT_MAX_S, wait_s) * random.uniform(1, 1.5))
        raise RuntimeError(f"cannot log in as {self.username} after {_LOGIN_ATTEMPTS} attempts")

    def _keep(self, pair: dict[str, Any]) -> None:
        self.token = pair["access_token"]
        self.refresh_token = pair["refresh_token"]
        self.renew_at = time.monotonic() + 0.8 * float(pair["expires_in"])

    def _auth(self) -> dict[str, str]:
        if time.monotonic() >= self.renew_at:
            with self.client.post("/api/v1/auth/refresh", json={"refresh_token": self.refresh_token},
                                  name="refresh", catch_response=True) as response:
                if response.status_code == 200:
                    self._keep(response.json())
                else:
                    response.failure(f"refresh {response.status_code}")
        return {"authorization": f"Bearer {self.token}"}

    def _camera(self) -> str | None:
        return random.choice(self.cameras) if self.cameras else None

    @task(4)
    def list_cameras(self) -> None:
        response = self.client.get("/api/v1/cameras", headers=self._auth(), name="cameras")
        if response.status_code == 200:
            self.cameras = [str(c["id"]) for c in response.json()]

    @task(6)
    def camera_status(self) -> None:
        if (camera := self._camera()) is not None:
            self.client.get(f"/api/v1/cameras/{camera}/status", headers=self._auth(), name="camera status")

    @task(3)
    def timeline(self) -> None:
        if (camera := self._camera()) is not None:
            end = time.time()
            params = {"start": _iso(end - 3600), "end": _iso(end)}
            self.client.get(f"/api/v1/cameras/{camera}/timeline?{urlencode(params)}", headers=self._auth(),
                            name="timeline")

    @task(2)
    def lpr_search(self) -> None:
        plate = random.choice(_PLATE_PREFIXES) + random.choice(_PLATE_PREFIXES) + "*"
        self.client.get(f"/api/v1/lpr/events?{urlencode({'plate': plate, 'limit': 50})}", headers=self._auth(),
                        name="lpr search")

    @task(1)
    def live(self) -> None:
        if _LIVE_S <= 0 or (camera := self._camera()) is None:
            return
        grant = self.client.post(f"/api/v1/cameras/{camera}/media-token", headers=self._auth(), name="media token")
        if grant.status_code != 200:
            return
        url = self.host.replace("http", "ws", 1).rstrip("/") + f"/api/v1/cameras/{camera}/live"
        started = time.perf_counter()
        first_ms: float | None = None
        received = 0
        try:
            with connect(f"{url}?token={grant.json()['token']}", open_timeout=_WS_OPEN_TIMEOUT_S,
                         close_timeout=2, max_size=None) as socket:
                deadline = time.monotonic() + _LIVE_S
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        message = socket.recv(timeout=left)
                    except TimeoutError:
                        break
                    if first_ms is None:
                        first_ms = (time.perf_counter() - started) * 1000
                    received += len(message)
        except (OSError, WebSocketException) as exc:
            _fire("live first fragment", (time.perf_counter() - started) * 1000, 0, exc)
            return
        if first_ms is None:
            _fire("live first fragment", _LIVE_S * 1000, 0, RuntimeError(f"no fragment in {_LIVE_S} s"))
        else:
            _fire("live first fragment", first_ms, received)

def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _fire(name: str, ms: float, size: int, exception: BaseException | None = None) -> None:
    """A WebSocket session in locust's statistics (type ``WS``, apart from the HTTP requests)."""
    events.request.fire(request_type="WS", name=name, response_time=ms, response_length=size,
                        exception=exception, context={})

