"""The MediaMTX edge's pure rules: path names, the provisioning plan, the recorder's source, the credential and
where a viewer's media token may be."""

from __future__ import annotations

from uuid import UUID, uuid4

from domain.edge_auth import token_candidates
from domain.edge_credential import EDGE_USER, edge_credential
from domain.edge_paths import camera_of_path, desired_path, desired_paths, edge_carries, path_name, plan_paths
from domain.recorder_source import recorder_source
from domain.settings import Settings

CAM = UUID("0b9b2f3e-5f0c-4d59-9d3a-2b8f0a1c7e11")
SETTINGS = Settings(database_url="", object_store_url="", public_url="", secret="s3cret")
CREDENTIAL = edge_credential(SETTINGS)


def test_path_names_round_trip_and_foreign_names_are_not_cameras() -> None:
    assert path_name(CAM) == f"cam/{CAM}"
    assert camera_of_path(path_name(CAM)) == CAM
    for foreign in ("all_others", "cam/", "cam/not-a-uuid", f"cams/{CAM}", f"cam/{CAM}/x", f"cam/{str(CAM).upper()}",
                    f"cam/{{{CAM}}}", f"x/cam/{CAM}"):
        assert camera_of_path(foreign) is None, foreign


def test_only_rtsp_cameras_go_to_the_edge() -> None:
    assert edge_carries("rtsp://cam/1") and edge_carries("RTSPS://cam/1")
    assert not edge_carries("test://pattern?fps=10")
    pattern, real = uuid4(), uuid4()
    assert desired_paths([(pattern, "test://pattern"), (real, "rtsp://u:p@10.0.0.5/s")]) == {
        path_name(real): {"source": "rtsp://u:p@10.0.0.5/s", "sourceOnDemand": True, "rtspTransport": "tcp"}}


def test_plan_adds_patches_only_what_differs_and_deletes_only_camera_paths() -> None:
    kept, moved, new, gone = (uuid4() for _ in range(4))
    desired = desired_paths([(kept, "rtsp://a/1"), (moved, "rtsp://b/new"), (new, "rtsp://c/1")])
    listed_defaults = {"sourceOnDemandStartTimeout": "10s", "record": False, "readUser": "<redacted>"}
    current = {
        path_name(kept): {"name": path_name(kept), **desired_path("rtsp://a/1"), **listed_defaults},
        path_name(moved): {"name": path_name(moved), **desired_path("rtsp://b/old"), **listed_defaults},
        path_name(gone): {"name": path_name(gone), **desired_path("rtsp://d/1")},
        "all_others": {"name": "all_others", "source": "publisher"},  # an operator's path: never touched
    }
    plan = plan_paths(desired, current)
    assert plan.add == {path_name(new): desired_path("rtsp://c/1")}
    assert plan.patch == {path_name(moved): {"source": "rtsp://b/new"}}
    assert plan.delete == (path_name(gone),)
    assert plan_paths(desired, {**current, **{n: {"name": n, **c} for n, c in desired.items()}}).patch == {}


def test_plan_of_matching_paths_is_empty() -> None:
    desired = desired_paths([(CAM, "rtsp://a/1")])
    assert plan_paths(desired, {n: {"name": n, "maxReaders": 0, **c} for n, c in desired.items()}).empty
    assert not plan_paths(desired, {}).empty


def test_recorder_reads_the_camera_without_an_edge() -> None:
    assert recorder_source(CAM, "rtsp://u:p@10.0.0.5/s", None, CREDENTIAL) == "rtsp://u:p@10.0.0.5/s"
    assert recorder_source(CAM, "test://pattern?fps=5", "rtsp://127.0.0.1:8554", CREDENTIAL) == "test://pattern?fps=5"


def test_recorder_reads_the_edge_restream_with_the_platform_credential() -> None:
    url = recorder_source(CAM, "rtsp://u:p@10.0.0.5/s", "rtsp://127.0.0.1:8554", CREDENTIAL)
    assert url == f"rtsp://{EDGE_USER}:{CREDENTIAL.password}@127.0.0.1:8554/cam/{CAM}"
    # a base path and the edge URL's own userinfo: the path is kept, the userinfo replaced
    assert recorder_source(CAM, "rtsps://x/1", "rtsp://old:pw@edge:8554/base/", CREDENTIAL) == (
        f"rtsp://{EDGE_USER}:{CREDENTIAL.password}@edge:8554/base/cam/{CAM}")


def test_edge_credential_is_derived_from_the_secret() -> None:
    assert CREDENTIAL.user == EDGE_USER
    assert CREDENTIAL.password == SETTINGS.key("edge").hex()
    assert edge_credential(Settings("", "", "", secret="other")).password != CREDENTIAL.password
    assert CREDENTIAL.matches(EDGE_USER, CREDENTIAL.password)
    assert not CREDENTIAL.matches(EDGE_USER, CREDENTIAL.password[:-1])
    assert not CREDENTIAL.matches("someone", CREDENTIAL.password)
    assert CREDENTIAL.password not in repr(CREDENTIAL)


def test_media_token_is_looked_for_in_token_then_password_then_query() -> None:
    assert token_candidates("", "", "") == ()
    assert token_candidates("t1", "t1", "token=t1") == ("t1",)  # MediaMTX copies the password into token
    assert token_candidates("", "pw", "a=1&token=q") == ("pw", "q")
    assert token_candidates("", "", "token=") == ()
