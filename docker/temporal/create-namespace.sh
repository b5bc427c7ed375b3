#!/bin/sh
# One-shot job of the `temporal-namespace` service (temporalio/admin-tools image).
#
# Waits until the Temporal frontend reports SERVING, then registers the namespace Waldur
# uses (WALDUR_TEMPORAL_NAMESPACE) unless it already exists. Safe to repeat.
#
# Environment (set in docker/compose.yaml):
#   TEMPORAL_ADDRESS              frontend host:port      (default temporal:7233)
#   DEFAULT_NAMESPACE             namespace to register   (default "default")
#   DEFAULT_NAMESPACE_RETENTION   closed-workflow retention, Go duration (default 168h)
#   HEALTH_ATTEMPTS               health probes before giving up, 2s apart (default 60)
#   NAMESPACE_SETTLE_SECONDS      pause after creating the namespace (default 15): Temporal
#                                 documents that registration takes up to 15s to propagate,
#                                 and workers polling a namespace that is not yet visible fail.
set -eu

ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
NAMESPACE="${DEFAULT_NAMESPACE:-default}"
RETENTION="${DEFAULT_NAMESPACE_RETENTION:-168h}"
ATTEMPTS="${HEALTH_ATTEMPTS:-60}"

echo "temporal-namespace: waiting for ${ADDRESS}"
attempt=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "temporal-namespace: ${ADDRESS} is not healthy after ${attempt} attempts" >&2
    temporal operator cluster health --address "$ADDRESS" >&2 || true
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
  echo "temporal-namespace: namespace '${NAMESPACE}' already exists"
else
  echo "temporal-namespace: creating namespace '${NAMESPACE}' (retention ${RETENTION})"
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"
  sleep "${NAMESPACE_SETTLE_SECONDS:-15}"
  echo "temporal-namespace: namespace '${NAMESPACE}' registered"
fi
