"""Creating a host actor (camera host, city host) the one way: named, found again if it exists, restarted
empty by Ray whenever it dies (the Fleet refills it), many calls at once, no CPU reserved."""

from __future__ import annotations

from typing import Any

import ray

from domain.settings import Settings


def host_actor(cls: type, name: str, settings: Settings, *args: Any, **kwargs: Any) -> Any:
    """A handle on the named host actor ``name`` running ``cls(settings, *args, **kwargs)``."""
    return (ray.remote(cls)
            .options(name=name, namespace=settings.namespace, get_if_exists=True, max_restarts=-1,
                     max_concurrency=1000, num_cpus=0)
            .remote(settings, *args, **kwargs))
