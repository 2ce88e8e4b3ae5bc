"""A city for the console's browser tests and its benchmark: a manager who signs in, cameras on real RTSP test
servers (placed on a map), and a Chromium driven by Playwright."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

from tests.support.system import ADMIN_PASSWORD, System, wait_for

CHROMIUM = "/usr/bin/chromium"  # Debian's (scripts/setup --dev): Playwright's own download is not reachable here
PASSWORD = "a long password for the console"


@dataclass
class ConsoleCity:
    system: System
    tenant_id: str
    username: str
    manager: dict[str, str]
    cameras: dict[str, str] = field(default_factory=dict)  # name → id

    @property
    def url(self) -> str:
        return self.system.settings.public_url

    def add_camera(self, name: str, rtsp_url: str, latitude: float, longitude: float,
                   substream_url: str | None = None) -> str:
        made = self.system.client.post("/cameras", headers=self.manager, json={
            "name": name, "rtsp_url": rtsp_url, "latitude": latitude, "longitude": longitude,
            "substream_url": substream_url})
        assert made.status_code == 201, made.text
        self.cameras[name] = made.json()["id"]
        return str(made.json()["id"])

    def wait_streaming(self, timeout_s: float = 90) -> None:
        for camera_id in self.cameras.values():
            wait_for(lambda cid=camera_id: self.system.client.get(
                f"/cameras/{cid}/status", headers=self.manager).json().get("state") == "streaming", timeout_s)

    def wait_recorded(self, name: str, seconds: float, timeout_s: float = 120) -> None:
        """Until the camera's newest indexed run is at least ``seconds`` long (chunks close, then upload)."""
        def newest_run_s() -> bool:
            now = datetime.now(UTC)
            line = self.system.client.get(f"/cameras/{self.cameras[name]}/timeline", headers=self.manager, params={
                "start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat()}).json()
            runs = line.get("runs") or [{"start": now.isoformat(), "end": now.isoformat()}]
            run = runs[-1]
            return (datetime.fromisoformat(run["end"]) - datetime.fromisoformat(run["start"])).total_seconds() >= seconds

        wait_for(newest_run_s, timeout_s)

    def mosaic(self, name: str, layout: str, camera_names: list[str]) -> str:
        made = self.system.client.post("/mosaics", headers=self.manager, json={
            "name": name, "layout": layout, "cameras": [self.cameras[n] for n in camera_names], "shared": True})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


def new_console_city(system: System) -> ConsoleCity:
    admin = system.login("admin", ADMIN_PASSWORD)
    tenant = system.client.post("/tenants", json={"name": f"Cidade {uuid.uuid4().hex[:6]}"}, headers=admin).json()
    username = f"operadora-{uuid.uuid4().hex[:6]}"
    made = system.client.post("/users", headers=admin, json={"username": username, "password": PASSWORD,
                                                               "role": "manager", "tenant_id": tenant["id"]})
    assert made.status_code == 201, made.text
    return ConsoleCity(system, tenant["id"], username, system.login(username, PASSWORD))


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox",  # the test box runs as root
        "--autoplay-policy=no-user-gesture-required",
        "--disable-gpu"])  # headless has no GPU: the software path composes 16 tiles with fewer dropped frames


@contextmanager
def console_page(browser: Browser, errors: list[str]) -> Iterator[Page]:
    """A 1366×768 page that records every console error and uncaught exception into ``errors``."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="pt-BR",
                                  timezone_id="America/Sao_Paulo")
    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    try:
        yield page
    finally:
        context.close()


def sign_in(page: Page, city: ConsoleCity) -> None:
    page.goto(city.url + "/")
    page.fill("#login input[name=username]", city.username)
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-ready]")


def open_page(page: Page, hash_path: str) -> None:
    page.evaluate("delete document.body.dataset.ready")
    page.evaluate("(to) => { location.hash = to; }", hash_path)
    page.wait_for_selector(f"body[data-ready='{hash_path[2:].split('?')[0]}']")


def video_progress(page: Page, selector: str) -> list[dict[str, float]]:
    """currentTime and decoded frames of each <video> matching ``selector``."""
    result: list[dict[str, float]] = page.eval_on_selector_all(selector, """videos => videos.map(v => {
        const q = v.getVideoPlaybackQuality();
        return {time: v.currentTime, frames: q.totalVideoFrames, dropped: q.droppedVideoFrames};
    })""")
    return result


def wait_playing(page: Page, selector: str, count: int, timeout_s: float = 30) -> None:
    """Each of ``count`` videos advanced its currentTime and decoded frames."""
    first = wait_for(lambda: len(found := video_progress(page, selector)) == count and found, timeout_s)
    time.sleep(1.5)
    wait_for(lambda: all(now["time"] > before["time"] + 0.5 and now["frames"] > before["frames"] + 5
                         for before, now in zip(first, video_progress(page, selector), strict=True)), timeout_s)
