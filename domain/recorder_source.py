"""Which URL a camera's recorder opens: the camera itself, or the MediaMTX edge's restream of it.

With an edge (``Settings.edge_rtsp_url``) a camera is opened once, by MediaMTX, whatever the number of browsers
watching it through the edge: many cameras accept only a few RTSP sessions. The recorder then reads
``{edge_rtsp_url}/cam/{camera_id}`` with the platform's edge credential (docs/edge.md).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit
from uuid import UUID

from domain.edge_credential import EdgeCredential
from domain.edge_paths import edge_carries, path_name


def recorder_source(camera_id: UUID, camera_url: str, edge_rtsp_url: str | None, credential: EdgeCredential) -> str:
    """``camera_url``, or the edge's restream of the camera when there is an edge that can pull this URL (the
    built-in test pattern is never provisioned at the edge, so it is always opened directly)."""
    if not edge_rtsp_url or not edge_carries(camera_url):
        return camera_url
    edge = urlsplit(edge_rtsp_url)
    host = edge.netloc.rpartition("@")[2]  # the edge URL's own userinfo, if any, gives way to the credential
    userinfo = f"{quote(credential.user, safe='')}:{quote(credential.password, safe='')}"
    path = f"{edge.path.rstrip('/')}/{path_name(camera_id)}"
    return urlunsplit((edge.scheme, f"{userinfo}@{host}", path, "", ""))
