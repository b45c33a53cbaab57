#!/usr/bin/env bash
# Side-by-side PromQL range-query latency: the real Prometheus (HTTP API over backfilled blocks)
# against Pharos' engine (in process, over MemStorage and over Pharos' TSDB opened on a copy of
# the same backfilled blocks), on identical synthetic data
# (promqltest::synth: counters, gauges, a classic histogram; INSTANCES x 184 series at 15 s).
#
# Usage: bench/promql-vs-prometheus.sh [INSTANCES=22] [HOURS=24] [RUNS=7]
# Needs /usr/bin/prometheus and /usr/bin/promtool (or PROMETHEUS_BIN / PROMTOOL_BIN).
# Prints one line per query and range: median ms of each side and the ratios pharos/prometheus
# (over MemStorage and over the TSDB). Also prints the load average before and after.
set -euo pipefail

INSTANCES=${1:-22}
HOURS=${2:-24}
RUNS=${3:-7}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
PROMTOOL_BIN=${PROMTOOL_BIN:-/usr/bin/promtool}
START_MS=1699999980000
END_MS=$((START_MS + HOURS * 3600000))
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target}

QUERIES=(
  'rate(http_requests_total[5m])'
  'sum by (method, status) (rate(http_request_duration_seconds_count[5m]))'
  'histogram_quantile(0.99, sum by (le, method) (rate(http_request_duration_seconds_bucket[5m])))'
  'count({__name__=~".+"})'
)
# range_ms:step_ms pairs
RANGES=("3600000:15000" "86400000:60000")

cd "$(dirname "$0")/.."
cargo build -q --release -p promqltest --example promql_bench
BENCH="$CARGO_TARGET_DIR/release/examples/promql_bench"
FLAGS=(--instances "$INSTANCES" --hours "$HOURS" --start-ms "$START_MS")

WORK=$(mktemp -d)
PROM_PID=""
cleanup() {
  if [ -n "$PROM_PID" ]; then kill "$PROM_PID" 2>/dev/null || true; wait "$PROM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BENCH" "${FLAGS[@]}" write "$WORK/data.om"
"$PROMTOOL_BIN" tsdb create-blocks-from openmetrics --max-block-duration=24h "$WORK/data.om" "$WORK/tsdb" >/dev/null
cp -r "$WORK/tsdb" "$WORK/tsdb-pharos"
printf 'global:\n  evaluation_interval: 1m\n' > "$WORK/prometheus.yml"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$PROMETHEUS_BIN" --storage.tsdb.path="$WORK/tsdb" --config.file="$WORK/prometheus.yml" \
  --web.listen-address="127.0.0.1:$PORT" --storage.tsdb.retention.time=100y \
  >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/-/ready" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %-92s %10s %10s %10s %8s %8s\n' range query prom_ms mem_ms tsdb_ms r_mem r_tsdb
for rs in "${RANGES[@]}"; do
  RANGE_MS=${rs%%:*}
  STEP_MS=${rs##*:}
  START_Q=$(( (END_MS - RANGE_MS) / 1000 ))
  END_Q=$(( END_MS / 1000 ))
  PHAROS=$("$BENCH" "${FLAGS[@]}" time "$RUNS" "$STEP_MS" "$RANGE_MS" "${QUERIES[@]}")
  PHAROS_TSDB=$("$BENCH" "${FLAGS[@]}" --tsdb "$WORK/tsdb-pharos" time "$RUNS" "$STEP_MS" "$RANGE_MS" "${QUERIES[@]}")
  i=0
  for q in "${QUERIES[@]}"; do
    # One warm-up request, then RUNS timed ones.
    curl -s -o /dev/null "http://127.0.0.1:$PORT/api/v1/query_range" --data-urlencode "query=$q" \
      -d start="$START_Q" -d end="$END_Q" -d step=$((STEP_MS / 1000))
    PROM_MS=$(for _ in $(seq 1 "$RUNS"); do
      curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/query_range" \
        --data-urlencode "query=$q" -d start="$START_Q" -d end="$END_Q" -d step=$((STEP_MS / 1000))
    done | awk '{print $1 * 1000}' | median)
    i=$((i + 1))
    PH_MS=$(echo "$PHAROS" | sed -n "${i}p" | cut -f1)
    TS_MS=$(echo "$PHAROS_TSDB" | sed -n "${i}p" | cut -f1)
    RATIO=$(awk -v a="$PH_MS" -v b="$PROM_MS" 'BEGIN {printf "%.3f", a / b}')
    RATIO_TS=$(awk -v a="$TS_MS" -v b="$PROM_MS" 'BEGIN {printf "%.3f", a / b}')
    printf '%-10s %-92s %10.1f %10.1f %10.1f %8s %8s\n' "$((RANGE_MS / 3600000))h/$((STEP_MS / 1000))s" "$q" "$PROM_MS" "$PH_MS" "$TS_MS" "$RATIO" "$RATIO_TS"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
