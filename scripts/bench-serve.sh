#!/usr/bin/env bash
# Measures `waldur serve` from a cold start on an empty data directory:
# time until /health-check/ answers 200, resident memory once idle and after
# a minute of 50 clients (internal/tools/httpload), and the binary's size.
set -euo pipefail
bin=$(realpath "${1:-bin/waldur}")
loader=$(realpath "${2:-bin/httpload}")
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http=$(free_port); tport=$(free_port); ui=$(free_port)
cd "$work"
start=$(date +%s%N)
WALDUR_HTTP_ADDR=127.0.0.1:$http WALDUR_EMBEDDED_TEMPORAL_ADDR=127.0.0.1:$tport WALDUR_TEMPORAL_UI_ADDR=127.0.0.1:$ui \
  "$bin" serve >serve.out 2>serve.err &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do
  if curl -sf -o /dev/null "http://127.0.0.1:$http/health-check/"; then break; fi
  if ! kill -0 $pid 2>/dev/null; then cat serve.err >&2; exit 1; fi
  sleep 0.02
done
ready=$(date +%s%N)
curl -sf -o /dev/null "http://127.0.0.1:$http/health-check/"
ui_code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ui/")
# Idle: let start-up work (schema, namespace, pollers) settle, then read RSS.
sleep 5
rss_kb=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
# Loaded: 50 clients for LOAD_SECONDS (default 60) on the lists a portal and
# the site agents read, as the first start's staff user; then RSS again.
load_s=${LOAD_SECONDS:-60}
token=$(awk '/API token/ {print $3}' serve.out serve.err 2>/dev/null | head -n 1)
load_line="skipped (no token in the first start's banner)"
if [ -n "$token" ] && [ "$load_s" -gt 0 ]; then
  base="http://127.0.0.1:$http/api"
  load_line=$("$loader" -c 50 -d "${load_s}s" -token "$token" "$base/projects/?page_size=50" "$base/customers/" \
    "$base/marketplace-orders/" "$base/marketplace-resources/" "$base/marketplace-public-offerings/" "$base/users/me/" 2>&1 || true)
fi
loaded_kb=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
stop_start=$(date +%s%N)
kill -INT $pid; wait $pid || true
stopped=$(date +%s%N)
printf 'serve: time to healthy  %6.2f s (cold start, empty ./data)\n' "$(echo "($ready-$start)/1000000000" | bc -l)"
printf 'serve: idle RSS         %6.1f MB\n' "$(echo "$rss_kb/1024" | bc -l)"
printf 'serve: RSS after load   %6.1f MB (%s)\n' "$(echo "$loaded_kb/1024" | bc -l)" "$load_line"
printf 'serve: binary size      %6.1f MB (%s)\n' "$(echo "$(stat -c %s "$bin")/1048576" | bc -l)" "$bin"
printf 'serve: clean stop       %6.2f s (SIGINT to exit)\n' "$(echo "($stopped-$stop_start)/1000000000" | bc -l)"
printf 'serve: Temporal UI      HTTP %s\n' "$ui_code"
