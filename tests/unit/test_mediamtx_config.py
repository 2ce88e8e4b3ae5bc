"""The repository's mediamtx.yml: only keys MediaMTX documents (it refuses unknown ones), and the choices the
edge depends on (docs/edge.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _documented() -> tuple[set[str], set[str]]:
    lines = [ln.strip() for ln in (ROOT / "tests/fixtures/mediamtx_keys.txt").read_text().splitlines()]
    keys = [ln for ln in lines if ln and not ln.startswith("#")]
    return ({k for k in keys if not k.startswith("pathDefaults.")},
            {k.removeprefix("pathDefaults.") for k in keys if k.startswith("pathDefaults.")})


def _config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "mediamtx.yml").read_text())
    return config


def test_every_key_is_one_mediamtx_documents() -> None:
    top, path_defaults = _documented()
    config = _config()
    assert len(top) > 100 and len(path_defaults) > 50  # the fixture was read whole
    assert set(config) - top == set()
    assert set(config["pathDefaults"]) - path_defaults == set()


def test_auth_goes_to_gt_vision_and_the_api_stays_local() -> None:
    config = _config()
    assert config["authMethod"] == "http"
    assert config["authHTTPAddress"].endswith("/api/v1/edge/auth")
    assert config["authHTTPExclude"] == []  # the API and metrics need the platform's credential too
    assert config["api"] is True and config["apiAddress"].startswith("127.0.0.1:")
    assert config["metrics"] is True


def test_viewing_protocols_on_and_no_static_camera_paths() -> None:
    config = _config()
    assert config["rtsp"] and config["webrtc"] and config["hls"]
    assert config["hlsVariant"] == "lowLatency"
    assert config["paths"] in ({}, None)
    assert config["pathDefaults"]["sourceOnDemand"] is True
    assert config["pathDefaults"]["rtspTransport"] == "tcp"
