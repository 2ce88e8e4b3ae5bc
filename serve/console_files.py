"""The operator console's static files (serve/console/: ES modules and CSS, no build step; docs/console.md).

Only the console's own paths are routed (``/``, ``/style.css``, ``/js/…``): a catch-all mount at ``/`` would
answer unknown or wrong-method API calls with its plain 404/405 instead of the API's JSON errors.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

CONSOLE_DIR = Path(__file__).with_name("console")


def add_console(app: FastAPI) -> None:
    page, style = CONSOLE_DIR / "index.html", CONSOLE_DIR / "style.css"

    @app.get("/", include_in_schema=False)
    async def console_page() -> FileResponse:
        return FileResponse(page, headers={"cache-control": "no-cache"})

    @app.get("/style.css", include_in_schema=False)
    async def console_style() -> FileResponse:
        return FileResponse(style, headers={"cache-control": "no-cache"})

    app.mount("/js", StaticFiles(directory=CONSOLE_DIR / "js"), name="console")
