"""One contract, two backends: the S3 protocol (moto's server) and a local directory."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from serve import errors
from serve.deps import Resources
from serve.routes import objects
from storage.objects import DirObjectStore, ObjectNotFound, ObjectStore, open_object_store
from tests.support.ports import free_port, wait_for_port

SECRET = b"s" * 32


@pytest.fixture(scope="module")
def object_route_server() -> Iterator[tuple[str, dict[str, Any]]]:
    """The API's real /api/v1/objects route on uvicorn, serving whichever dir store a test sets."""
    app = FastAPI()
    errors.install(app)
    app.include_router(objects.router, prefix="/api/v1")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    holder: dict[str, Any] = {"app": app}
    yield f"http://127.0.0.1:{port}/api/v1/objects", holder
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def store(object_store_url: str, object_route_server: tuple[str, dict[str, Any]]) -> ObjectStore:
    base_url, holder = object_route_server
    opened = open_object_store(object_store_url, public_base_url=base_url, signing_secret=SECRET)
    holder["app"].state.resources = Resources(settings=None, pool=None, store=opened, actors=None, live=None,
                                                   bus=None, lpr=None, sessions=None, tickets=None, feeds=None)  # type: ignore[arg-type]
    return opened


def test_put_get_and_range_get(store: ObjectStore) -> None:
    data = bytes(range(256)) * 1000
    store.put("t/a/c/b/2026/01/01/00/1.mp4", data, "video/mp4")
    assert store.get("t/a/c/b/2026/01/01/00/1.mp4") == data
    assert store.get_range("t/a/c/b/2026/01/01/00/1.mp4", 1000, 300) == data[1000:1300]
    assert store.get_range("t/a/c/b/2026/01/01/00/1.mp4", len(data) - 5, 100) == data[-5:]
    info = store.stat("t/a/c/b/2026/01/01/00/1.mp4")
    assert info is not None and info.size == len(data)


def test_put_file_stores_a_large_file_whole(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(7 * 1024 * 1024 + 13)  # beyond one multipart part on S3
    source = tmp_path / "clip.mp4"
    source.write_bytes(data)
    store.put_file("clips/c.mp4", source, "video/mp4")
    assert store.get("clips/c.mp4") == data
    assert store.get_range("clips/c.mp4", 5 * 1024 * 1024, 10) == data[5 * 1024 * 1024 : 5 * 1024 * 1024 + 10]


def test_a_stored_file_outlives_its_source(store: ObjectStore, tmp_path: Path) -> None:
    """The uploader deletes a spooled chunk once stored (a directory store links it rather than copying)."""
    source = tmp_path / "chunk.mp4"
    source.write_bytes(b"moof" * 1000)
    store.put_file("k/chunk.mp4", source, "video/mp4")
    source.unlink()
    assert store.get("k/chunk.mp4") == b"moof" * 1000


def test_overwrite_replaces_the_whole_object(store: ObjectStore) -> None:
    store.put("k/x", b"long content here")
    store.put("k/x", b"short")
    assert store.get("k/x") == b"short"


def test_missing_objects(store: ObjectStore) -> None:
    assert store.stat("no/such/key") is None
    with pytest.raises(ObjectNotFound):
        store.get("no/such/key")
    with pytest.raises(ObjectNotFound):
        store.get_range("no/such/key", 0, 10)


def test_list_by_prefix_and_batch_delete(store: ObjectStore) -> None:
    keys = [f"t/x/c/{cam}/2026/01/01/0{h}/{i}.mp4" for cam in ("c1", "c2") for h in (1, 2) for i in range(3)]
    for key in keys:
        store.put(key, key.encode())
    listed = sorted(o.key for o in store.list_prefix("t/x/c/c1/"))
    assert listed == sorted(k for k in keys if k.startswith("t/x/c/c1/"))
    assert sorted(o.key for o in store.list_prefix("t/x/c/c2/2026/01/01/02")) == sorted(
        k for k in keys if "c2/2026/01/01/02" in k
    )
    assert all(o.size == len(o.key) for o in store.list_prefix("t/x/"))
    assert store.delete_many([*keys[:6], "t/x/never-existed"]) == []
    assert sorted(o.key for o in store.list_prefix("t/x/")) == sorted(keys[6:])


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b"])
def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_presigned_get_serves_the_object_and_its_ranges(store: ObjectStore) -> None:
    data = b"0123456789" * 100
    store.put("t/p/c/q/clip.mp4", data, "video/mp4")
    url = store.presigned_get("t/p/c/q/clip.mp4", timedelta(minutes=5))
    assert url.startswith("http://127.0.0.1:")
    with httpx.Client(timeout=10) as client:
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == data
        part = client.get(url, headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == data[10:20]


def test_dir_presigned_urls_reject_tampering_and_expiry(
    tmp_path: Path, object_route_server: tuple[str, dict[str, Any]]
) -> None:
    base_url, holder = object_route_server
    store = DirObjectStore(tmp_path, public_base_url=base_url, signing_secret=SECRET)
    holder["app"].state.resources = Resources(settings=None, pool=None, store=store, actors=None, live=None,
                                                   bus=None, lpr=None, sessions=None, tickets=None, feeds=None)  # type: ignore[arg-type]
    store.put("t/a/secret.mp4", b"evidence")
    good = store.presigned_get("t/a/secret.mp4", timedelta(minutes=1))
    expired = store.presigned_get("t/a/secret.mp4", timedelta(seconds=-1))
    with httpx.Client(timeout=10) as client:
        assert client.get(good).content == b"evidence"
        assert client.get(good.replace("secret.mp4", "other.mp4")).status_code == 403
        assert client.get(good[:-4] + "0000").status_code == 403
        response = client.get(expired)
        assert response.status_code == 403
        assert "expired" in response.json()["error"]["message"]
