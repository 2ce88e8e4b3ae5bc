"""One camera's recording: ingest, spool, uploads, health and live view, each a part with one job.

- ``ingest``: the thread (PyAV blocks) that records runs into the camera's spool
  and reconnects;
- ``uploader``: stores each closed spool chunk (object, index row, then the file
  is deleted), retrying while the store or PostgreSQL is down;
- ``health_monitor``: the thread-safe way into the health machine, ticked for
  stalls and offline, and the metrics refresh;
- ``transitions``: stores each health transition in status history and
  publishes it on the tenant's event stream;
- ``live_view``: the live feed the ingest thread writes and viewers long-poll;
- ``handoff``: how the ingest thread's calls reach the event loop;
- ``supervisor``: composes them, starts and stops them, and reports status.
"""

from actors.camera.supervisor import CameraSupervisor, MetricsSink

__all__ = ["CameraSupervisor", "MetricsSink"]
