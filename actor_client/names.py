"""The names of the platform's named Ray actors, in one place.

The launcher and the Fleet create actors under these names and the client finds
them by them, so a rename cannot leave one side behind. The in-Ray event bus's
name stays with the bus (storage/bus.py): storage opens it itself and sits below
this package.
"""

from __future__ import annotations

FLEET_NAME = "fleet"
CLIP_EXPORTER_NAME = "clip-exporter"
RETENTION_NAME = "retention"
LPR_WRITER_NAME = "lpr-writer"


def city_host_name(slot: int) -> str:
    """The city host (tenant coordinators) in placement slot ``slot``."""
    return f"city-host-{slot}"


def host_name(slot: int) -> str:
    """The camera host in placement slot ``slot``."""
    return f"camera-host-{slot}"


def host_slot(name: str) -> int | None:
    """The slot of the camera host named ``name``; None for any other name."""
    prefix, _, slot = name.rpartition("-")
    return int(slot) if prefix == "camera-host" and slot.isdigit() else None
