"""JSON log lines (storage/json_logs.py), their context (storage/log_context.py) and the API's request id
middleware (serve/request_context.py)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from serve.request_context import RequestContext, request_id_from
from storage.json_logs import JsonLineFormatter, log_json_to_file
from storage.log_context import bind, context_fields, fresh_log_context, log_context, stamp_log_records


@pytest.fixture
def lines() -> Iterator[list[str]]:
    """Lines our formatter writes for records of the ``gtvision.test`` logger and the access logger."""
    stamp_log_records()
    written: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(self.format(record))

    handler = Collect(logging.DEBUG)
    handler.setFormatter(JsonLineFormatter())
    loggers = [logging.getLogger("gtvision.test"), logging.getLogger("gtvision.access")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield written
    for logger in loggers:
        logger.removeHandler(handler)


def test_a_line_has_time_level_logger_message_and_the_known_context(lines: list[str]) -> None:
    with log_context(camera_id="cam-1", tenant_id="city-1"):
        logging.getLogger("gtvision.test").warning("read failed: %s", "rtsp://alice:s3cret@10.0.0.5/cam?token=abc")
    logging.getLogger("gtvision.test").info("no context")
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "gtvision.test"
    assert first["time"].endswith("+00:00") and first["camera_id"] == "cam-1" and first["tenant_id"] == "city-1"
    assert first["message"] == "read failed: rtsp://***@10.0.0.5/cam?token=***"
    assert "camera_id" not in second and "request_id" not in second


def test_a_traceback_is_one_field_of_one_line_and_redacted(lines: list[str]) -> None:
    try:
        raise OSError("cannot open rtsp://bob:hunter2@cam/1")
    except OSError:
        logging.getLogger("gtvision.test").exception("failed")
    (line,) = lines
    entry = json.loads(line)
    assert "Traceback" in entry["exc"] and "hunter2" not in line


def test_contexts_nest_and_a_fresh_one_undoes_what_was_bound_inside() -> None:
    with log_context(request_id="outer"):
        with fresh_log_context(request_id="r1"):
            bind(user="u1", tenant_id="t1")
            assert context_fields() == {"request_id": "r1", "user": "u1", "tenant_id": "t1"}
        assert context_fields() == {"request_id": "outer"}
    assert context_fields() == {}


def test_the_file_holds_json_lines(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        path = log_json_to_file(tmp_path / "logs")
        logging.getLogger("gtvision.test").info("hello")
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    (line,) = path.read_text().splitlines()
    assert json.loads(line)["message"] == "hello"


@pytest.mark.parametrize(("header", "kept"), [
    ("abc-123", True), ("0f1e2d3c4b5a69788796a5b4c3d2e1f0", True), ("a" * 128, True),
    ("a" * 129, False), ("", False), ("bad id", False), ("x\ny", False), ("<script>", False), (None, False),
])
def test_an_incoming_request_id_is_kept_only_when_well_formed(header: str | None, kept: bool) -> None:
    chosen = request_id_from(header)
    assert (chosen == header) is kept and 1 <= len(chosen) <= 128


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestContext)

    @app.get("/cameras/{camera_id}/live.m3u8")
    async def live(camera_id: str) -> dict[str, str | None]:
        bind(user="u-1", tenant_id="t-1")
        logging.getLogger("gtvision.test").info("serving")
        return context_fields()

    @app.get("/fails")
    async def fails() -> None:
        raise ValueError("boom")

    return app


def test_each_request_gets_an_id_in_its_answer_and_in_every_line(lines: list[str]) -> None:
    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [await client.get("/cameras/c-9/live.m3u8?token=eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
                                     headers={"X-Request-ID": "trace-42"}),
                    await client.get("/cameras/c-9/live.m3u8", headers={"X-Request-ID": "no good"}),
                    await client.get("/fails")]

    kept, replaced, failed = asyncio.run(go())
    assert kept.headers["x-request-id"] == "trace-42" and kept.json()["request_id"] == "trace-42"
    assert replaced.headers["x-request-id"] != "no good" and len(replaced.headers["x-request-id"]) == 32
    assert failed.status_code == 500
    entries = [json.loads(line) for line in lines]
    served = [e for e in entries if e["message"] == "serving"]
    assert served[0]["request_id"] == "trace-42" and served[0]["user"] == "u-1" and served[0]["tenant_id"] == "t-1"
    access = [e for e in entries if e["logger"] == "gtvision.access"]
    assert access[0]["message"].startswith("GET /cameras/{camera_id}/live.m3u8 200")
    assert access[0]["request_id"] == "trace-42" and access[0]["user"] == "u-1" and access[0]["camera_id"] == "c-9"
    assert access[-1]["message"].startswith("GET /fails 500") and access[-1]["level"] == "INFO"
    assert not any("eyJ" in line or "token" in line for line in lines), lines
    assert context_fields() == {}, "nothing of a request stays behind"
