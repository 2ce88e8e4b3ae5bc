#!/bin/sh
# Roles of the GT-Vision image (docker-compose.yml):
#   head             a Ray head (no camera slots: cameras go to workers), in the foreground
#   worker           a Ray worker joining RAY_HEAD (host:port) and offering CAMERA_SLOTS cameras
#   up [ARGS…]       `gtvision up --address auto` on the head: the platform on the running cluster
#   anything else    run as a command (e.g. `gtvision status`)
set -eu

RAY_PORT="${RAY_PORT:-6380}"  # not 6379: that is Redis's port (docs/architecture.md)
export RAY_worker_niceness="${RAY_worker_niceness:-0}"  # camera hosts and replicas at ordinary priority (docs/running.md)

case "${1:-head}" in
  head)
    exec ray start --head --block --port="$RAY_PORT" --dashboard-host=0.0.0.0 \
      --resources='{"camera_slots": 0}'
    ;;
  worker)
    : "${RAY_HEAD:?set RAY_HEAD to the head's host:port}"
    mkdir -p "$GTVISION_SPOOL_DIR"
    exec ray start --block --address="$RAY_HEAD" --resources="{\"camera_slots\": ${CAMERA_SLOTS:-50}}"
    ;;
  up)
    shift
    # the Ray head in the same container runs the driver: `--address auto` finds it
    ray start --head --port="$RAY_PORT" --dashboard-host=0.0.0.0 --resources='{"camera_slots": 0}'
    exec gtvision up --address auto --host 0.0.0.0 "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
