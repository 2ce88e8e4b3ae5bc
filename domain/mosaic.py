"""Mosaic layouts: how many cameras a saved wall of video holds, and who may change one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.rbac import Principal, Role


class Layout(StrEnum):
    ONE = "1x1"
    FOUR = "2x2"
    NINE = "3x3"
    SIXTEEN = "4x4"

    @property
    def slots(self) -> int:
        side = int(self.value[0])
        return side * side


@dataclass(frozen=True)
class Mosaic:
    id: UUID
    tenant_id: UUID
    owner_id: UUID
    name: str
    layout: str
    cameras: list[UUID | None]  # row-major slots
    shared: bool
    created_at: datetime
    updated_at: datetime


def fill_slots(layout: Layout, cameras: list[UUID | None]) -> list[UUID | None]:
    """The layout's slots, row-major: the cameras given, then empty slots. ValueError if they do not fit."""
    if len(cameras) > layout.slots:
        raise ValueError(f"layout {layout.value} has {layout.slots} slots, {len(cameras)} cameras given")
    placed = [c for c in cameras if c is not None]
    if len(placed) != len(set(placed)):
        raise ValueError("a camera appears twice in the mosaic")
    return cameras + [None] * (layout.slots - len(cameras))


def may_change(who: Principal, owner_id: UUID) -> bool:
    """Owners change their mosaics; a city's managers (and admins) may change any of the city's shared ones."""
    return who.user_id == owner_id or who.role in (Role.MANAGER, Role.ADMIN)
