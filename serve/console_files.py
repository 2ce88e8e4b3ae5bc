"""The operator console's static files (serve/console/: ES modules and CSS, no build step; docs/console.md).

Only the console's own paths are routed (``/``, ``/style.css``, ``/js/…``): a catch-all mount at ``/`` would
answer unknown or wrong-method API calls with its plain 404/405 instead of the API's JSON errors.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from domain.settings import Settings

CONSOLE_DIR = Path(__file__).with_name("console")


def console_html(settings: Settings) -> str:
    """index.html, with the map's tile URL as a ``gtv-tiles`` meta when one is configured."""
    page = (CONSOLE_DIR / "index.html").read_text()
    if settings.map_tile_url:
        page = page.replace('<meta charset="utf-8">',
                            f'<meta charset="utf-8">\n<meta name="gtv-tiles" content="{escape(settings.map_tile_url)}">', 1)
    return page


def add_console(app: FastAPI, settings: Settings) -> None:
    page = console_html(settings)
    style = CONSOLE_DIR / "style.css"

    @app.get("/", include_in_schema=False)
    async def console_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"cache-control": "no-cache"})

    @app.get("/style.css", include_in_schema=False)
    async def console_style() -> FileResponse:
        return FileResponse(style, headers={"cache-control": "no-cache"})

    app.mount("/js", StaticFiles(directory=CONSOLE_DIR / "js"), name="console")
