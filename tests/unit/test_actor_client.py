"""The actor client's camera-host routing, with fake actors standing in for Ray's named ones."""

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import pytest

from actor_client import client as client_module
from actor_client.client import ActorClient, CameraNotRunning
from actor_client.names import FLEET_NAME, host_name


class _Method:
    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)


class _Fleet:
    def __init__(self) -> None:
        self.placement: dict[UUID, str] = {}
        self.asked = 0

        async def host_of(camera_id: UUID) -> str | None:
            self.asked += 1
            return self.placement.get(camera_id)

        self.host_of = _Method(host_of)


class _Host:
    def __init__(self) -> None:
        self.gops: list[str] | None = ["gop"]
        self.fail = False

        async def live_gops(camera_id: UUID, sub: bool = False) -> list[str] | None:
            if self.fail:
                raise RuntimeError("host died")
            return self.gops

        self.live_gops = _Method(live_gops)


@pytest.fixture
def actors(monkeypatch: pytest.MonkeyPatch) -> tuple[ActorClient, _Fleet, _Host]:
    fleet, host = _Fleet(), _Host()
    named = {FLEET_NAME: fleet, host_name(0): host}

    def get_actor(name: str, namespace: str) -> Any:
        if name not in named:
            raise ValueError(f"no actor {name}")
        return named[name]

    monkeypatch.setattr(client_module.ray, "get_actor", get_actor)
    monkeypatch.setattr(client_module.ray, "is_initialized", lambda: True)
    return ActorClient("test", call_timeout_s=1.0), fleet, host


async def test_the_host_is_remembered_until_a_call_fails(actors: tuple[ActorClient, _Fleet, _Host]) -> None:
    client, fleet, host = actors
    camera = uuid4()
    fleet.placement[camera] = host_name(0)
    assert await client.live_gops(camera) == ["gop"]
    assert await client.live_gops(camera) == ["gop"]
    assert fleet.asked == 1
    host.fail = True
    with pytest.raises(CameraNotRunning, match="did not answer"):
        await client.live_gops(camera)
    host.fail = False
    assert await client.live_gops(camera) == ["gop"]
    assert fleet.asked == 2


async def test_no_host_or_no_camera_on_it_is_not_running(actors: tuple[ActorClient, _Fleet, _Host]) -> None:
    client, fleet, host = actors
    camera = uuid4()
    with pytest.raises(CameraNotRunning, match="not running"):
        await client.live_gops(camera)
    fleet.placement[camera] = host_name(0)
    host.gops = None
    with pytest.raises(CameraNotRunning, match="not running"):
        await client.live_gops(camera)
    host.gops = ["gop"]
    assert await client.live_gops(camera) == ["gop"]
    assert fleet.asked == 3  # forgotten after the None answer


async def test_the_api_request_id_travels_with_a_status_call_and_is_the_fleets_log_context(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    from actors.fleet import Fleet
    from domain.settings import Settings
    from storage.log_context import log_context, stamp_log_records

    stamp_log_records()
    fleet = Fleet(Settings(database_url="postgresql://unused", object_store_url="file:///unused",
                           public_url="http://127.0.0.1:1", secret="s"))
    camera = uuid4()

    async def dead(camera_id: UUID) -> None:
        raise RuntimeError("host died")

    fleet._placement[camera], fleet._hosts[0] = 0, type("DeadHost", (), {"status": _Method(dead)})()
    handle = type("FleetHandle", (), {"camera_status": _Method(fleet.camera_status)})()
    monkeypatch.setattr(client_module.ray, "get_actor", lambda name, namespace: handle)
    monkeypatch.setattr(client_module.ray, "is_initialized", lambda: True)
    with log_context(request_id="req-7"):
        assert await ActorClient("test").camera_status(camera) is None
    (record,) = [r for r in caplog.records if r.name == "actors.fleet"]
    assert (getattr(record, "request_id", None), getattr(record, "camera_id", None)) == ("req-7", str(camera))
