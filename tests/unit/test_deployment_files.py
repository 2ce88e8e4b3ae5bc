"""The deployment artefacts at the top level: cluster.yaml (Ray's cluster launcher), docker/ and the compose file.

Checked against what reads them: Ray's own schema for the launcher config, ``docker-compose config`` (Debian's
package, no daemon needed) for the compose file, and our start-up guard for the parts they wire together.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray.autoscaler
import yaml

from runtime.preflight import cluster_problem

ROOT = Path(__file__).resolve().parents[2]


def _yaml(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _camera_slots(command: str) -> int | None:
    found = re.search(r"--resources='(\{.*?\})'", command)
    return None if found is None else int(json.loads(found.group(1)).get("camera_slots", 0))


def test_cluster_yaml_passes_the_schema_of_the_installed_ray() -> None:
    config = _yaml("cluster.yaml")
    schema = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
    jsonschema.validate(config, schema)  # what `ray up` checks before it touches a host
    with pytest.raises(jsonschema.ValidationError):  # the schema is strict enough to catch a misspelt key
        jsonschema.validate({**config, "worker_start_commands": []}, schema)
    assert config["provider"]["type"] == "local" and config["provider"]["worker_ips"]


def test_cluster_yaml_installs_gt_vision_and_gives_only_workers_camera_slots() -> None:
    config = _yaml("cluster.yaml")
    assert any("pip install" in c and "gt-vision" in c for c in config["setup_commands"])
    head = " ".join(config["head_start_ray_commands"])
    workers = " ".join(config["worker_start_ray_commands"])
    assert _camera_slots(head) == 0, "cameras stay off the head"
    assert (_camera_slots(workers) or 0) > 0
    assert "--port=6380" in head and ":6380" in workers, "the head avoids Redis's 6379"
    assert "GTVISION_SPOOL_DIR=" in workers, "each node's spool is on its own disk"


def test_compose_has_a_head_workers_and_the_shared_parts() -> None:
    services = _yaml("docker-compose.yml")["services"]
    assert {"head", "postgres", "minio", "redis"} <= set(services)
    workers = [s for name, s in services.items() if name.startswith("worker")]
    assert len(workers) >= 2
    spools = [v.split(":")[0] for w in workers for v in w["volumes"] if v.endswith(":/srv/gtv/spool")]
    assert len(set(spools)) == len(workers), "each worker's spool is a volume of its own"
    environment = services["head"]["environment"]
    assert cluster_problem("auto", environment["GTVISION_DATABASE_URL"], environment["GTVISION_OBJECT_STORE"],
                           environment["GTVISION_BUS_URL"]) is None
    assert "--appendonly" in services["redis"]["command"]


def test_the_image_carries_every_package_the_project_installs() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        assert f"COPY {pattern.rstrip('*')} " in dockerfile, pattern
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert "--address auto" in entrypoint and "camera_slots" in entrypoint


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    checked = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                             env={"GTVISION_SECRET": "s" * 64, "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
