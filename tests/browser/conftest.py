"""The console's browser tests: the whole system (tests/conftest.py ``system``, directory store — its presigned
URLs are same-origin), RTSP test cameras, and Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.console_city import ConsoleCity, console_page, launch_chromium, new_console_city, sign_in
from tests.support.ports import free_port
from tests.support.rtsp_camera import RtspTestCamera
from tests.support.system import System

DEMO = ["Av. Paulista", "Praça da Sé", "Rua Augusta", "Viaduto do Chá"]


@pytest.fixture(scope="module")
def demo_rtsp() -> Iterator[RtspTestCamera]:
    """Four cameras, each with its half-size sub-stream (demoN-sub)."""
    camera = RtspTestCamera(free_port(), [f"demo{i}{kind}" for i in range(1, 5) for kind in ("", "-sub:sub")])
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture(scope="module")
def dropping_rtsp() -> Iterator[RtspTestCamera]:
    """A server of its own, so the test that stops it takes no other camera down."""
    camera = RtspTestCamera(free_port(), ["drop"])
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture(scope="module")
def city(system: System, demo_rtsp: RtspTestCamera, dropping_rtsp: RtspTestCamera) -> ConsoleCity:
    made = new_console_city(system)
    for i, name in enumerate(DEMO):
        made.add_camera(name, demo_rtsp.url(f"demo{i + 1}"), -23.55 - i * 0.004, -46.63 + i * 0.005,
                        substream_url=demo_rtsp.url(f"demo{i + 1}-sub"))
    made.add_camera("Zona Sul", dropping_rtsp.url("drop"), -23.60, -46.66)
    made.wait_streaming()
    return made


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, city: ConsoleCity) -> Iterator[Page]:
    """A signed-in page; the test fails if the page logged any console error."""
    errors: list[str] = []
    with console_page(browser, errors) as opened:
        sign_in(opened, city)
        yield opened
    assert not errors, f"console errors: {errors}"
