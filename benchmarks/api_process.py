"""The API alone in a process of its own, as a Serve replica runs it: ``create_app(settings)`` under uvicorn.

benchmarks/fairness.py starts it so the API's event loop is not the
measuring clients' or the flooding city's. Settings come as one JSON object of
``domain.settings.Settings`` fields.

    python -m benchmarks.api_process PORT '{"database_url": …, …}'
"""

from __future__ import annotations

import json
import sys

import uvicorn

from domain.settings import Settings
from serve.app import create_app


def main(port: int, settings: dict[str, object]) -> None:
    uvicorn.run(create_app(Settings(**settings)), host="127.0.0.1", port=port, log_level="warning")  # type: ignore[arg-type]


if __name__ == "__main__":
    main(int(sys.argv[1]), json.loads(sys.argv[2]))
