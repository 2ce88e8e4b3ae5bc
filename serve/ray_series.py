"""The ``gtvision_*`` series that this node's actors export through Ray's metrics agent, as our scrape shows them.

Actors (camera hosts, the Fleet, the LPR writer, retention, the clip exporter)
record with ``ray.util.metrics``; Ray's agent on each node serves them with a
``ray_`` prefix, beside hundreds of Ray's own series, and labelled per worker
process (``WorkerId``, ``SessionName``, ``otel_*``…). The API's ``/metrics``
takes only ours, under their own names, with Ray's bookkeeping labels dropped
and the per-process series added up (counters, histograms) or the largest
kept (gauges: the same gauge from two processes is a stale copy, e.g. a camera
that moved host), so one scrape target per node shows one series per thing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)

_RAY_PREFIX = "ray_"
_OURS = "ray_gtvision_"
_RAY_LABELS = frozenset({"Component", "NodeAddress", "SessionName", "Version", "WorkerId", "JobId", "ActorId"})
_FETCH_TIMEOUT_S = 3.0


def ours(exposition: str) -> list[Metric]:
    """Our metric families out of a Ray agent's exposition, renamed and merged across worker processes."""
    wanted = "\n".join(line for line in exposition.splitlines() if _OURS in line)
    families: list[Metric] = []
    for family in text_string_to_metric_families(wanted):
        if not family.name.startswith(_OURS):
            continue
        merged = Metric(family.name[len(_RAY_PREFIX):], family.documentation, family.type)
        totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items()
                                  if k not in _RAY_LABELS and not k.startswith("otel_")))
            key = (sample.name[len(_RAY_PREFIX):], labels)
            if family.type == "gauge":
                totals[key] = max(totals.get(key, sample.value), sample.value)
            else:
                totals[key] = totals.get(key, 0.0) + sample.value
        for (name, labels), value in totals.items():
            merged.add_sample(name, dict(labels), value)
        families.append(merged)
    return families


def render(families: Iterable[Metric]) -> bytes:
    """Families in Prometheus text format."""
    class _Fixed:
        def __init__(self, metrics: Iterable[Metric]) -> None:
            self._metrics = list(metrics)

        def collect(self) -> Iterator[Metric]:
            return iter(self._metrics)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))  # type: ignore[arg-type]
    return generate_latest(registry)


class RayNodeSeries:
    """Reads our series from the Ray metrics agent of the node this process runs on."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    @classmethod
    def of_this_node(cls) -> RayNodeSeries:
        """Find this node's agent (its address and export port, from Ray's node table); none outside Ray."""
        try:
            import ray

            if not ray.is_initialized():
                return cls(None)
            node_id = ray.get_runtime_context().get_node_id()
            node: dict[str, Any] = next(n for n in ray.nodes() if n.get("NodeID") == node_id)
            return cls(f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics")
        except Exception as exc:  # no Ray, or a node table without the port: the API's own series still show
            log.warning("Ray's metrics agent not found; /metrics shows the API's series only: %s", exc)
            return cls(None)

    async def exposition(self, client: httpx.AsyncClient) -> bytes:
        """Our series from the agent, or nothing if it does not answer (the scrape still gets the API's)."""
        if self.url is None:
            return b""
        try:
            response = await client.get(self.url, timeout=_FETCH_TIMEOUT_S)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("Ray's metrics agent at %s did not answer: %s", self.url, exc)
            return b""
        return render(ours(response.text))
