"""The API's Serve options built from the settings: replica count, autoscaling, placement, and the ingress."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.api_replicas import TARGET_ONGOING_REQUESTS, BadReplicaCount, api_replica_options
from domain.ingress import chosen_proxy
from runtime.cli import main

ON_HEAD = {"node:__internal_head__": 0.001}


def test_one_replica_stays_on_the_head_with_the_control_plane() -> None:
    options = api_replica_options(1, None, ON_HEAD)
    assert options == {"num_replicas": 1, "ray_actor_options": {"num_cpus": 0, "resources": ON_HEAD}}
    assert options["ray_actor_options"]["resources"] is not ON_HEAD, "a copy: Serve may keep and change it"


def test_a_fixed_count_above_one_is_spread_over_the_nodes() -> None:
    options = api_replica_options(4, None, ON_HEAD)
    assert options == {"num_replicas": 4, "ray_actor_options": {"num_cpus": 0}}
    assert api_replica_options(3, 3, ON_HEAD)["num_replicas"] == 3, "max = min is a fixed count"


def test_a_maximum_above_the_count_autoscales_between_them_unpinned() -> None:
    options = api_replica_options(1, 6, ON_HEAD)
    assert options["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 6,
                                             "target_ongoing_requests": TARGET_ONGOING_REQUESTS}
    assert "num_replicas" not in options and options["ray_actor_options"] == {"num_cpus": 0}


@pytest.mark.parametrize(("replicas", "maximum", "says"), [
    (0, None, "at least 1 replica (got 0)"), (3, 2, "maximum replicas (2) is below its minimum (3)")])
def test_impossible_counts_are_refused_saying_why(replicas: int, maximum: int | None, says: str) -> None:
    with pytest.raises(BadReplicaCount, match=says.replace("(", r"\(").replace(")", r"\)")):
        api_replica_options(replicas, maximum, ON_HEAD)


def test_auto_takes_haproxy_where_it_is_installed_unless_tls_is_served() -> None:
    assert chosen_proxy("auto", haproxy_installed=True, tls=False) == "haproxy"
    assert chosen_proxy("auto", haproxy_installed=False, tls=False) == "python"
    assert chosen_proxy("auto", haproxy_installed=True, tls=True) == "python", "HAProxy mode takes no certificate"
    assert chosen_proxy("auto", haproxy_installed=True, tls=False, cluster=True) == "python", \
        "a running cluster's nodes were started with their ingress"
    assert chosen_proxy("python", haproxy_installed=True, tls=False) == "python", "an explicit choice stands"
    assert chosen_proxy("haproxy", haproxy_installed=False, tls=False) == "haproxy", "refused later, naming the fix"
    with pytest.raises(ValueError, match="one of auto, python, haproxy"):
        chosen_proxy("nginx", haproxy_installed=True, tls=False)


def test_up_refuses_bad_replica_counts_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    var_dir = tmp_path / "var"
    code = main(["up", "--var-dir", str(var_dir), "--api-replicas", "2", "--api-max-replicas", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "below its minimum" in err[0], err
    assert not var_dir.exists(), "nothing was created: the refusal came first"
