"""Node-aware placement (domain/placement.py): spread over nodes by their camera slots, pinned hosts, lost nodes."""

from __future__ import annotations

import math

import pytest

from domain.placement import LOCAL, HostLoad, camera_nodes, choose_node, choose_slot, lost_hosts


def test_a_camera_goes_to_the_node_with_the_lowest_share_of_its_slots_in_use() -> None:
    assert choose_node({"a": 10, "b": 10}, {"a": 3, "b": 2}) == "b"
    assert choose_node({"a": 10, "b": 40}, {"a": 3, "b": 8}) == "b", "a bigger node takes more: 8/40 < 3/10"
    assert choose_node({"a": 10, "b": 10}, {}) == "a", "ties go to the first node by id"


def test_spreading_fills_nodes_in_proportion_to_their_slots() -> None:
    capacity, load = {"a": 4.0, "b": 8.0}, {"a": 0, "b": 0}
    for _ in range(12):
        load[choose_node(capacity, load)] += 1
    assert load == {"a": 4, "b": 8}


def test_a_node_that_joins_takes_the_new_cameras() -> None:
    capacity, load = {"a": 10.0, "b": 10.0}, {"a": 5, "b": 5}
    capacity["c"] = 10.0
    placed = []
    for _ in range(3):
        node = choose_node(capacity, load)
        load[node] = load.get(node, 0) + 1
        placed.append(node)
    assert placed == ["c", "c", "c"]


def test_full_nodes_still_record_on_the_least_loaded_one() -> None:
    assert choose_node({"a": 2, "b": 4}, {"a": 2, "b": 4}) == "a", "over the soft limit beats not recording"
    assert choose_node({"a": 2, "b": 4}, {"a": 2, "b": 3}) == "b", "a node with room comes first"
    with pytest.raises(ValueError, match="no node"):
        choose_node({}, {})


def test_a_host_is_filled_only_from_its_own_node_and_new_slots_are_never_reused() -> None:
    hosts = {0: HostLoad("a", 2), 1: HostLoad("b", 1), 2: HostLoad("a", 1)}
    assert choose_slot(hosts, "a", 2) == 2
    assert choose_slot(hosts, "b", 2) == 1
    assert choose_slot(hosts, "c", 2) == 3, "a node without hosts gets a new one"
    assert choose_slot(hosts, "c", 2, first_free=7) == 7, "forgotten slots 3–6 stay unused"
    assert choose_slot({}, "a", 1, first_free=4) == 4


def test_hosts_of_a_node_that_is_gone_are_lost_local_ones_never() -> None:
    assert lost_hosts({0: "a", 1: "b", 2: "a", 3: LOCAL}, {"b"}) == [0, 2]
    assert lost_hosts({0: "a"}, {"a", "b"}) == []


def test_nodes_offering_camera_slots_are_read_from_rays_node_table() -> None:
    nodes = [{"NodeID": "head", "Alive": True, "Resources": {"CPU": 2.0}},
             {"NodeID": "w1", "Alive": True, "Resources": {"CPU": 1.0, "camera_slots": 4.0}},
             {"NodeID": "w2", "Alive": False, "Resources": {"camera_slots": 4.0}},
             {"NodeID": "w3", "Alive": True, "Resources": {"camera_slots": 0.0}}]
    assert camera_nodes(nodes) == {"w1": 4.0}
    assert camera_nodes(nodes[:1]) == {LOCAL: math.inf}, "one machine: hosts go wherever Ray puts them"
    assert choose_node(camera_nodes([]), {}) == LOCAL
