"""The camera entity and the spec a camera host needs to run it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.sealing import Sealer, camera_password_context
from domain.stream_url import StreamUrl, with_login_of


@dataclass(frozen=True)
class Camera:
    id: UUID
    tenant_id: UUID
    name: str
    vendor: str
    stream: StreamUrl  # without its password: that is ``sealed_password``
    enabled: bool
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime
    recording_paused: str | None = None  # why its city may not record now (storage quota), if so
    sealed_password: str | None = None  # the RTSP password as stored: sealed (domain/sealing.py)
    substream: StreamUrl | None = None  # the lighter stream for mosaics, live only; opens with ``stream``'s login

    @property
    def revision(self) -> str:
        """Changes whenever the camera's configuration does (or its city's pause); a new revision restarts it."""
        return self.updated_at.isoformat() + ("|paused" if self.recording_paused else "")

    def opened_stream(self, sealer: Sealer | None) -> StreamUrl:
        """The stream with its password opened: only for what opens the stream (the Fleet placing the camera,
        the edge provisioning) or revalidates it (an edit of the stream). Unsealable if it cannot be opened."""
        if self.sealed_password is None:
            return self.stream
        if sealer is None:
            raise ValueError(f"camera {self.id} has a sealed password: opening its stream needs the sealer")
        return StreamUrl(self.stream.public_url, self.stream.username,
                         sealer.open(self.sealed_password, camera_password_context(self.id)))

    def spec(self, sealer: Sealer | None = None) -> CameraSpec:
        opened = self.opened_stream(sealer)
        sub = None if self.substream is None else with_login_of(self.substream, opened).with_credentials()
        return CameraSpec(self.id, self.tenant_id, opened.with_credentials(), self.revision, self.recording_paused,
                          sub)


@dataclass(frozen=True)
class CameraSpec:
    """What a camera host needs to record one camera."""

    camera_id: UUID
    tenant_id: UUID
    url: str  # with credentials: never shown, never logged
    revision: str
    paused: str | None = None  # set: do not record, show error storage_full with this detail
    substream_url: str | None = None  # with credentials, like ``url``; watched live only, never recorded

    def __repr__(self) -> str:
        return f"CameraSpec(camera_id={self.camera_id}, revision={self.revision})"
