"""Provisioning the MediaMTX edge: its ``cam/{id}`` paths follow the enabled cameras (docs/edge.md).

The Fleet runs one pass per reconcile pass when ``Settings.edge_api_url`` is set. A pass lists MediaMTX's paths,
plans the difference (domain/edge_paths.py) and applies it. MediaMTX keeps paths added through its API in memory
only, so passing again every interval is also what re-provisions a restarted MediaMTX.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar
from uuid import UUID

from domain.camera import Camera
from domain.edge_credential import edge_credential
from domain.edge_paths import desired_paths, plan_paths
from domain.sealing import Sealer, Unsealable, sealer_for
from domain.settings import Settings
from services.retry import GaveUp, retrying
from storage.mediamtx_api import MediaMtxApi, MediaMtxRefused

log = logging.getLogger(__name__)
T = TypeVar("T")

_ATTEMPTS = 3  # per call; MediaMTX down → a pass gives up within seconds and the next pass tries again
_PASS_BUDGET_S = 15.0  # a pass never holds the Fleet's reconcile loop longer; what it did not finish, the next pass does


@dataclass(frozen=True)
class EdgePathReport:
    added: int = 0
    patched: int = 0
    deleted: int = 0
    refused: int = 0  # calls MediaMTX answered with a 4xx (logged; the next pass plans them again)


async def follow_cameras(settings: Settings, cameras: Iterable[Camera], *,
                         budget_s: float = _PASS_BUDGET_S) -> EdgePathReport | None:
    """One provisioning pass if the edge is configured; None when it is not, or when MediaMTX could not be reached
    or refused to list its paths (logged: the next pass tries again). Never raises but for cancellation."""
    if not settings.edge_api_url:
        return None
    try:
        async with MediaMtxApi(settings.edge_api_url, edge_credential(settings)) as api:
            return await asyncio.wait_for(reconcile_edge_paths(api, cameras, sealer_for(settings)), budget_s)
    except (GaveUp, MediaMtxRefused, TimeoutError) as exc:
        cause = exc.__cause__ if isinstance(exc, GaveUp) else None
        log.warning("MediaMTX edge at %s not provisioned this pass: %s%s", settings.edge_api_url,
                    exc or "pass budget exceeded", f" ({cause})" if cause else "")
        return None


async def reconcile_edge_paths(api: MediaMtxApi, cameras: Iterable[Camera], sealer: Sealer) -> EdgePathReport:
    """Make MediaMTX's camera paths those of ``cameras``. GaveUp when MediaMTX is down (the rest of the pass would
    fail too); MediaMtxRefused when it refuses the listing; a refused change is counted and the pass goes on."""
    current = await _retried(api.path_confs, "list MediaMTX paths")
    if isinstance(current, MediaMtxRefused):
        raise current
    plan = plan_paths(desired_paths(_sources(cameras, sealer)), current)
    added = [await _change(partial(api.add_path, name, conf), f"add MediaMTX path {name}")
             for name, conf in plan.add.items()]
    patched = [await _change(partial(api.patch_path, name, conf), f"patch MediaMTX path {name}")
               for name, conf in plan.patch.items()]
    deleted = [await _change(partial(api.delete_path, name), f"delete MediaMTX path {name}") for name in plan.delete]
    done = added + patched + deleted
    report = EdgePathReport(sum(added), sum(patched), sum(deleted), done.count(False))
    if not plan.empty:
        log.info("MediaMTX edge: %s", report)
    return report


def _sources(cameras: Iterable[Camera], sealer: Sealer) -> list[tuple[UUID, str]]:
    """Each camera's URL with its password opened (MediaMTX pulls the camera); one that cannot be opened is left
    out (logged) rather than provisioned without its password."""
    sources = []
    for camera in cameras:
        try:
            sources.append((camera.id, camera.opened_stream(sealer).with_credentials()))
        except Unsealable as exc:
            log.error("camera %s not provisioned on the edge: its password cannot be opened (%s)", camera.id, exc)
    return sources


async def _change(call: Callable[[], Awaitable[None]], what: str) -> bool:
    """Whether MediaMTX made the change; a refusal is logged (the next pass plans it again)."""
    outcome = await _retried(call, what)
    if isinstance(outcome, MediaMtxRefused):
        log.warning("cannot %s: %s", what, outcome)
        return False
    return True


async def _retried(call: Callable[[], Awaitable[T]], what: str) -> T | MediaMtxRefused:
    """``call()`` with bounded retries of MediaMTX's failures; a refusal is returned, not retried."""
    async def attempt() -> T | MediaMtxRefused:
        try:
            return await call()
        except MediaMtxRefused as exc:
            return exc

    return await retrying(attempt, what=what, attempts=_ATTEMPTS, first_s=0.2, cap_s=1.0, log=log)
