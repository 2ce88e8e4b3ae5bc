"""The ``gtvision_*`` series that this node's actors export through Ray's metrics agent, as our scrape shows them.

Actors (camera hosts, the Fleet, the LPR writer, retention, the clip exporter)
record with ``ray.util.metrics``; Ray's agent on each node serves them with a
``ray_`` prefix, beside hundreds of Ray's own series, and labelled per worker
process (``WorkerId``, ``SessionName``, ``otel_*``…). The API's ``/metrics``
takes only ours, under their own names and types, with Ray's bookkeeping
labels dropped and the per-process series added up (counters, histograms) or
the largest kept (gauges: the same gauge from two processes is a stale copy,
e.g. a camera that moved host), so one scrape target per node shows one series
per thing.
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
_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def ours(exposition: str) -> list[Metric]:
    """Our metric families out of a Ray agent's exposition, renamed, typed and merged across worker processes.

    Actors send counters and histograms as gauges of their running totals (actors/metrics.py: Ray's agent forgets
    what is not re-sent), so the types come back from the names: a gauge ``…_total`` is a counter, gauges
    ``…_bucket``/``…_sum``/``…_count`` of one base are a histogram."""
    wanted = "\n".join(line for line in exposition.splitlines() if _OURS in line)
    parsed = [(family.name[len(_RAY_PREFIX):], family) for family in text_string_to_metric_families(wanted)
              if family.name.startswith(_OURS)]
    names = {name for name, _ in parsed}
    merged: dict[str, Metric] = {}
    totals: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    for name, family in parsed:
        base, kind = _typed(name, family.type, names)
        if base not in merged:
            merged[base], totals[base] = Metric(base, family.documentation, kind), {}
        into = totals[base]
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items()
                                  if k not in _RAY_LABELS and not k.startswith("otel_")))
            key = (sample.name[len(_RAY_PREFIX):], labels)
            if kind == "gauge":  # the same gauge from two processes: the other is a stale copy
                into[key] = max(into.get(key, sample.value), sample.value)
            else:
                into[key] = into.get(key, 0.0) + sample.value
    for base, family in merged.items():
        for (sample_name, labels), value in totals[base].items():
            family.add_sample(sample_name, dict(labels), value)
    return list(merged.values())


def _typed(name: str, kind: str, names: set[str]) -> tuple[str, str]:
    """(family name, Prometheus type) of a family as Ray exported it."""
    if kind != "gauge":
        return name, kind
    if name.endswith("_total"):
        return name.removesuffix("_total"), "counter"
    for suffix in _HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and f"{base}_bucket" in names:
            return base, "histogram"
    return name, "gauge"


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
