#!/usr/bin/env bash
# Build the GT-Vision image and bring the compose stack (docker-compose.yml) up, where a Docker daemon runs.
# Extra arguments go to `docker-compose up` (e.g. --scale is not used: each worker has its own spool volume).
set -euo pipefail
cd "$(dirname "$0")/.."
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
docker info >/dev/null 2>&1 || { echo "docker/up.sh: no Docker daemon answers (docker info failed)" >&2; exit 2; }
"${compose[@]}" config -q
"${compose[@]}" build
exec "${compose[@]}" up -d "$@"
